"""A recipe: a named trainer plus the components and settings it starts from.

Plugins register them with ``register(Recipe(...))`` in ``register_recipes``;
``artengine train NAME`` resolves one into a run config (see :mod:`artengine.runconfig`).
This module must not import torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """``settings`` holds run settings (``image_size``, ``sample_every`` ...) and per-section
    values (``{"trainer": {"lr_g": 2e-4}}``), the lowest layer under config file, CLI and --set."""

    name: str
    trainer: str
    description: str = ""
    generator: str | None = None
    discriminator: str | None = None
    loss: str | None = None
    dataset: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError("a Recipe needs a name")
        if not isinstance(self.trainer, str) or not self.trainer:
            raise TypeError(f"recipe {self.name!r} needs a trainer")
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    def component(self, section: str) -> str | None:
        """The component this recipe names for ``section`` (trainer, generator, ...)."""
        return getattr(self, section, None)

    def listing(self) -> dict[str, Any]:
        """What `artengine list recipes` / `artengine plugins --json` show about it."""
        out: dict[str, Any] = {k: getattr(self, k) for k in ("trainer", "generator", "discriminator", "loss",
                                                               "dataset") if getattr(self, k)}
        out["settings"] = _plain(self.settings)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value
