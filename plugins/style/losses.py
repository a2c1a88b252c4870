"""The three losses of neural style transfer, each a registered component.

Content and style losses compare features; by default each is divided by its target's
mean square so the same weights work for networks whose activations differ in scale
(torchvision VGG on normalised input vs the Caffe-style HED VGG on 0-255 input).
"""

from __future__ import annotations

import torch
from torch import nn


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``F F^T / (C H W)`` per image: ``[B, C, H, W] -> [B, C, C]``, computed in fp32."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w).float()
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


class ContentLoss(nn.Module):
    """Mean squared difference between features and the content image's features."""

    def __init__(self, cfg):
        super().__init__()
        self.normalize = cfg.normalize

    def target(self, features: torch.Tensor) -> torch.Tensor:
        return features.detach().float()

    def forward(self, features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = (features.float() - target).pow(2).mean()
        if self.normalize:
            loss = loss / target.pow(2).mean().clamp_min(1e-8)
        return loss


class GramStyleLoss(nn.Module):
    """Mean squared difference between Gram matrices (Gatys et al.)."""

    def __init__(self, cfg):
        super().__init__()
        self.normalize = cfg.normalize

    def target(self, features: torch.Tensor) -> torch.Tensor:
        return gram_matrix(features.detach())

    def forward(self, features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        gram = gram_matrix(features)
        loss = (gram - target).pow(2).mean(dim=(1, 2)).mean()
        if self.normalize:
            loss = loss / target.pow(2).mean().clamp_min(1e-12)
        return loss


class TotalVariationLoss(nn.Module):
    """Mean (squared or absolute) difference between neighbouring pixels: smooths away noise."""

    def __init__(self, cfg):
        super().__init__()
        self.power = cfg.power

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        dx = image[..., :, 1:] - image[..., :, :-1]
        dy = image[..., 1:, :] - image[..., :-1, :]
        if self.power == 1:
            return dx.abs().mean() + dy.abs().mean()
        return dx.abs().pow(self.power).mean() + dy.abs().pow(self.power).mean()
