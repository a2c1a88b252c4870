"""The ``artengine.*`` metadata written into every exported model (no torch here).

A model file alone says what it is, where it came from and how to feed it, so
the runtime and the gallery need nothing else.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

PREFIX = "artengine."
KINDS = ("generator", "image-to-image")


def config_hash(config: dict[str, Any] | None) -> str:
    """A short stable hash of a run config (sorted JSON), to tell runs apart."""
    if not config:
        return ""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_hash(path: Path) -> str:
    """Hash of a config file's exact bytes (what the user can check with sha256sum)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""


def dataset_credit(config: dict[str, Any] | None) -> dict[str, str]:
    """Source, license and credit of the run's dataset, as its registering plugin declared them."""
    name = ((config or {}).get("dataset") or {}).get("name")
    if not name:
        return {}
    try:
        from ..pluginhost import get_registry

        comp = get_registry().get("datasets", name)
    except Exception:  # an uninstalled plugin must not stop an export or a gallery
        return {}
    return {k: str(comp.extra[k]) for k in ("source", "license", "credit", "url") if comp.extra.get(k)}


def build_metadata(meta: dict[str, Any], *, config: dict[str, Any] | None = None,
                   config_file: Path | None = None, extra: dict[str, Any] | None = None) -> dict[str, str]:
    """Flatten a trainer's export meta (plus run config facts) into ``artengine.*`` string props."""
    from .. import __version__

    config = config or {}
    props: dict[str, Any] = {
        "kind": meta.get("kind", "generator"),
        "version": __version__,
        "recipe": meta.get("recipe", config.get("recipe", "")),
        "dataset": meta.get("dataset", (config.get("dataset") or {}).get("name", "")),
        "step": meta.get("step", ""),
        "config_hash": (file_hash(config_file) if config_file else "") or config_hash(config),
        "seed": config.get("seed", ""),
    }
    for key, value in meta.items():
        if key not in props and isinstance(value, (str, int, float, bool)):
            props[key] = value
        elif key not in props and isinstance(value, (dict, list)):
            props[key] = json.dumps(value, sort_keys=True)
    for key, value in dataset_credit(config).items():
        props[f"dataset_{key}"] = value
    if config:
        props["config"] = json.dumps(config, sort_keys=True, default=str)
    props.update(extra or {})
    return {PREFIX + k: str(v) for k, v in props.items() if v is not None and v != ""}
