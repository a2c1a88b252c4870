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
