"""Plugin loading: built-ins and entry-point packages, each isolated.

Built-in plugins are module names loaded exactly like third-party ones. A
plugin that fails to import, or declares a hook wrongly, is reported once by
name with the reason; everything else keeps working.

Environment:
- ``ARTENGINE_LOAD_PLUGINS``: comma-separated allow-list of entry-point plugins
  (set but empty: built-ins only).
- ``ARTENGINE_STRICT_PLUGINS=1``: re-raise load errors instead of reporting them.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "artengine"


@dataclass
class PluginInfo:
    """What `artengine plugins` shows about one plugin."""

    name: str
    version: str | None
    builtin: bool
    module: str
    hooks: list[str] = field(default_factory=list)
    components: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class PluginLoadError(Exception):
    """Raised in strict mode when a plugin cannot be loaded."""


def builtin_plugin_modules() -> tuple[str, ...]:
    from .plugins import BUILTIN_PLUGINS  # the plugins/ folder

    return BUILTIN_PLUGINS


def _strict() -> bool:
    return os.environ.get("ARTENGINE_STRICT_PLUGINS", "") not in ("", "0")


def _allowed_entry_points() -> set[str] | None:
    raw = os.environ.get("ARTENGINE_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


class PluginHost:
    """A pluggy manager plus what we learned while loading each plugin."""

    def __init__(self, load_entry_points: bool = True):
        self.pm = pluggy.PluginManager("artengine")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
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
        try:
            plugin = loader()
            self.pm.register(plugin, name=name)
            bad = [
                hook.name for hook in self.pm.get_hookcallers(plugin) or []
                if not hook.has_spec()
            ]
            if bad:
                self.pm.unregister(plugin)
                raise PluginLoadError(
                    f"it implements unknown hook(s) {', '.join(bad)}; "
                    f"known hooks: {', '.join(sorted(self.hook_names()))}"
                )
            info.hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the engine
            self.report_error(name, exc)

    def report_error(self, plugin: str, exc: BaseException) -> None:
        """Record (and print once) that ``plugin`` is broken; strict mode re-raises."""
        if _strict():
            raise PluginLoadError(f"plugin {plugin!r} failed: {exc}") from exc
        reason = f"{type(exc).__name__}: {exc}"
        info = self.infos.setdefault(plugin, PluginInfo(plugin, None, False, plugin))
        info.errors.append(reason)
        key = f"{plugin}:{reason}"
        if key not in self._reported:
            self._reported.add(key)
            where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            at = f" (at {where[0].filename}:{where[0].lineno})" if where else ""
            print(
                f"artengine: plugin {plugin!r} is broken and was skipped: {reason}{at}. "
                "Fix or uninstall it; ARTENGINE_STRICT_PLUGINS=1 shows the traceback.",
                file=sys.stderr,
            )

    # -- calling -----------------------------------------------------------
    @staticmethod
    def hook_names() -> list[str]:
        return sorted(n for n in dir(hookspecs) if n.startswith(("register_", "on_")))

    @property
    def hook(self):
        return self.pm.hook

    def call_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call every implementation of ``hook_name`` separately, so one broken plugin
        is reported by name and the others still run."""
        self.call_each_by_plugin(hook_name, lambda _plugin: kwargs)

    def call_each_by_plugin(self, hook_name: str, make_kwargs: Callable[[str], dict[str, Any]]) -> None:
        """Like :meth:`call_each`, with per-plugin arguments (e.g. a register callback that
        remembers who registered what)."""
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order: built-ins first
            kwargs = make_kwargs(impl.plugin_name)
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:  # noqa: BLE001
                self.report_error(impl.plugin_name, exc)


_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded on first use."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def reset_host() -> None:
    """Forget loaded plugins (tests and long-lived apps that install plugins at run time)."""
    global _host
    _host = None
    from . import registry

    registry.reset_registry()
