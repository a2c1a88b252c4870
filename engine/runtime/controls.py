"""Extra inputs ("controls") of an exported model: the generic contract, torch-free.

A model may take inputs beyond its contract's ``z`` (and ``label``): StyleGAN's truncation ``psi``,
for example. Each one is an ONNX input of shape ``[batch]``, one value per sample, declared in the
metadata key ``artengine.extra_inputs`` as a JSON list of::

    {"name": "psi", "type": "float32", "default": 1.0, "min": 0.0, "max": 1.0,
     "description": "one line a UI can show"}

so that ``render``, the runtime, the web explorer and the gallery can offer a control for it
(a slider from ``min`` to ``max``, starting at ``default``) without knowing the model. A model that
declares none (DCGAN) has no key. Values outside ``[min, max]`` are refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import ArtengineError, ModelFileError

METADATA_KEY = "extra_inputs"
TYPES = {"float32": np.float32}
RESERVED = {"z", "label", "content", "image"}


@dataclass(frozen=True)
class ExtraInput:
    """One declared extra input: a per-sample scalar with a default and a range."""

    name: str
    type: str
    default: float
    min: float
    max: float
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def values(self, given: Any, n: int) -> np.ndarray:
        """``[n]`` values: the default, one value for every sample, or one per sample; refused when
        outside ``[min, max]``."""
        raw = self.default if given is None else given
        try:
            with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused below
                arr = np.asarray(raw, dtype=TYPES[self.type])
        except (TypeError, ValueError):
            raise ArtengineError(f"control {self.name!r} needs a number, got {raw!r}") from None
        if arr.ndim == 0:
            arr = np.full(n, arr, dtype=TYPES[self.type])
        if arr.shape != (n,):
            raise ArtengineError(f"control {self.name!r} needs one value or {n} values, got shape {list(arr.shape)}")
        hint = f"{self.name}: {self.description}" if self.description else None
        if not np.isfinite(arr).all():
            raise ArtengineError(f"control {self.name!r} must be a finite number", hint=hint)
        if n and (arr.min() < self.min or arr.max() > self.max):
            lo, hi = float(arr.min()), float(arr.max())
            got = f"{lo:g}" if lo == hi else f"values from {lo:g} to {hi:g}"
            raise ArtengineError(f"control {self.name!r} must lie in [{self.min:g}, {self.max:g}], got {got}",
                                 hint=hint)
        return arr


def _spec(item: Any, where: str) -> ExtraInput:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: each extra input must be an object, got {item!r}")
    try:
        spec = ExtraInput(name=str(item["name"]), type=str(item.get("type", "float32")),
                          default=float(item["default"]), min=float(item["min"]), max=float(item["max"]),
                          description=str(item.get("description", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: extra input {item!r} needs name, default, min and max ({exc})") from None
    if not spec.name.isidentifier() or spec.name in RESERVED:
        raise ValueError(f"{where}: {spec.name!r} cannot name an extra input")
    if spec.type not in TYPES:
        raise ValueError(f"{where}: extra input {spec.name!r} has type {spec.type!r}; types: {', '.join(TYPES)}")
    if not (math.isfinite(spec.min) and math.isfinite(spec.max) and spec.min <= spec.default <= spec.max):
        raise ValueError(f"{where}: extra input {spec.name!r} needs min <= default <= max, finite")
    return spec


def parse_extra_inputs(value: Any, where: str = "extra inputs") -> list[ExtraInput]:
    """The declared extra inputs from metadata (a JSON string) or from a trainer's export meta (a list)."""
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON ({exc})") from None
    if not isinstance(value, list):
        raise ValueError(f"{where}: must be a list, got {type(value).__name__}")
    specs = [_spec(item, where) for item in value]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: duplicate names in {names}")
    return specs


def model_extra_inputs(metadata: Mapping[str, str], path: Any) -> list[ExtraInput]:
    """Parse a loaded model's declaration; a malformed one is a damaged model file."""
    try:
        return parse_extra_inputs(metadata.get(METADATA_KEY), where=f"{path}: artengine.{METADATA_KEY}")
    except ValueError as exc:
        raise ModelFileError(str(exc), hint="export the model again with `artengine export`") from None


def feeds_for(specs: list[ExtraInput], controls: Mapping[str, Any] | None, n: int,
              where: str = "the model") -> dict[str, np.ndarray]:
    """Input arrays for every declared extra input; an unknown control name is an error naming the
    known ones."""
    controls = dict(controls or {})
    known = {s.name for s in specs}
    unknown = sorted(set(controls) - known)
    if unknown:
        offered = ", ".join(sorted(known)) or "none"
        raise ArtengineError(f"{where} has no control {', '.join(map(repr, unknown))}; its controls: {offered}",
                             hint="`artengine render MODEL --controls` lists them (the model's "
                                  "artengine.extra_inputs metadata)")
    return {s.name: s.values(controls.get(s.name), n) for s in specs}
