"""Differentiable augmentation of everything the discriminator sees (DiffAugment / ADA).

With a few hundred images D memorizes the training set within minutes and G learns nothing
useful from it. Augmenting real *and* generated images before every D call, with the same
differentiable ops, keeps D from memorizing while G is still trained through the ops
(Zhao et al. 2020, "Differentiable Augmentation"; Karras et al. 2020, "ADA").

Each op in a policy is applied to each image independently with probability ``p``; with
``p < 0.8`` the augmented distribution still tells the original one apart, so augmentations do
not leak into G's outputs. All randomness comes from one ``torch.Generator``, drawn in a fixed
amount per call, so a resumed run augments exactly as an uninterrupted one. ``p == 0`` returns
the input tensor itself.

Images are ``[B, C, H, W]`` in [-1, 1] (any channel count; colour ops treat the first three
channels as RGB and leave an alpha channel alone).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from artengine.errors import ConfigError

from .ada import AdaController, AdaSettings
from .config import AUGMENT_AUTO_BELOW, GanTrainerConfig
from .config import DEFAULT_AUGMENT_POLICY as DEFAULT_POLICY

Op = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]

TRANSLATION_RATIO = 0.125  # DiffAugment and ADA both shift by up to 1/8 of the image
CUTOUT_RATIO = 0.5  # DiffAugment: a square of half the image side


def _uniform(b: int, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(b, 1, 1, 1, device=x.device, generator=gen, dtype=torch.float32).to(x.dtype)


def _colour_view(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(colour channels, alpha or None): colour ops must not touch transparency."""
    if x.shape[1] in (2, 4):
        return x[:, :-1], x[:, -1:]
    return x, None


def _with_alpha(colour: torch.Tensor, alpha: torch.Tensor | None) -> torch.Tensor:
    return colour if alpha is None else torch.cat([colour, alpha], dim=1)


def brightness(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Add one offset in [-0.5, 0.5) to every pixel (DiffAugment's rand_brightness)."""
    colour, alpha = _colour_view(x)
    shifted = colour + (_uniform(x.shape[0], x, gen) - 0.5)
    return torch.where(mask, _with_alpha(shifted, alpha), x)


def saturation(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Scale the distance from the grey value by a factor in [0, 2)."""
    colour, alpha = _colour_view(x)
    mean = colour.mean(dim=1, keepdim=True)
    scaled = (colour - mean) * (_uniform(x.shape[0], x, gen) * 2.0) + mean
    return torch.where(mask, _with_alpha(scaled, alpha), x)


def contrast(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Scale the distance from the image's mean by a factor in [0.5, 1.5)."""
    colour, alpha = _colour_view(x)
    mean = colour.mean(dim=(1, 2, 3), keepdim=True)
    scaled = (colour - mean) * (_uniform(x.shape[0], x, gen) + 0.5) + mean
    return torch.where(mask, _with_alpha(scaled, alpha), x)


def _shift(x: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, pad_x: int, pad_y: int,
           padding: str) -> torch.Tensor:
    """Move each image by integer (dx, dy) pixels (|dx| <= pad_x, |dy| <= pad_y); new pixels are
    zeros (mid-grey) or the mirrored edge."""
    b, c, h, w = x.shape
    if pad_x == 0 and pad_y == 0:
        return x
    mode = "reflect" if padding == "reflect" and pad_x < w and pad_y < h else "constant"
    padded = F.pad(x, (pad_x, pad_x, pad_y, pad_y), mode=mode)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + (pad_y - dy).view(b, 1, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w) + (pad_x - dx).view(b, 1, 1)
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    # [B, H, W, C] gathered from padded [B, H', W', C], then back to [B, C, H, W]
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def _translate(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, padding: str) -> torch.Tensor:
    b, _, h, w = x.shape
    sx, sy = int(w * TRANSLATION_RATIO + 0.5), int(h * TRANSLATION_RATIO + 0.5)
    keep = mask.view(-1).long()
    dx = torch.randint(-sx, sx + 1, (b,), device=x.device, generator=gen) * keep
    dy = torch.randint(-sy, sy + 1, (b,), device=x.device, generator=gen) * keep
    return _shift(x, dx, dy, sx, sy, padding)


def translation(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Shift by up to 1/8 of the size, filling with zeros (DiffAugment's rand_translation)."""
    return _translate(x, mask, gen, "zeros")


def integer_translation(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Shift by up to 1/8 of the size, filling with the mirrored edge (ADA's 'xint')."""
    return _translate(x, mask, gen, "reflect")


def cutout(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Zero a square of half the image side at a random place, clipped at the border
    (DiffAugment's rand_cutout)."""
    b, _, h, w = x.shape
    ch, cw = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    top = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device, generator=gen) - ch // 2
    left = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device, generator=gen) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x.masked_fill(inside.unsqueeze(1) & mask, 0.0)


def flip(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror left-right."""
    return torch.where(mask, x.flip(3), x)


def rotate90(x: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Rotate by 90, 180 or 270 degrees (square images only)."""
    b, _, h, w = x.shape
    if h != w:
        raise ConfigError(f"the rot90 augmentation needs square images, got {h}x{w}",
                          hint="leave rot90 out of --augment")
    turns = torch.randint(1, 4, (b,), device=x.device, generator=gen)
    out = x
    for k in (1, 2, 3):
        chosen = (turns == k).view(b, 1, 1, 1) & mask
        out = torch.where(chosen, torch.rot90(x, k, dims=(2, 3)), out)
    return out


OPS: dict[str, Op] = {
    "brightness": brightness,
    "saturation": saturation,
    "contrast": contrast,
    "translation": translation,
    "xint": integer_translation,
    "cutout": cutout,
    "flip": flip,
    "rot90": rotate90,
}
#: names that stand for several ops
GROUPS = {
    "color": ("brightness", "saturation", "contrast"),
    "colour": ("brightness", "saturation", "contrast"),
    "geometric": ("flip", "rot90", "xint"),  # ADA's pixel blitting
}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation,cutout"`` -> the op names in order; one clear error for a bad name."""
    names: list[str] = []
    for part in (p.strip().lower() for p in policy.split(",")):
        if not part:
            continue
        if part in GROUPS:
            names.extend(GROUPS[part])
        elif part in OPS:
            names.append(part)
        else:
            choices = ", ".join([*GROUPS, *OPS])
            raise ConfigError(f"unknown augmentation {part!r} in {policy!r}",
                              hint=f"use a comma list of: {choices} (or auto / none)")
    if not names:
        raise ConfigError(f"augmentation policy {policy!r} names no augmentation",
                          hint="e.g. --augment color,translation,cutout, or --augment none")
    return tuple(dict.fromkeys(names))


class Augment:
    """A policy applied per image with probability ``p`` (read anew on every call, so an
    adaptive controller can change it between batches)."""

    def __init__(self, policy: str = DEFAULT_POLICY, p: float = 1.0):
        self.policy = policy
        self.ops = parse_policy(policy)
        self.p = float(p)

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.p <= 0.0:
            return x
        b = x.shape[0]
        for name in self.ops:
            draw = torch.rand(b, device=x.device, generator=gen)
            mask = (draw < self.p).view(b, 1, 1, 1)
            x = OPS[name](x, mask, gen)
        return x

    def describe(self) -> dict:
        return {"policy": self.policy, "ops": list(self.ops), "p": self.p}


def choose_augmentation(cfg: GanTrainerConfig, dataset_size: int, device: torch.device,
                        start_p: float | None = None) -> tuple[Augment | None, AdaController | None, str]:
    """What the GAN trainer's ``augment`` setting means for a dataset of ``dataset_size`` images:
    (the augmentation, its adaptive-p controller, a line saying why). ``auto`` augments datasets under
    AUGMENT_AUTO_BELOW images; ``augment_p >= 0`` fixes p, otherwise ADA adapts it from ``start_p``
    (a fine-tuned run's parent's last p, capped at ``ada_max_p``) or from 0."""
    choice = cfg.augment.strip().lower()
    if choice == "none":
        return None, None, "none"
    if choice == "auto":
        if dataset_size >= AUGMENT_AUTO_BELOW:
            return None, None, f"none (auto: {dataset_size:,} images, at least {AUGMENT_AUTO_BELOW:,})"
        policy, why = DEFAULT_POLICY, f"auto: {dataset_size:,} images, under {AUGMENT_AUTO_BELOW:,}"
    else:
        policy, why = cfg.augment, "asked for"
    if cfg.augment_p >= 0:
        return Augment(policy, cfg.augment_p), None, f"{policy} at fixed p={cfg.augment_p} ({why})"
    p0 = min(cfg.ada_max_p, max(0.0, start_p or 0.0))
    ada = AdaController(AdaSettings(target=cfg.ada_target, interval=cfg.ada_interval,
                                    images_to_full=cfg.ada_images, max_p=cfg.ada_max_p), device, p=p0)
    origin = f"{p0:g}, the parent's" if start_p is not None else "0"
    return Augment(policy, p0), ada, (f"{policy} with adaptive p from {origin} (target r_t {cfg.ada_target}, "
                                      f"at most {cfg.ada_max_p}; {why})")
