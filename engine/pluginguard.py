"""Registering plugins behind a guard, so one failing hook implementation cannot break the rest.

pluggy stops a hook call at the first exception. Each implementation is therefore wrapped
before pluggy sees it: the wrapper runs it with :func:`current_plugin` set (so a ``register``
callback knows who registers), and hands an exception to the host, which reports the plugin
and skips it (or says to re-raise). KeyboardInterrupt is never caught.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any

import pluggy

_calling_plugin: contextvars.ContextVar[str | None] = contextvars.ContextVar("artengine_plugin", default=None)


def current_plugin() -> str | None:
    """The plugin whose hook implementation is running now (None outside a hook call)."""
    return _calling_plugin.get()


class GuardedPluginManager(pluggy.PluginManager):
    """pluggy's manager, registering each plugin behind a guard.

    The guard is a namespace holding a wrapped copy of each hook implementation; callers
    keep using the plugin object they registered (``unregister(plugin)`` and friends map it).
    Built-in plugins' implementations run first (pluggy's ``tryfirst``), so a built-in
    keeps its names when a third-party plugin registers the same one.
    """

    def __init__(self, project: str, on_failure: Callable[[str, str, BaseException], bool],
                 is_builtin: Callable[[str], bool]):
        super().__init__(project)
        self._on_failure = on_failure
        self._is_builtin = is_builtin
        self._guards: dict[int, tuple[object, object]] = {}  # id(plugin) -> (plugin, guard)

    def _registered(self, plugin: object) -> object:
        original, guard = self._guards.get(id(plugin), (None, None))
        return guard if original is plugin else plugin

    def _guard(self, plugin: object, name: str) -> object:
        guard = type("GuardedPlugin", (), {"__repr__": lambda _self: f"<plugin {name!r}>"})()
        for attr in dir(plugin):
            opts = self.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            function = getattr(plugin, attr)
            opts = {**opts, "tryfirst": opts.get("tryfirst") or self._is_builtin(name)}
            if not (opts.get("wrapper") or opts.get("hookwrapper")):
                function = self._isolated(function, name, opts.get("specname") or attr)
            else:
                function = functools.wraps(function)(lambda *a, _f=function, **k: _f(*a, **k))
            setattr(function, f"{self.project_name}_impl", opts)
            setattr(guard, attr, function)
        return guard

    def _isolated(self, function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def call_isolated(*args: Any, **kwargs: Any) -> Any:
            token = _calling_plugin.set(plugin)
            try:
                return function(*args, **kwargs)
            except (Exception, SystemExit) as exc:  # KeyboardInterrupt still interrupts
                if self._on_failure(plugin, hook, exc):
                    raise
                return None
            finally:
                _calling_plugin.reset(token)

        return call_isolated

    def register(self, plugin: object, name: str | None = None) -> str | None:
        name = name or self.get_canonical_name(plugin)
        guard = self._registered(plugin)
        if guard is plugin:
            guard = self._guard(plugin, name)
        registered = super().register(guard, name)
        self._guards[id(plugin)] = (plugin, guard)
        return registered

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        guard = self._registered(plugin) if plugin is not None else self.get_plugin(name or "")
        removed = super().unregister(guard, name)
        for key, (original, g) in list(self._guards.items()):
            if g is guard:
                del self._guards[key]
                return original
        return removed

    def get_name(self, plugin: object) -> str | None:
        return super().get_name(self._registered(plugin))

    def get_hookcallers(self, plugin: object):
        return super().get_hookcallers(self._registered(plugin))

    def is_registered(self, plugin: object) -> bool:
        return super().is_registered(self._registered(plugin))
