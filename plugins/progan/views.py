"""The growing networks as modules of one tensor, at the stage and fade-in weight the trainer sets.

The GAN step, its penalties, EMA and export call G as ``z -> images`` and D as ``images -> scores``;
a :class:`ProGenerator` / :class:`ProDiscriminator` takes the resolution and ``alpha`` as arguments
(MSG-GAN: the whole pyramid). These views hold those values so the shared step need not know.
"""

from __future__ import annotations

import torch
from torch import nn

from . import pyramid


class GrowingGenerator(nn.Module):
    """A :class:`ProGenerator` as a module of ``z`` alone, at a resolution and fade-in weight the
    trainer sets (MSG-GAN: the whole pyramid, packed into one tensor)."""

    def __init__(self, generator: nn.Module, resolution: int, alpha: float = 1.0, msg: bool = False):
        super().__init__()
        self.generator = generator
        self.resolution = int(resolution)
        self.alpha = float(alpha)
        self.msg = msg

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.msg:
            return pyramid.pack(self.generator.forward_all(z))
        return self.generator(z, self.resolution, self.alpha)


class GrowingDiscriminator(nn.Module):
    """A :class:`ProDiscriminator` as a module of one image tensor at the trainer's fade-in weight
    (MSG-GAN: of a packed pyramid), so the GAN step and the gradient penalties call it like any D."""

    def __init__(self, discriminator: nn.Module, channels: int, msg: bool = False):
        super().__init__()
        self.discriminator = discriminator
        self.channels = channels
        self.alpha = 1.0
        self.msg = msg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.msg:
            return self.discriminator.forward_all(pyramid.unpack(x, self.channels))
        return self.discriminator(x, self.alpha)
