"""The Johnson et al. (2016) image transformation network for fast style transfer.

Downsampling convolutions, residual blocks, then upsample + convolution (not transposed
convolutions, which leave checkerboard artifacts), with instance normalization throughout
(Ulyanov et al.). Each upsampling goes to the exact size of the matching encoder stage, so
any input height and width comes back unchanged, also in the exported ONNX graph.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvLayer(nn.Sequential):
    """Reflection pad + conv (+ instance norm + ReLU)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, *, norm: bool = True, relu: bool = True):
        layers: list[nn.Module] = [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride)]
        if norm:
            layers.append(nn.InstanceNorm2d(cout, affine=True))
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(ConvLayer(channels, channels, 3), ConvLayer(channels, channels, 3, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TransformerNet(nn.Module):
    """``image`` [B, 3, H, W] in [0, 1] -> stylized ``image`` [B, 3, H, W] in [0, 1]."""

    def __init__(self, width: int = 32, residual_blocks: int = 5):
        super().__init__()
        self.enc1 = ConvLayer(3, width, 9)
        self.enc2 = ConvLayer(width, width * 2, 3, stride=2)
        self.enc3 = ConvLayer(width * 2, width * 4, 3, stride=2)
        self.res = nn.Sequential(*[ResidualBlock(width * 4) for _ in range(residual_blocks)])
        self.dec2 = ConvLayer(width * 4, width * 2, 3)
        self.dec1 = ConvLayer(width * 2, width, 3)
        self.out = ConvLayer(width, 3, 9, norm=False, relu=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(image * 2.0 - 1.0)
        e2 = self.enc2(e1)
        y = self.res(self.enc3(e2))
        y = self.dec2(F.interpolate(y, size=e2.shape[-2:], mode="nearest"))
        y = self.dec1(F.interpolate(y, size=e1.shape[-2:], mode="nearest"))
        return torch.sigmoid(self.out(y))


class StyleExport(nn.Module):
    """What export hands to ONNX: ``image [B, 3, H, W]`` in [0, 1] -> stylized ``image``, same shape."""

    def __init__(self, net: TransformerNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image).clamp(0.0, 1.0)
