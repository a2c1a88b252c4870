"""Typed component configs: dataclasses with defaults, ranges and help.

A component declares ``@dataclass class Config`` whose fields use :func:`option`;
:func:`build` turns loose values (TOML, JSON, ``--set key=value`` strings) into
an instance, or raises a :class:`ConfigError` naming the field and the fix.
This module must not import torch.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def option(
    default: Any = dataclasses.MISSING,
    *,
    help: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: typing.Sequence[Any] | None = None,
    default_factory: Any = dataclasses.MISSING,
    nonfinite: bool = False,
) -> Any:
    """A dataclass field with a help text and optional bounds or choices.

    Float options refuse NaN and infinity unless ``nonfinite=True``."""
    meta = {"help": help, "min": min, "max": max, "choices": tuple(choices) if choices else None,
            "nonfinite": nonfinite}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_optional(tp: Any) -> tuple[bool, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return True, args[0]
    return False, tp


def _coerce(value: Any, tp: Any, where: str) -> Any:
    optional, tp = _is_optional(tp)
    if value is None or (optional and isinstance(value, str) and value.lower() in ("none", "null", "")):
        if optional:
            return None
        raise ConfigError(f"{where} must not be empty")
    origin = typing.get_origin(tp)
    try:
        if tp is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
                return True
            if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
                return False
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise ValueError
        if tp is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(str(value).replace("_", ""))
        if tp is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if tp is str:
            return str(value)
        if origin in (list, tuple) or tp in (list, tuple):
            args = typing.get_args(tp)
            inner = args[0] if args else str
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            items = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
            return tuple(items) if (origin is tuple or tp is tuple) else items
    except (TypeError, ValueError):
        name = getattr(tp, "__name__", str(tp))
        raise ConfigError(f"{where} must be {name}, got {value!r}") from None
    return value


def _check_range(value: Any, meta: Mapping[str, Any], where: str) -> None:
    if value is None:
        return
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(map(str, choices))}; got {value!r}")
    lo, hi = meta.get("min"), meta.get("max")
    values = value if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if isinstance(v, float) and not math.isfinite(v) and not meta.get("nonfinite"):
            raise ConfigError(f"{where} = {value!r} is not a finite number", hint="give a number such as 2e-4")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if lo is not None and v < lo:
                raise ConfigError(f"{where} = {value!r} is out of range: it must be >= {lo}")
            if hi is not None and v > hi:
                raise ConfigError(f"{where} = {value!r} is out of range: it must be <= {hi}")


def unknown_key_error(key: str, valid: typing.Iterable[str], where: str) -> ConfigError:
    """A ConfigError for an unknown key that suggests the closest valid one."""
    valid = sorted(valid)
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ConfigError(
        f"unknown setting {where}{key!r}; {hint}valid settings: {', '.join(valid) or '(none)'}"
    )


def build(cls: type | None, values: Mapping[str, Any] | None = None, where: str = "") -> Any:
    """Validate ``values`` against the dataclass ``cls`` and return an instance."""
    values = dict(values or {})
    if cls is None:
        if values:
            raise unknown_key_error(next(iter(values)), [], where)
        return None
    hints = _field_types(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise unknown_key_error(key, fields, where)
        kwargs[key] = _coerce(value, hints[key], f"{where}{key}")
    try:
        instance = cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where.rstrip('.') or cls.__name__}: {exc}") from None
    except ValueError as exc:  # __post_init__ checks
        raise ConfigError(f"{where}{exc}") from None
    for name, f in fields.items():
        _check_range(getattr(instance, name), f.metadata, f"{where}{name}")
    return instance


def to_dict(instance: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config instance (tuples become lists)."""
    if instance is None:
        return {}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(instance).items()}


def describe(cls: type | None) -> list[dict[str, Any]]:
    """One row per field (name, type, default, help, bounds), for `artengine list`."""
    if cls is None:
        return []
    hints = _field_types(cls)
    rows = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        tp = hints[f.name]
        rows.append(
            {
                "name": f.name,
                "type": getattr(tp, "__name__", str(tp).replace("typing.", "")),
                "default": list(default) if isinstance(default, tuple) else default,
                "help": f.metadata.get("help", ""),
                "min": f.metadata.get("min"),
                "max": f.metadata.get("max"),
                "choices": list(f.metadata["choices"]) if f.metadata.get("choices") else None,
            }
        )
    return rows


def parse_set(items: typing.Iterable[str]) -> dict[str, str]:
    """Parse ``--set key=value`` items into a flat dict (values stay strings)."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r} must look like key=value (e.g. --set trainer.lr_g=2e-4)")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"--set {item!r} has an empty key")
        out[key] = value.strip()
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file with an error that names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text (byte {exc.start})",
                          hint="TOML files are UTF-8: save it again as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {exc.strerror}") from None
