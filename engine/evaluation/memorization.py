"""Which samples copy which training images.

On a small folder a GAN can score well by reproducing its training images. For each sample we
find the nearest training image in feature space and divide that distance by the typical
distance between a real image and its nearest *other* real image (the median). A ratio near 0
is a copy; near 1 or above, the sample is as far from the data as real images are from each
other. The share of samples under :data:`COPY_RATIO` is the near-copy share; the same share
computed for the real images against each other is the dataset's own baseline (near-duplicate
files in the folder score here too).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import atomic

#: a sample closer to a training image than this fraction of the typical real-to-real
#: nearest-neighbour distance counts as a near-copy
COPY_RATIO = 0.5
CLOSEST_PAIRS = 8


@dataclass
class MemorizationReport:
    ratios: torch.Tensor  # [N] per sample: NN distance / typical real NN distance
    nearest: torch.Tensor  # [N] index of the nearest training image
    typical_real_distance: float
    real_ratios: torch.Tensor  # [M] the same ratio for each real image against the others
    threshold: float = COPY_RATIO

    @property
    def near_copy_share(self) -> float:
        return float((self.ratios < self.threshold).double().mean())

    @property
    def real_near_copy_share(self) -> float:
        return float((self.real_ratios < self.threshold).double().mean())

    def closest(self, n: int = CLOSEST_PAIRS) -> list[tuple[int, int, float]]:
        """(sample index, training index, ratio) of the ``n`` samples nearest to the data."""
        order = torch.argsort(self.ratios)[:n]
        return [(int(i), int(self.nearest[i]), float(self.ratios[i])) for i in order]

    def summary(self) -> dict[str, Any]:
        return {
            "near_copy_share": round(self.near_copy_share, 4),
            "near_copy_share_real": round(self.real_near_copy_share, 4),
            "nn_ratio_median": round(float(self.ratios.median()), 4),
            "nn_ratio_min": round(float(self.ratios.min()), 4),
            "copy_threshold": self.threshold,
            "closest_pairs": [{"sample": s, "train": t, "ratio": round(r, 4)} for s, t, r in self.closest()],
        }


def _nearest(a: torch.Tensor, b: torch.Tensor, *, exclude_self: bool = False,
             chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    dists, idx = [], []
    for i in range(0, a.shape[0], chunk):
        d = torch.cdist(a[i:i + chunk], b)
        if exclude_self:
            rows = torch.arange(d.shape[0])
            d[rows, rows + i] = float("inf")
        best = d.min(dim=1)
        dists.append(best.values)
        idx.append(best.indices)
    return torch.cat(dists), torch.cat(idx)


def memorization(fake: torch.Tensor, real: torch.Tensor, threshold: float = COPY_RATIO) -> MemorizationReport:
    """The report for sample features ``fake`` [N, D] against training features ``real`` [M, D]."""
    fake, real = fake.double(), real.double()
    real_nn, _ = _nearest(real, real, exclude_self=True)
    typical = float(real_nn.median())
    scale = max(typical, 1e-12)
    fake_nn, nearest = _nearest(fake, real)
    return MemorizationReport(ratios=fake_nn / scale, nearest=nearest, typical_real_distance=typical,
                              real_ratios=real_nn / scale, threshold=threshold)


def write_pairs_strip(path: str | Path, samples: torch.Tensor, train: torch.Tensor,
                      pairs: list[tuple[int, int, float]], gap: int = 2) -> Path:
    """One PNG: the closest samples on the top row, their nearest training images below
    (images in [0, 1]; RGBA stays transparent)."""
    from PIL import Image

    n = len(pairs)
    c, h, w = samples.shape[1:]
    canvas = torch.ones(c, 2 * h + gap, n * w + (n - 1) * gap)
    if c in (2, 4):
        canvas[-1] = 0.0  # the gaps are transparent
    for k, (s, t, _) in enumerate(pairs):
        x = k * (w + gap)
        canvas[:, :h, x:x + w] = samples[s].float().clamp(0, 1)
        canvas[:, h + gap:, x:x + w] = train[t].float().clamp(0, 1)
    array = canvas.mul(255).add(0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    image = Image.fromarray(array[:, :, 0] if c == 1 else array)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return atomic.write_bytes(path, buf.getvalue())
