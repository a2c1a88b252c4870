"""The growth schedule: which resolution is active and how far its new block has faded in.

All of it is a pure function of (stage index, images shown in that stage), the two
integers a checkpoint stores, so a run stopped mid-fade resumes on the same alpha.
This module must not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    resolutions: tuple[int, ...]  # e.g. (4, 8, 16, 32)
    fade_images: int
    stabilize_images: int
    first_stage_images: int
    batch_sizes: tuple[int, ...]  # one per resolution

    @classmethod
    def make(cls, *, start: int, target: int, fade_images: int, stabilize_images: int,
             first_stage_images: int = 0, batch_sizes: list[int] | tuple[int, ...] = (),
             default_batch: int = 64, msg: bool = False) -> Schedule:
        """The schedule from ``start`` to ``target``; MSG-GAN has one stage at ``target``."""
        resolutions = resolution_ladder(start, target)
        per_res = batch_size_table(target, batch_sizes, default_batch)
        if msg:
            return cls((target,), 0, 0, 0, (per_res[target],))
        return cls(resolutions, fade_images, stabilize_images, first_stage_images or stabilize_images,
                   tuple(per_res[r] for r in resolutions))

    @property
    def last(self) -> int:
        return len(self.resolutions) - 1

    def stage_images(self, stage: int) -> int:
        """Images shown in ``stage`` before the next one starts (the last stage never ends)."""
        if stage == 0:
            return self.first_stage_images
        return self.fade_images + self.stabilize_images

    def alpha(self, stage: int, images: int) -> float:
        """Fade-in weight of the newest block: 0 when the stage starts, 1 after fade_images."""
        if stage == 0 or self.fade_images <= 0:
            return 1.0
        return min(1.0, images / self.fade_images)

    def stage_done(self, stage: int, images: int) -> bool:
        return stage < self.last and images >= self.stage_images(stage)

    def total_growth_images(self) -> int:
        """Images until the last stage is fully faded in (its stabilization then lasts forever)."""
        return sum(self.stage_images(s) for s in range(self.last)) + (self.fade_images if self.last else 0)


def resolution_ladder(start: int, target: int) -> tuple[int, ...]:
    if target < 4 or target & (target - 1):
        raise ValueError(f"image_size must be a power of two >= 4 for progressive growing, got {target}")
    if start > target:
        start = target
    res, out = start, []
    while res <= target:
        out.append(res)
        res *= 2
    return tuple(out)


def batch_size_table(target: int, batch_sizes: list[int] | tuple[int, ...], default: int) -> dict[int, int]:
    """Resolution -> batch size: ``batch_sizes`` starts at 4x4 and its last value repeats; the run's
    ``batch_size`` caps every entry (so ``--batch-size 8`` means at most 8 images per step)."""
    table, res, i = {}, 4, 0
    while res <= target:
        table[res] = min(int(batch_sizes[min(i, len(batch_sizes) - 1)]), default) if batch_sizes else default
        res *= 2
        i += 1
    return table
