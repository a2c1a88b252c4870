"""The registry of named components, filled through the ``register_*`` hooks.

A component is a name, a factory (a callable or a lazy ``"module:attr"``
string, so plugins need not import torch to register), a typed config class and
the plugin that registered it. Names are unique per kind. The plugin host owns
the registry (``host.registry``); this module knows the host only as something
that calls hooks, so there is no import circle.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import config as config_mod
from .errors import ConfigError, DuplicateComponentError, PluginError, UnknownComponentError
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

    @property
    def label(self) -> str:
        """``generator 'dcgan' (plugin 'artengine.plugins.dcgan')``, for messages."""
        return f"{self.kind[:-1]} {self.name!r} (plugin {self.plugin!r})"

    def load(self) -> Callable[..., Any]:
        """The factory, resolving a lazy ``"module:attr"`` string; a string that does not resolve
        is a :class:`PluginError` naming the plugin and the string."""
        if self.factory is None:
            raise PluginError(f"{self.label} was registered without a factory, so it cannot be built",
                              hint=f"fix or uninstall the plugin {self.plugin!r}")
        if not isinstance(self.factory, str):
            return self.factory
        module_name, _, attr = self.factory.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            if os.environ.get("ARTENGINE_STRICT_PLUGINS", "") not in ("", "0"):
                raise
            raise PluginError(f"{self.label}: its factory {self.factory!r} cannot be loaded "
                              f"({type(exc).__name__}: {exc})",
                              hint=f"fix or uninstall the plugin {self.plugin!r}; `artengine plugins --check` "
                                   "tries every factory") from None
        return obj

    def make_config(self, values: dict[str, Any] | None = None) -> Any:
        """Validate ``values`` against this component's config class."""
        return config_mod.build(self.config, values, where=f"{self.kind[:-1]} {self.name!r}: ")

    def build(self, values: dict[str, Any] | Any = None, **kwargs: Any) -> Any:
        """Make the component: ``factory(config, **kwargs)``."""
        cfg = values if (values is not None and not isinstance(values, dict)) else self.make_config(values)
        factory = self.load()
        return factory(cfg, **kwargs) if self.config is not None else factory(**kwargs)


class HookCaller(Protocol):
    """The plugin host as the registry (and readers of ``registry.host``, e.g. provenance) see it."""

    def call(self, hook_name: str, **kwargs: Any) -> list[Any]: ...

    def current_plugin(self) -> str | None: ...

    def is_active(self, plugin: str) -> bool: ...

    def version_of(self, plugin: str) -> str | None: ...


def _check_factory(plugin: str, label: str, factory: Any) -> None:
    """A lazy factory must read ``"module:attr"``; anything else must be callable (or None for
    components that are data, e.g. recipes)."""
    if isinstance(factory, str):
        module_name, sep, attr = factory.partition(":")
        if not (sep and module_name and attr):
            raise PluginError(f"plugin {plugin!r} registered {label} with factory {factory!r}; "
                              "a lazy factory reads 'module:attribute'")
    elif factory is not None and not callable(factory):
        raise PluginError(f"plugin {plugin!r} registered {label} with a factory that is not callable "
                          f"({type(factory).__name__})")


class Registry:
    """All components of all loaded plugins, collected on first use: every kind at once (the
    register hooks are cheap and torch-free), so a plugin that fails in any of them is skipped
    before any of its components is used."""

    def __init__(self, host: HookCaller):
        self.host = host
        self._kinds: dict[str, dict[str, Component]] = {}

    def _collect(self, kind: str) -> dict[str, Component]:
        if kind not in KINDS:
            raise UnknownComponentError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")
        if kind not in self._kinds:
            for each in KINDS:
                if each not in self._kinds:
                    self._collect_kind(each)
            for found in self._kinds.values():  # a plugin skipped in a later kind loses the earlier ones
                for name in [n for n, comp in found.items() if not self.host.is_active(comp.plugin)]:
                    del found[name]
        return self._kinds[kind]

    def _collect_kind(self, kind: str) -> None:
        found: dict[str, Component] = {}

        def register(name: str | Recipe, factory: Any = None, *, config: type | None = None,
                     description: str = "", **extra: Any) -> None:
            plugin = self.host.current_plugin() or "(unknown plugin)"
            if isinstance(name, Recipe):  # register(Recipe(...))
                recipe = name
                name, description, extra = recipe.name, recipe.description, {**recipe.listing(), "recipe": recipe}
            label = f"a {kind[:-1]} {name!r}" if isinstance(name, str) else f"a {kind[:-1]}"
            if not isinstance(name, str) or not name:
                raise PluginError(f"plugin {plugin!r} registered {label} without a name")
            if name in found:
                raise DuplicateComponentError(
                    f"{kind[:-1]} {name!r} is registered twice: by plugin {found[name].plugin!r} "
                    f"and by plugin {plugin!r}",
                    hint="uninstall one of them, or restrict plugins with ARTENGINE_LOAD_PLUGINS",
                )
            if config is not None and not hasattr(config, "__dataclass_fields__"):
                raise PluginError(f"plugin {plugin!r} registered {label} whose config is not a dataclass")
            _check_factory(plugin, label, factory)
            found[name] = Component(kind, name, factory, config, description.strip(), plugin, extra)

        self._kinds[kind] = found  # visible to forget() while the hook runs
        try:
            self.host.call(KINDS[kind], register=register)
        except BaseException:
            del self._kinds[kind]
            raise

    def forget(self, plugin: str) -> None:
        """Drop every component ``plugin`` registered (the host skips a broken plugin)."""
        for found in self._kinds.values():
            for name in [n for n, comp in found.items() if comp.plugin == plugin]:
                del found[name]

    def components_of(self, plugin: str) -> dict[str, list[str]]:
        """kind -> names that ``plugin`` registered, over the kinds collected so far."""
        out: dict[str, list[str]] = {}
        for kind, found in self._kinds.items():
            names = sorted(n for n, comp in found.items() if comp.plugin == plugin)
            if names:
                out[kind] = names
        return out

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


__all__ = ["Component", "ConfigError", "KINDS", "Registry"]
