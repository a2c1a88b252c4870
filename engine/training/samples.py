"""Sample grids: one PNG of a batch of images, written atomically into a run's samples/ folder."""

from __future__ import annotations

import io
from pathlib import Path

import torch

from .. import atomic


def save_grid(images: torch.Tensor, path: Path, *, value_range: tuple[float, float] = (-1.0, 1.0),
              nrow: int | None = None) -> Path:
    """Write ``images`` ``[B, C, H, W]`` (values in ``value_range``) as one PNG grid, ``nrow`` per row
    (default: as square as the count allows)."""
    from PIL import Image
    from torchvision.utils import make_grid

    lo, hi = value_range
    n = images.shape[0]
    nrow = nrow or max(1, int(round(n ** 0.5)))
    unit = (images.detach().float().cpu().clamp(lo, hi) - lo) / (hi - lo)
    grid = make_grid(unit, nrow=nrow, padding=2, pad_value=1.0)
    array = grid.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    if array.shape[2] == 1:
        array = array[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return atomic.write_bytes(path, buf.getvalue())
