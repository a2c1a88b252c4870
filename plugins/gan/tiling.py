"""Tileable textures: real images rolled around, for generators whose images wrap around.

A generator with circular padding (``--set generator.tileable=true``) computes on a torus: its
images are periodic and tile without a seam. Its real images are given a random torus translation
each, so the data wraps around the same way and D cannot tell the two apart by their borders.
"""

from __future__ import annotations

import torch


def random_roll(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift every image by its own random offset, wrapping around."""
    b, _, h, w = images.shape
    dev = images.device
    dy = torch.randint(0, h, (b, 1), device=dev, generator=generator)
    dx = torch.randint(0, w, (b, 1), device=dev, generator=generator)
    rows = (torch.arange(h, device=dev).unsqueeze(0) + dy) % h  # [B, H]
    cols = (torch.arange(w, device=dev).unsqueeze(0) + dx) % w  # [B, W]
    batch = torch.arange(b, device=dev).reshape(b, 1, 1)
    return images[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()


def is_tileable(generator: torch.nn.Module) -> bool:
    """A generator says it makes tileable images with a true ``tileable`` attribute."""
    return bool(getattr(generator, "tileable", False))


def seam_differences(images: torch.Tensor) -> tuple[float, float]:
    """How visible the tiling seam is: the mean |difference| across it (last row and column against
    the first) and, for reference, across the image's middle lines, which sit at the same place of
    a 2x-upsampling network's pixel grid. A tileable image has the two about equal."""
    x = images.detach().float()
    m = x.shape[-1] // 2
    edge = (x[..., :, 0] - x[..., :, -1]).abs().mean() + (x[..., 0, :] - x[..., -1, :]).abs().mean()
    middle = (x[..., :, m - 1] - x[..., :, m]).abs().mean() + (x[..., m - 1, :] - x[..., m, :]).abs().mean()
    return float(edge) / 2, float(middle) / 2
