"""The exported generator: z -> image in [0, 1] at the current stage, alpha baked in."""

from __future__ import annotations

import torch
from torch import nn


class StageGenerator(nn.Module):
    """Wraps a :class:`ProGenerator` at a fixed resolution and fade-in weight (the ONNX contract:
    ``z`` float32 [B, latent_dim] -> ``image`` float32 [B, C, H, W] in [0, 1])."""

    def __init__(self, generator: nn.Module, resolution: int, alpha: float):
        super().__init__()
        self.generator = generator
        self.resolution = int(resolution)
        self.alpha = float(alpha)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        img = self.generator(z, self.resolution, self.alpha)
        return ((img.float() + 1.0) * 0.5).clamp(0.0, 1.0)
