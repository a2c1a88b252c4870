"""Exponential moving average of a network's weights (for sampling and export)."""

from __future__ import annotations

import copy

import torch


class EMA:
    """Keeps ``shadow = beta * shadow + (1 - beta) * model`` for parameters; buffers are copied."""

    def __init__(self, model: torch.nn.Module, beta: float = 0.999):
        self.beta = beta
        self.shadow = copy.deepcopy(model).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module, beta: float | None = None) -> None:
        beta = self.beta if beta is None else beta
        ema_params = list(self.shadow.parameters())
        model_params = list(model.parameters())
        torch._foreach_lerp_(ema_params, model_params, 1.0 - beta)
        for b_ema, b in zip(self.shadow.buffers(), model.buffers(), strict=True):
            b_ema.copy_(b)


def ema_decay(*, beta: float, warmup: bool = False, step: int = 0, half_life_images: float = 0.0,
              rampup: float = 0.0, images_seen: int = 0, batch: int = 1) -> float:
    """The EMA decay for one step. With ``half_life_images > 0`` (StyleGAN2-ADA's ``ema_kimg``) the
    average halves its weight every that many images, the half-life ramping up as ``rampup`` times the
    images seen so far; otherwise ``beta``, with a warm-up of ``(1 + step) / (10 + step)`` so early
    averages are not dominated by the random initial weights."""
    if half_life_images > 0:
        half_life = float(half_life_images)
        if rampup > 0:
            half_life = min(half_life, images_seen * rampup)
        return 0.5 ** (batch / max(half_life, 1e-8))
    if warmup:
        beta = min(beta, (1.0 + step) / (10.0 + step))
    return beta
