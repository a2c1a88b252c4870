"""What a StyleGAN run exports: ``z`` + ``psi`` -> image, and on request mapping and synthesis apart.

The extra input ``psi`` is declared in the generic extra-input contract of artengine's export
metadata (name, type, default, range, description), so render, the runtime, the explorer and the
gallery offer a truncation control without knowing what StyleGAN is.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

PSI = {
    "name": "psi",
    "type": "float32",
    "default": 1.0,
    "min": 0.0,
    "max": 1.0,
    "description": "truncation: 1 keeps each latent's own style, 0 gives the average image; "
                   "0.5-0.8 trades variety for cleaner images",
}


def extra_inputs_meta() -> list[dict[str, Any]]:
    """The extra inputs of the exported generator (after ``z``), one value per sample each."""
    return [dict(PSI)]


def _exportable(generator: nn.Module) -> nn.Module:
    """A copy whose modulated convolutions use the shared-kernel form (a dynamic batch in ONNX)."""
    gen = copy.deepcopy(generator).float().eval().cpu()
    for m in gen.modules():
        if hasattr(m, "grouped"):
            m.grouped = False
    return gen


def to_unit(img: torch.Tensor) -> torch.Tensor:
    return ((img.float() + 1.0) * 0.5).clamp(0.0, 1.0)


class StyleGanExport(nn.Module):
    """``z`` [B, latent_dim], ``psi`` [B] -> ``image`` [B, C, S, S] in [0, 1]. Without ``psi`` (the
    engine's eval and anything else that knows only the z contract) truncation is off."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = _exportable(generator)

    def forward(self, z: torch.Tensor, psi: torch.Tensor | None = None) -> torch.Tensor:
        return to_unit(self.generator(z, 1.0 if psi is None else psi))


class MappingExport(nn.Module):
    """``z`` [B, latent_dim], ``psi`` [B] -> ``w`` [B, w_dim], truncated towards the average w."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.mapping = _exportable(generator).mapping

    def forward(self, z: torch.Tensor, psi: torch.Tensor | None = None) -> torch.Tensor:
        w = self.mapping(z)
        return w if psi is None else self.mapping.truncate(w, psi)


class SynthesisExport(nn.Module):
    """``ws`` [B, num_ws, w_dim] (one w per layer) -> ``image`` [B, C, S, S] in [0, 1]."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.synthesis = _exportable(generator).synthesis

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        return to_unit(self.synthesis(ws))


def export_parts(generator: nn.Module, meta: dict[str, Any]) -> dict[str, tuple[nn.Module, dict[str, Any]]]:
    """The two halves with their own contract metadata: ``mapping`` and ``synthesis``."""
    common = {k: meta[k] for k in ("latent_dim", "image_size", "channels", "recipe", "dataset", "step",
                                   "num_ws", "w_dim", "tileable") if k in meta}
    w_dim, num_ws = int(generator.w_dim), int(generator.num_ws)
    mapping_meta = {**common, "kind": "mapping", "extra_inputs": extra_inputs_meta(),
                    "output": {"name": "w", "shape": ["batch", w_dim]}}
    synthesis_meta = {**common, "kind": "synthesis",
                      "input": {"name": "ws", "shape": ["batch", num_ws, w_dim]}}
    return {"mapping": (MappingExport(generator), mapping_meta),
            "synthesis": (SynthesisExport(generator), synthesis_meta)}
