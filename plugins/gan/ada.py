"""ADA's controller of the augmentation probability p (Karras et al. 2020, section 3).

The overfitting heuristic ``r_t = E[sign(D(real))]`` is near 0 while D cannot tell the training
images from generated ones and rises towards 1 as D memorizes them. Every ``interval`` batches
p moves up when ``r_t`` is above ``target`` and down otherwise, by a step sized so that p could
go from 0 to 1 in ``images_to_full`` real images. p starts at 0 and never exceeds ``max_p``
(above about 0.8 the augmentations start to leak into the generated images).

The sign sums stay on the training device between updates (no sync per step); under DDP they
are summed over all ranks before each update, so every rank keeps the same p. The state is a
handful of floats, saved in the checkpoint's JSON, so a resumed run adjusts p exactly as an
uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class AdaSettings:
    target: float = 0.6
    interval: int = 4
    images_to_full: int = 100_000
    max_p: float = 0.8


class AdaController:
    """Accumulates sign(D(real)) and moves p towards the target overfitting level."""

    def __init__(self, settings: AdaSettings, device: torch.device | str = "cpu", p: float = 0.0):
        self.settings = settings
        self.p = float(p)
        self.rt = 0.0  # r_t of the last update (0 before the first)
        self._signs = torch.zeros((), dtype=torch.float64, device=device)
        self._count = torch.zeros((), dtype=torch.float64, device=device)
        self._images = torch.zeros((), dtype=torch.float64, device=device)
        self._batches = 0

    def accumulate(self, d_real: torch.Tensor, images: int | None = None) -> None:
        """Add one batch of D's raw real-image outputs (logits, 0 = undecided); ``images`` is the
        number of real images behind them (more than the outputs when PacGAN packs them)."""
        d = d_real.detach().reshape(-1)
        self._signs += torch.sign(d).sum(dtype=torch.float64)
        self._count += d.numel()
        self._images += images if images is not None else d.numel()
        self._batches += 1

    def maybe_update(self) -> bool:
        """Every ``interval`` batches: adjust p from r_t and start a new window. True when it did."""
        if self._batches < self.settings.interval:
            return False
        totals = torch.stack([self._signs, self._count, self._images])
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(totals)
        signs, count, images = totals.tolist()
        if count > 0:
            self.rt = signs / count
            step = images / max(1, self.settings.images_to_full)
            direction = 1.0 if self.rt > self.settings.target else -1.0
            self.p = min(self.settings.max_p, max(0.0, self.p + direction * step))
        self._signs.zero_()
        self._count.zero_()
        self._images.zero_()
        self._batches = 0
        return True

    def state(self) -> dict[str, Any]:
        return {"p": self.p, "rt": self.rt, "signs": float(self._signs), "count": float(self._count),
                "images": float(self._images), "batches": self._batches}

    def load_state(self, state: dict[str, Any]) -> None:
        self.p = float(state["p"])
        self.rt = float(state.get("rt", 0.0))
        self._signs.fill_(float(state.get("signs", 0.0)))
        self._count.fill_(float(state.get("count", 0.0)))
        self._images.fill_(float(state.get("images", 0.0)))
        self._batches = int(state.get("batches", 0))
