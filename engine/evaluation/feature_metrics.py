"""Distances between a set of sample features and a set of real features.

- FD (:func:`.metrics.frechet_distance`): the FID formula, in any feature space.
  Biased upward when the real set is small, so it is reported with a warning below
  :data:`FD_MIN_REAL` images.
- KID (Binkowski et al. 2018): the unbiased squared MMD with the cubic polynomial kernel,
  averaged over random subsets; its standard deviation over the subsets says how much to trust it.
  Unbiased, so it means something for a few hundred images and is near 0 for two real sets.
- Precision and recall (Kynkaanniemi et al. 2019, k = 3): the share of samples that fall inside
  the real images' k-NN balls (quality) and of real images inside the samples' balls (coverage).
"""

from __future__ import annotations

import numpy as np
import torch

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
PR_K = 3
#: below this many real images FD is dominated by its bias (the covariance has 512 dimensions)
FD_MIN_REAL = 2000


def _poly_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a @ b.T / a.shape[1] + 1) ** 3


def _mmd2_unbiased(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    m, n = kxx.shape[0], kyy.shape[0]
    sum_xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    sum_yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sum_xx + sum_yy - 2 * kxy.mean())


#: up to this many images per side the three kernel matrices are computed once and indexed
FULL_KERNEL_MAX = 3000


def kid(fake: torch.Tensor, real: torch.Tensor, *, subsets: int = KID_SUBSETS,
        subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """(mean, standard deviation) of the unbiased KID over random subsets of both sets.

    Subsets hold ``subset_size`` images, or half of the smaller set when that is fewer, so that
    they differ and the standard deviation says something."""
    x, y = fake.double().cpu().numpy(), real.double().cpu().numpy()
    m = min(subset_size, min(x.shape[0], y.shape[0]) // 2)
    if m < 2:
        raise ValueError("KID needs at least 4 images on each side")
    rng = np.random.default_rng(seed)
    full = max(x.shape[0], y.shape[0]) <= FULL_KERNEL_MAX
    if full:
        kxx, kyy, kxy = _poly_kernel(x, x), _poly_kernel(y, y), _poly_kernel(x, y)
    values = []
    for _ in range(subsets):
        i = rng.choice(x.shape[0], m, replace=False)
        j = rng.choice(y.shape[0], m, replace=False)
        if full:
            values.append(_mmd2_unbiased(kxx[np.ix_(i, i)], kyy[np.ix_(j, j)], kxy[np.ix_(i, j)]))
        else:
            xs, ys = x[i], y[j]
            values.append(_mmd2_unbiased(_poly_kernel(xs, xs), _poly_kernel(ys, ys), _poly_kernel(xs, ys)))
    return float(np.mean(values)), float(np.std(values))


def _kth_neighbour_radii(feats: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each point to its k-th nearest other point of the same set."""
    d = torch.cdist(feats, feats)
    d.fill_diagonal_(float("inf"))
    k = min(k, feats.shape[0] - 1)
    return d.kthvalue(k, dim=1).values


def _inside_any_ball(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    return (torch.cdist(points, centres) <= radii.unsqueeze(0)).any(dim=1)


def precision_recall(fake: torch.Tensor, real: torch.Tensor, k: int = PR_K) -> tuple[float, float]:
    """Kynkaanniemi et al.'s improved precision and recall with k-NN balls."""
    fake, real = fake.double(), real.double()
    if fake.shape[0] < 2 or real.shape[0] < 2:
        raise ValueError("precision/recall need at least 2 images on each side")
    precision = _inside_any_ball(fake, real, _kth_neighbour_radii(real, k)).double().mean()
    recall = _inside_any_ball(real, fake, _kth_neighbour_radii(fake, k)).double().mean()
    return float(precision), float(recall)


def mean_pairwise(feats: torch.Tensor) -> float:
    """Mean distance between all pairs: how spread out a set is in the feature space."""
    n = feats.shape[0]
    if n < 2:
        return 0.0
    return float(torch.cdist(feats.double(), feats.double()).sum() / (n * (n - 1)))
