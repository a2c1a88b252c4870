"""Mode-collapse numbers: mode histogram KL, Frechet distance, pairwise diversity."""

from __future__ import annotations

import numpy as np
import torch


def mode_histogram(modes: torch.Tensor, num_modes: int) -> np.ndarray:
    """Counts of each mode id in ``modes`` (ints 0..num_modes-1)."""
    return torch.bincount(modes.long().cpu(), minlength=num_modes).numpy()[:num_modes]


def kl_to_uniform(counts: np.ndarray) -> float:
    """KL(p || uniform) of a histogram (the PacGAN/VEEGAN reverse KL): 0 when every mode is equally
    frequent, log(K) when all samples fall in one mode."""
    p = counts.astype(np.float64) / max(1, counts.sum())
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] * len(counts))))


def resampled_kl(modes: torch.Tensor, num_modes: int, n: int, seed: int = 0) -> float:
    """:func:`kl_to_uniform` of ``n`` draws (with replacement) from real images' modes: real data's
    own score at the generator's sample count, so both carry the same finite-sample bias and the
    classifier's mistakes on real images count against real data too."""
    idx = torch.randint(0, modes.shape[0], (n,), generator=torch.Generator().manual_seed(seed))
    return kl_to_uniform(mode_histogram(modes[idx], num_modes))


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets [N, D] (the FID formula)."""
    a64, b64 = a.double().cpu().numpy(), b.double().cpu().numpy()
    mu1, mu2 = a64.mean(0), b64.mean(0)
    if min(a64.shape[0], b64.shape[0]) < a64.shape[1]:
        # fewer images than dimensions: with centred, scaled data X, Y (S1 = X'X, S2 = Y'Y) the
        # eigenvalues of S1 S2 are the squared singular values of X Y', so tr sqrt(S1 S2) is the
        # nuclear norm of the small N1 x N2 matrix X Y' (no D x D decomposition)
        x = (a64 - mu1) / np.sqrt(max(1, a64.shape[0] - 1))
        y = (b64 - mu2) / np.sqrt(max(1, b64.shape[0] - 1))
        tr_covmean = np.linalg.svd(x @ y.T, compute_uv=False).sum()
        return float(((mu1 - mu2) ** 2).sum() + (x * x).sum() + (y * y).sum() - 2 * tr_covmean)
    s1, s2 = np.cov(a64, rowvar=False), np.cov(b64, rowvar=False)
    # tr sqrt(s1 s2) = sum sqrt(eig(sqrt(s1) s2 sqrt(s1))), all symmetric PSD: no complex sqrtm needed
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    mid = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh((mid + mid.T) / 2)
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def mean_pairwise_distance(images: torch.Tensor, size: int = 32) -> float:
    """Mean L2 distance between all pairs of images in [0, 1] (resized to ``size``, per pixel RMS):
    near 0 for a collapsed generator, similar to the real data's value for a healthy one."""
    x = images.float()
    if x.shape[-1] != size:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                                            align_corners=False)
    flat = x.flatten(1)
    d = torch.cdist(flat, flat) / flat.shape[1] ** 0.5
    n = flat.shape[0]
    return float(d.sum() / max(1, n * (n - 1)))
