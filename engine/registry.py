"""The registry of named components, filled through the ``register_*`` hooks.

A component is a name, a factory (a callable or a lazy ``"module:attr"``
string, so plugins need not import torch to register), a typed config class and
the plugin that registered it. Names are unique per kind.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import config as config_mod
from .errors import ConfigError, DuplicateComponentError, UnknownComponentError
from .recipe import Recipe

#: kind (as the CLI spells it) -> registration hook
KINDS: dict[str, str] = {
    "generators": "register_generators",
    "discriminators": "register_discriminators",
    "losses": "register_losses",
    "trainers": "register_trainers",
    "recipes": "register_recipes",
    "datasets": "register_datasets",
    "exporters": "register_exporters",
    "feature-extractors": "register_feature_extractors",
}


@dataclass(frozen=True)
class Component:
    """One registered component."""

    kind: str
    name: str
    factory: Callable[..., Any] | str | None
    config: type | None
    description: str
    plugin: str
    extra: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Callable[..., Any]:
        """Resolve a lazy ``"module:attr"`` factory."""
        if isinstance(self.factory, str):
            module_name, _, attr = self.factory.partition(":")
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
            return obj
        if self.factory is None:
            raise TypeError(f"{self.kind[:-1]} {self.name!r} has no factory")
        return self.factory

    def make_config(self, values: dict[str, Any] | None = None) -> Any:
        """Validate ``values`` against this component's config class."""
        return config_mod.build(self.config, values, where=f"{self.kind[:-1]} {self.name!r}: ")

    def build(self, values: dict[str, Any] | Any = None, **kwargs: Any) -> Any:
        """Make the component: ``factory(config, **kwargs)``."""
        cfg = values if (values is not None and not isinstance(values, dict)) else self.make_config(values)
        factory = self.load()
        return factory(cfg, **kwargs) if self.config is not None else factory(**kwargs)


class Registry:
    """All components of all loaded plugins, collected lazily per kind."""

    def __init__(self, host):
        self._host = host
        self._kinds: dict[str, dict[str, Component]] = {}

    def _collect(self, kind: str) -> dict[str, Component]:
        if kind in self._kinds:
            return self._kinds[kind]
        if kind not in KINDS:
            raise UnknownComponentError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")
        found: dict[str, Component] = {}

        def make_register(plugin: str) -> dict[str, Any]:
            def register(name: str | Recipe, factory: Any = None, *, config: type | None = None,
                         description: str = "", **extra: Any) -> None:
                if isinstance(name, Recipe):  # register(Recipe(...))
                    recipe = name
                    name, description, extra = recipe.name, recipe.description, {**recipe.listing(),
                                                                                   "recipe": recipe}
                if not isinstance(name, str) or not name:
                    raise TypeError(f"{plugin} registered a {kind[:-1]} without a name")
                if name in found:
                    raise DuplicateComponentError(
                        f"{kind[:-1]} {name!r} is registered twice: by plugin {found[name].plugin!r} "
                        f"and by plugin {plugin!r}",
                        hint="uninstall one of them, or restrict plugins with ARTENGINE_LOAD_PLUGINS",
                    )
                if config is not None and not hasattr(config, "__dataclass_fields__"):
                    raise TypeError(f"{kind[:-1]} {name!r}: config must be a dataclass")
                found[name] = Component(kind, name, factory, config, description.strip(), plugin, extra)

            return {"register": register}

        self._host.call_each_by_plugin(KINDS[kind], make_register)
        self._kinds[kind] = found
        for comp in found.values():
            self._host.infos.get(comp.plugin) and self._host.infos[comp.plugin].components.setdefault(
                kind, []).append(comp.name)
        return found

    def names(self, kind: str) -> list[str]:
        return sorted(self._collect(kind))

    def all(self, kind: str) -> list[Component]:
        return [self._collect(kind)[n] for n in self.names(kind)]

    def has(self, kind: str, name: str) -> bool:
        return name in self._collect(kind)

    def get(self, kind: str, name: str) -> Component:
        """The component ``name`` of ``kind``, or an error listing the valid names."""
        found = self._collect(kind)
        if name not in found:
            close = difflib.get_close_matches(name, list(found), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownComponentError(
                f"unknown {kind[:-1]} {name!r}.{hint} Available: {', '.join(sorted(found)) or '(none)'}",
                hint="`artengine list " + kind + "` shows them; `artengine plugins` shows load errors",
            )
        return found[name]

    def collect_all(self) -> None:
        for kind in KINDS:
            self._collect(kind)


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry over :func:`artengine.pluginhost.get_host`."""
    global _registry
    if _registry is None:
        from .pluginhost import get_host

        _registry = Registry(get_host())
    return _registry


def reset_registry() -> None:
    global _registry
    _registry = None


__all__ = ["Component", "ConfigError", "KINDS", "Registry", "get_registry"]
