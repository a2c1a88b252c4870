"""The plugin host: loads built-ins and entry-point packages, owns the registry, calls hooks.

Every plugin is registered with pluggy behind a guard (:mod:`artengine.pluginguard`), so
hooks are called through pluggy (``host.call``, ``host.emit``) while a failing plugin stays
isolated: it is reported once by name, unregistered, and its components and commands are
dropped; the other plugins keep working. Built-in plugins fail loudly in training events
(a bug of ours must not be hidden as "a broken plugin").

Environment:
- ``ARTENGINE_LOAD_PLUGINS``: comma-separated allow-list of entry-point plugins
  (set but empty: built-ins only).
- ``ARTENGINE_STRICT_PLUGINS=1``: re-raise plugin errors instead of reporting them.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from .pluginguard import GuardedPluginManager, current_plugin
from .registry import Registry

ENTRY_POINT_GROUP = "artengine"
#: an entry-point plugin whose import takes longer than this gets a notice (every command pays it)
SLOW_IMPORT_SECONDS = 1.0


@dataclass
class PluginInfo:
    """What `artengine plugins` shows about one plugin."""

    name: str
    version: str | None
    builtin: bool
    module: str
    hooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: bool = False
    import_seconds: float = 0.0


class PluginLoadError(Exception):
    """Raised in strict mode when a plugin fails."""


def builtin_plugin_modules() -> tuple[str, ...]:
    from .plugins import BUILTIN_PLUGINS  # the plugins/ folder

    return BUILTIN_PLUGINS


def hook_names() -> list[str]:
    """Every hook a plugin can implement (the public surface in :mod:`artengine.hookspecs`)."""
    return sorted(n for n in dir(hookspecs) if n.startswith(("register_", "on_")))


def _strict() -> bool:
    return os.environ.get("ARTENGINE_STRICT_PLUGINS", "") not in ("", "0")


def _allowed_entry_points() -> set[str] | None:
    raw = os.environ.get("ARTENGINE_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}"


def _plugin_location(exc: BaseException) -> str:
    """``" (at FILE:LINE)"`` of the innermost frame in the plugin's own code, not in the engine,
    pluggy or importlib: a duplicate name points at the plugin's ``register(...)`` call."""
    from . import plugins as builtin_plugins

    engine_dir = Path(__file__).resolve().parent
    builtins_dir = Path(builtin_plugins.__file__).resolve().parent
    pluggy_dir = Path(pluggy.__file__).resolve().parent
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<"):
            continue
        path = Path(frame.filename).resolve()
        in_engine = path.is_relative_to(engine_dir) and not path.is_relative_to(builtins_dir)
        if not in_engine and not path.is_relative_to(pluggy_dir):
            found = frame
    return f" (at {found.filename}:{found.lineno})" if found else ""


class PluginHost:
    """The loaded plugins, their hooks and the registry of their components."""

    def __init__(self, load_entry_points: bool = True):
        self.pm = GuardedPluginManager(ENTRY_POINT_GROUP, self._hook_failed, self._is_builtin)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.registry = Registry(self)
        self._reported: set[str] = set()
        for module_name in builtin_plugin_modules():
            self._load(module_name, lambda m=module_name: importlib.import_module(m), builtin=True,
                       version=None, module=module_name)
        if load_entry_points:
            self._load_entry_points()

    # -- loading -----------------------------------------------------------
    def _load_entry_points(self) -> None:
        allowed = _allowed_entry_points()
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                continue
            dist = getattr(ep, "dist", None)
            version = dist.version if dist is not None else None
            self._load(ep.name, ep.load, builtin=False, version=version, module=ep.value)

    def _load(self, name: str, loader: Callable[[], Any], *, builtin: bool, version: str | None,
              module: str) -> None:
        from . import __version__

        info = PluginInfo(name=name, version=version or (__version__ if builtin else None),
                          builtin=builtin, module=module)
        self.infos[name] = info
        started = time.perf_counter()
        try:
            plugin = loader()
        except (Exception, SystemExit) as exc:  # a broken plugin must not break the engine
            self.report_error(name, exc)
            return
        info.import_seconds = round(time.perf_counter() - started, 3)
        if not builtin and info.import_seconds > SLOW_IMPORT_SECONDS:
            print(f"artengine: plugin {name!r} took {info.import_seconds:.1f} s to import, and every command "
                  f"pays that; set ARTENGINE_LOAD_PLUGINS to the plugins you need (empty: none) to skip it.",
                  file=sys.stderr)
        try:
            self.pm.register(plugin, name=name)
            bad = [hook.name for hook in self.pm.get_hookcallers(plugin) or [] if not hook.has_spec()]
            if bad:
                self.pm.unregister(plugin)
                raise PluginLoadError(f"it implements unknown hook(s) {', '.join(bad)}; "
                                      f"known hooks: {', '.join(hook_names())}")
        except (Exception, SystemExit) as exc:
            self.report_error(name, exc)
            return
        info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])

    def _is_builtin(self, plugin: str) -> bool:
        info = self.infos.get(plugin)
        return info is not None and info.builtin

    # -- failures ----------------------------------------------------------
    def _hook_failed(self, plugin: str, hook: str, exc: BaseException) -> bool:
        """Report and skip a failing plugin; True (re-raise) for a built-in's training event,
        whose failure is our bug and keeps its traceback."""
        info = self.infos.get(plugin)
        if hook.startswith("on_") and info is not None and info.builtin:
            return True
        self.report_error(plugin, exc)
        return False

    def report_error(self, plugin: str, exc: BaseException) -> None:
        """Report (once) that ``plugin`` is broken and skip it; strict mode re-raises."""
        if _strict():
            raise PluginLoadError(f"plugin {plugin!r} failed: {_describe(exc)}") from exc
        reason = _describe(exc)
        info = self.infos.setdefault(plugin, PluginInfo(plugin, None, False, plugin))
        info.errors.append(reason)
        key = f"{plugin}:{reason}"
        if key not in self._reported:
            self._reported.add(key)
            print(f"artengine: plugin {plugin!r} is broken and was skipped: {reason}{_plugin_location(exc)}. "
                  "Fix or uninstall it; ARTENGINE_STRICT_PLUGINS=1 shows the traceback.", file=sys.stderr)
        self.skip(plugin)

    def skip(self, plugin: str) -> None:
        """Take ``plugin`` out: no hook of it runs again, none of its components stay."""
        if self.pm.has_plugin(plugin):
            self.pm.unregister(name=plugin)
        self.registry.forget(plugin)
        info = self.infos.get(plugin)
        if info is not None:
            info.skipped, info.hooks = True, []

    def warn(self, plugin: str, message: str) -> None:
        """A one-line notice about ``plugin`` that does not skip it (e.g. a refused command name)."""
        info = self.infos.setdefault(plugin, PluginInfo(plugin, None, False, plugin))
        if message not in info.warnings:
            info.warnings.append(message)
            print(f"artengine: plugin {plugin!r}: {message}", file=sys.stderr)

    @staticmethod
    def current_plugin() -> str | None:
        """The plugin whose hook implementation is running now (None outside a hook call)."""
        return current_plugin()

    def is_active(self, plugin: str) -> bool:
        """Whether ``plugin`` is registered (not failed, not skipped)."""
        return self.pm.has_plugin(plugin)

    def version_of(self, plugin: str) -> str | None:
        info = self.infos.get(plugin)
        return info.version if info is not None else None

    # -- calling -----------------------------------------------------------
    @staticmethod
    def hook_names() -> list[str]:
        return hook_names()

    @property
    def hook(self):
        return self.pm.hook

    def call(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call ``hook_name`` on every plugin through pluggy; a plugin that raises is reported
        and skipped, the others still run. Returns the non-None results."""
        return getattr(self.pm.hook, hook_name)(**kwargs)

    def emit(self, event_name: str, **kwargs: Any) -> None:
        """Send a training event (``on_*`` hook) to every listener. A third-party listener
        that fails is reported once and skipped from then on; a built-in's error propagates."""
        if not event_name.startswith("on_") or event_name not in hook_names():
            raise ValueError(f"{event_name!r} is not a training event; events: "
                             f"{', '.join(n for n in hook_names() if n.startswith('on_'))}")
        self.call(event_name, **kwargs)


_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded on first use."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def get_registry() -> Registry:
    """The process-wide registry: ``get_host().registry``."""
    return get_host().registry


def reset_host() -> None:
    """Forget loaded plugins and their components (tests and long-lived apps that install
    plugins at run time); the next :func:`get_host` loads them again."""
    global _host
    _host = None
