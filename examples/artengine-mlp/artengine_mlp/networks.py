"""The networks themselves (imported only when a run builds them)."""

from __future__ import annotations

import torch
from torch import nn


def _mlp(sizes: list[int], last_activation: nn.Module | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if last_activation is not None:
        layers.append(last_activation)
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z -> fully connected layers -> tanh image."""

    def __init__(self, cfg, *, image_size: int, channels: int):
        super().__init__()
        self.latent_dim = cfg.latent_dim
        self.shape = (channels, image_size, image_size)
        out = channels * image_size * image_size
        self.net = _mlp([cfg.latent_dim] + [cfg.hidden] * cfg.layers + [out], nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.shape)


class MLPDiscriminator(nn.Module):
    """image -> fully connected layers -> one logit."""

    def __init__(self, cfg, *, image_size: int, channels: int):
        super().__init__()
        self.net = _mlp([channels * image_size * image_size] + [cfg.hidden] * cfg.layers + [1], None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)
