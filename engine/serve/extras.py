"""The extra inputs a model declares (metadata ``artengine.extra_inputs``): one slider each.

The metadata is a JSON list of ``{"name", "type", "default", "range": [lo, hi], "description"}``;
a model without it has none. Values from a request are checked against the declared range
before they reach onnxruntime.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ArtengineError

NUMPY_TYPES = {"float": np.float32, "float32": np.float32, "int": np.int64, "int64": np.int64}


@dataclass(frozen=True)
class ExtraInput:
    name: str
    type: str
    default: float
    low: float
    high: float
    description: str = ""

    def as_json(self) -> dict[str, Any]:
        step = 1 if self.type.startswith("int") else (self.high - self.low) / 100 or 0.01
        return {"name": self.name, "type": self.type, "default": self.default, "range": [self.low, self.high],
                "step": step, "description": self.description}

    def parse(self, text: str) -> float:
        """A request's value, or :class:`ArtengineError` saying the allowed range."""
        try:
            value = float(text)
        except ValueError:
            raise ArtengineError(f"{self.name} must be a number, got {text[:40]!r}") from None
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ArtengineError(f"{self.name} must be between {self.low:g} and {self.high:g}, got {text[:40]!r}")
        return round(value) if self.type.startswith("int") else value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} is not a finite number")
    return float(value)


def declared_extras(metadata: dict[str, str]) -> list[ExtraInput]:
    """The model's extra inputs; a malformed declaration is skipped (the model still works)."""
    raw = metadata.get("extra_inputs")
    if not raw:
        return []
    try:
        items = json.loads(raw)
    except json.JSONDecodeError:
        return []
    found = []
    for item in items if isinstance(items, list) else []:
        try:
            name, kind = str(item["name"]), str(item.get("type", "float"))
            if kind not in NUMPY_TYPES or not name.isidentifier():
                continue
            low, high = (_number(v, "range") for v in item["range"])
            default = _number(item.get("default", low), "default")
            if not low <= default <= high:
                continue
            found.append(ExtraInput(name, kind, default, low, high, str(item.get("description", ""))))
        except (KeyError, TypeError, ValueError):
            continue
    return found


def feeds_for(extras: list[ExtraInput], values: dict[str, float], session_inputs: dict[str, Any],
              batch: int) -> dict[str, np.ndarray]:
    """ONNX feeds for the declared extras that are real inputs of the graph, shaped as the graph says
    (a scalar, or one value per image of the batch)."""
    feeds: dict[str, np.ndarray] = {}
    for extra in extras:
        node = session_inputs.get(extra.name)
        if node is None:
            continue
        value = values.get(extra.name, extra.default)
        dtype = NUMPY_TYPES[extra.type]
        shape = [batch if not isinstance(d, int) or i == 0 else d for i, d in enumerate(node.shape)]
        feeds[extra.name] = np.full(shape, value, dtype=dtype)
    return feeds
