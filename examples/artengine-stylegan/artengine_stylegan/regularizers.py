"""StyleGAN2's generator regularizer and the tileable-texture data transform."""

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


def random_roll(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift every image by its own random offset, wrapping around (a torus translation): the data a
    tileable generator, whose images wrap around too, should match."""
    b, _, h, w = images.shape
    dev = images.device
    dy = torch.randint(0, h, (b, 1), device=dev, generator=generator)
    dx = torch.randint(0, w, (b, 1), device=dev, generator=generator)
    rows = (torch.arange(h, device=dev).unsqueeze(0) + dy) % h  # [B, H]
    cols = (torch.arange(w, device=dev).unsqueeze(0) + dx) % w  # [B, W]
    batch = torch.arange(b, device=dev).reshape(b, 1, 1)
    return images[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()
