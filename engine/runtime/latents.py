"""Deterministic latents: (seed, index) -> z, the same on every machine and run.

Each latent has its own numpy generator seeded with ``[seed, index]``, so image
``index`` of a render can be regenerated alone, whatever ``n`` was.
"""

from __future__ import annotations

import numpy as np


def latent(seed: int, index: int, dim: int, truncation: float = 0.0) -> np.ndarray:
    """One float32 latent of length ``dim``; ``truncation > 0`` resamples values beyond it (BigGAN's trick)."""
    rng = np.random.default_rng([int(seed), int(index)])
    z = rng.standard_normal(dim).astype(np.float32)
    if truncation and truncation > 0:
        outside = np.abs(z) > truncation
        while outside.any():
            z[outside] = rng.standard_normal(int(outside.sum())).astype(np.float32)
            outside = np.abs(z) > truncation
    return z


def latents(seed: int, n: int, dim: int, truncation: float = 0.0, start: int = 0) -> np.ndarray:
    """``n`` latents ``[n, dim]`` for indices ``start .. start+n-1``."""
    return np.stack([latent(seed, start + i, dim, truncation) for i in range(n)]).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation: stays on the shell where Gaussian latents live (linear would shrink)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = float(np.clip(np.dot(a / na, b / nb), -1.0, 1.0))
    omega = np.arccos(cos)
    if omega < 1e-6:
        return ((1 - t) * a + t * b).astype(np.float32)
    s = np.sin(omega)
    return ((np.sin((1 - t) * omega) / s) * a + (np.sin(t * omega) / s) * b).astype(np.float32)


def interpolation_path(keys: np.ndarray, frames: int) -> np.ndarray:
    """A looping path through ``keys`` [K, dim]: ``frames`` slerp steps per segment, K segments."""
    k = len(keys)
    out = [slerp(keys[i], keys[(i + 1) % k], f / frames) for i in range(k) for f in range(frames)]
    return np.stack(out).astype(np.float32)
