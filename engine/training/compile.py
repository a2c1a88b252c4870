"""``--compile``: torch.compile a trainer's step modules, falling back to eager where the compiler fails.

The compiler fails in ways a user cannot fix (a missing C++ toolchain on CPU, an unsupported op, the
inductor stride assertion seen with channels-last on some torch/CUDA versions). Training must go on:
a failure is reported once, naming the module and the error, and that module runs eager from then on.
Compilation is lazy, so a trainer probes its compiled modules once at setup (forward and backward at
the real shapes, weights and buffers left as they were) and the failures show up before step 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CompiledStep:
    """Calls ``torch.compile(module)``; on a compiler error says so once and calls ``module`` eagerly.

    Not an ``nn.Module`` on purpose: the wrapped module's parameters stay owned (and checkpointed) by
    the trainer's own networks; attribute access goes through to the module."""

    def __init__(self, module: nn.Module, name: str, *, mode: str | None = None,
                 notify: Callable[[str], None] = _say):
        self.module = module
        self.name = name
        self.notify = notify
        self.error: str | None = None
        self.compiled: Callable[..., Any] | None = torch.compile(module, mode=mode)

    @property
    def active(self) -> bool:
        return self.compiled is not None

    def fall_back(self, exc: BaseException) -> None:
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        self.error = f"{type(exc).__name__}: {first}"
        self.compiled = None
        self.notify(f"compile: {self.name} runs eager; torch.compile failed ({self.error})")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is not None:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - any compiler failure; a real bug re-raises eagerly below
                self.fall_back(exc)
        return self.module(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


def probe(step: Callable[[], torch.Tensor], steps: list[CompiledStep], modules: list[nn.Module]) -> None:
    """Run ``step`` (forward through the compiled modules, returning a scalar) and its backward once, so
    compilation and its failures happen now; every compiled module that took part falls back on error.
    Gradients are cleared and buffers (batch-norm statistics) restored: training starts as it would have."""
    saved = [{k: v.detach().clone() for k, v in m.named_buffers()} for m in modules]
    try:
        step().backward()
    except Exception as exc:  # noqa: BLE001 - reported, and training goes on eager
        for s in steps:
            if s.active:
                s.fall_back(exc)
    finally:
        with torch.no_grad():
            for m, buffers in zip(modules, saved, strict=True):
                for k, v in m.named_buffers():
                    v.copy_(buffers[k])
                for p in m.parameters():
                    p.grad = None


def compile_pair(G: nn.Module, D: nn.Module, one_pass: Callable[[Any, Any], torch.Tensor], modules: list[nn.Module],
                 *, double_backward: bool = False, world_size: int = 1, rank: int = 0) -> tuple[Any, Any]:
    """``--compile`` for a two-network (GAN) step: returns the (G, D) the step should call, compiled where
    the compiler works. D stays eager when its penalties differentiate twice (R1, gradient penalty),
    both stay eager under torchrun; ``one_pass(G, D)`` (a forward returning a scalar) is probed once."""
    say = _say if rank == 0 else (lambda message: None)
    if world_size > 1:
        say("compile: off under torchrun (DDP + torch.compile is not measured here); training eager")
        return G, D
    steps = [CompiledStep(G, "G", notify=say)]
    G = steps[0]
    if double_backward:
        say("compile: D runs eager (R1 and gradient penalties differentiate twice, which compiled graphs cannot)")
    else:
        steps.append(CompiledStep(D, "D", notify=say))
        D = steps[-1]
    probe(lambda: one_pass(G, D), steps, modules)
    return G, D
