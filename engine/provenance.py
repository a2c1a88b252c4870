"""Provenance: library and plugin versions recorded in every run and export."""

from __future__ import annotations

import importlib.metadata as metadata
import platform
from typing import Any


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def library_versions(registry: Any = None, plugins: list[str] | None = None) -> dict[str, Any]:
    """Versions of python, artengine, torch, torchvision, onnx(runtime), numpy and the run's plugins."""
    from . import __version__

    out: dict[str, Any] = {"python": platform.python_version(), "artengine": __version__}
    for dist in ("torch", "torchvision", "numpy", "onnx", "onnxruntime", "pillow", "safetensors"):
        out[dist] = _version(dist)
    if registry is not None and plugins:
        out["plugins"] = {p: registry.host.version_of(p) for p in plugins}
    return out
