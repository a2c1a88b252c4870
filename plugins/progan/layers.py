"""The ProGAN building blocks: equalized learning rate and pixel norm (minibatch stddev is the GAN
plugin's shared :class:`~artengine.plugins.gan.layers.MinibatchStdDev`).

Equalized learning rate (Karras et al. 2018, sec. 4.1): weights are drawn from
N(0, 1) and multiplied by the He constant ``gain / sqrt(fan_in)`` at every
forward pass instead of once at init. Adam's update size is then the same for
every layer, whatever its fan-in, which is what keeps a growing network stable.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

HE_GAIN = math.sqrt(2.0)


class EqualizedConv2d(nn.Module):
    """A convolution whose weight is scaled at runtime by ``gain / sqrt(in_channels * k * k)``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, gain: float = HE_GAIN):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class EqualizedLinear(nn.Module):
    """A linear layer whose weight is scaled at runtime by ``gain / sqrt(in_features)``."""

    def __init__(self, in_features: int, out_features: int, *, gain: float = HE_GAIN):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = gain / math.sqrt(in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class PixelNorm(nn.Module):
    """Normalize each pixel's feature vector to unit mean square (sec. 4.2), so G's signal
    magnitudes cannot escalate in the G/D competition."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


def resize_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """Box-filter ``x`` down to ``size`` (how real images reach a lower stage's resolution)."""
    while x.shape[-1] > size:
        x = downsample2x(x)
    return x
