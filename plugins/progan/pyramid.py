"""MSG-GAN image pyramids packed into one tensor, so any registered loss's gradient
penalty (which interpolates two image tensors) works on all scales at once.

Each scale is nearest-upsampled to the top resolution and stacked along channels;
unpacking takes every ``f``-th pixel. The interpolate of two packed pyramids is the
packed interpolate of the pyramids, and the gradient with respect to a packed tensor
is non-zero only on the sampled pixels, so its norm is the norm over the pyramid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pack(images: list[torch.Tensor]) -> torch.Tensor:
    """Pyramid (4x4 first) -> ``[B, C * levels, S, S]``."""
    top = images[-1].shape[-1]
    return torch.cat([F.interpolate(im, scale_factor=top // im.shape[-1], mode="nearest")
                      if im.shape[-1] != top else im for im in images], dim=1)


def unpack(packed: torch.Tensor, channels: int) -> list[torch.Tensor]:
    """Inverse of :func:`pack`."""
    levels = packed.shape[1] // channels
    top = packed.shape[-1]
    out = []
    for k in range(levels):
        f = top // (4 * 2**k)
        out.append(packed[:, k * channels:(k + 1) * channels, ::f, ::f])
    return out
