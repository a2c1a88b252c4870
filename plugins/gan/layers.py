"""Network layers shared by the GAN plugins' discriminators (DCGAN, ProGAN, third-party ones)."""

from __future__ import annotations

import torch
from torch import nn


def group_size_for(batch: int, group: int) -> int:
    """The largest group size <= ``group`` that divides the batch (so any batch size works)."""
    g = max(1, min(group, batch))
    while batch % g:
        g -= 1
    return g


class MinibatchStdDev(nn.Module):
    """Append one feature map holding the average stddev over groups of samples (Karras et al. 2018, sec. 3).

    Samples ``i`` and ``j`` share a group when ``i % M == j % M`` with ``M = N / group``
    (the layout of the official implementation). A D that sees batch statistics can tell
    a collapsed batch from a diverse one, which pushes G toward variety.
    """

    def __init__(self, group: int = 4, eps: float = 1e-8):
        super().__init__()
        self.group = group
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = group_size_for(n, self.group)
        y = x.reshape(g, -1, c, h, w).float()
        y = y - y.mean(dim=0, keepdim=True)
        std = torch.sqrt(y.pow(2).mean(dim=0) + self.eps)  # [M, C, H, W]
        std = std.mean(dim=(1, 2, 3)).to(x.dtype)  # [M]
        feat = std.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)  # sample i gets group i % M
        return torch.cat([x, feat], dim=1)


class PackedDiscriminator(nn.Module):
    """PacGAN (Lin et al. 2018): reshape ``[B, C, H, W]`` to ``[B/m, m*C, H, W]`` before D, so D scores
    groups of m samples. A collapsed generator's groups look alike, unlike real ones; D learns to tell."""

    def __init__(self, discriminator: nn.Module, pack: int):
        super().__init__()
        self.discriminator = discriminator
        self.pack = pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        return self.discriminator(x.reshape(b // self.pack, self.pack * c, h, w))
