"""The Johnson et al. (2016) image transformation network for fast style transfer.

Downsampling convolutions, residual blocks, then upsample + convolution (not transposed
convolutions, which leave checkerboard artifacts), with instance normalization throughout
(Ulyanov et al.). Each upsampling goes to the exact size of the matching encoder stage, so
any input height and width comes back unchanged, also in the exported ONNX graph.
"""

from __future__ import annotations

import copy

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


class SpaceToDepthConv(nn.Module):
    """Reflection pad + a stride-1 conv with an odd kernel, computed exactly on the 2x2 space-to-depth of the
    padded input: a (k+1)/2 kernel over 4x the channels gives the 4 output phases, interleaved back.

    For the output layer (9x9, 16 -> 3 channels) onnxruntime's CPU convolution runs at a sixth of the speed
    of the network's other convolutions (81 taps into 3 output channels); as a 5x5 conv with 64 inputs and
    12 outputs it takes 20-30 ms less of a 512 px photo's 0.26 s on a 2-core AVX2 CPU
    (docs/benchmarks.md). Exact in real arithmetic; the exporter checks it against the original."""

    def __init__(self, pad: nn.Module, conv: nn.Conv2d):
        super().__init__()
        k = conv.kernel_size[0]
        if conv.kernel_size != (k, k) or k % 2 == 0 or conv.stride != (1, 1) or conv.groups != 1 \
                or conv.padding != (0, 0) or conv.dilation != (1, 1):
            raise ValueError("SpaceToDepthConv takes an unpadded stride-1 conv with an odd square kernel")
        w = conv.weight.detach()  # [O, C, k, k]
        o, c = w.shape[:2]
        taps = (k + 1) // 2
        big = torch.zeros(o, 2, 2, c, 2, 2, taps, taps, dtype=w.dtype)
        for a in (0, 1):  # output phase (row, column) = (a, e); input phase (p, q); half-grid tap (m, n)
            for e in (0, 1):
                for i in range(k):
                    for j in range(k):
                        m, p = divmod(a + i, 2)
                        n, q = divmod(e + j, 2)
                        big[:, a, e, :, p, q, m, n] = w[:, :, i, j]
        self.pad = pad
        self.conv = nn.Conv2d(4 * c, 4 * o, taps, bias=conv.bias is not None)
        self.conv.weight.data = big.reshape(4 * o, 4 * c, taps, taps)
        if conv.bias is not None:
            self.conv.bias.data = conv.bias.detach().repeat_interleave(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        padded = F.pad(self.pad(x), (0, w % 2, 0, h % 2))  # an even size; the extra row/column is cropped
        return F.pixel_shuffle(self.conv(F.pixel_unshuffle(padded, 2)), 2)[:, :, :h, :w]


def for_export(net: TransformerNet) -> TransformerNet:
    """A copy of ``net`` with its output layer as :class:`SpaceToDepthConv` (same numbers, faster in
    onnxruntime); ``net`` itself is untouched."""
    fast = copy.deepcopy(net).eval()
    pad, conv = fast.out[0], fast.out[1]
    with torch.no_grad():
        fast.out = SpaceToDepthConv(pad, conv)
    return fast


class StyleExport(nn.Module):
    """What export hands to ONNX: ``image [B, 3, H, W]`` in [0, 1] -> stylized ``image``, same shape.
    It holds a copy of ``net`` with the output layer rewritten by :func:`for_export`, or with
    ``fast_output=False`` the network as trained (benches compare the two)."""

    def __init__(self, net: TransformerNet, fast_output: bool = True):
        super().__init__()
        self.net = for_export(net) if fast_output else copy.deepcopy(net).eval()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image).clamp(0.0, 1.0)
