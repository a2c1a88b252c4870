"""StyleGAN2's generator regularizer."""

from __future__ import annotations

import math

import torch


def path_length_penalty(img: torch.Tensor, ws: torch.Tensor, pl_mean: torch.Tensor,
                        decay: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Path-length regularization (Karras et al. 2020): a fixed-size step in W should move the image
    by a fixed amount in every direction. ``|J_w^T y|`` for random image-space ``y`` is pulled towards
    its running mean; returns the penalty and the updated (detached) mean."""
    noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
    (grads,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
    lengths = grads.float().square().sum(2).mean(1).sqrt()  # [B]
    mean = pl_mean.lerp(lengths.detach().mean(), decay)
    return (lengths - mean).square().mean(), mean

