"""What page builders share: the staged site, the build options, what each source gives the front
page, and small helpers. Every file a page copies from a source goes through :meth:`Builder.copy_image`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .safety import UnsafeSourceError, checked_image
from .site import StagedSite
from .transparency import has_alpha


@dataclass
class Work:
    """One piece on the front page: a picture, an animation or a before/after slider."""

    media: str
    caption: str


@dataclass
class Entry:
    """What one source contributes to the front page."""

    title: str
    kind: str
    page: str
    summary: str
    works: list[Work] = field(default_factory=list)
    column: str = ""  # the run's column when several runs are shown side by side


@dataclass
class Options:
    n: int = 36
    seed: int = 0
    interpolate: int = 4
    frames: int = 12
    photos: Path | None = None
    provider: str = "cpu"
    warn: Callable[[str], None] = print


class Builder:
    """Builds pages into a staged site; one instance per ``gallery build``."""

    def __init__(self, site: StagedSite, opts: Options):
        self.site = site
        self.opts = opts
        self.transparent: set[str] = set()  # copied images with an alpha channel (shown on a checkerboard)

    def put(self, rel: str, data: bytes | str) -> str:
        path = self.site.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return rel

    def copy_image(self, base: Path, ref: object, rel_stem: str, *, what: str, builtin_ok: bool = False) -> str | None:
        """Copy a checked source image to ``rel_stem`` + its real suffix; a refusal is a warning."""
        try:
            data, suffix = checked_image(base, ref, what=what, builtin_ok=builtin_ok)
        except UnsafeSourceError as exc:
            self.opts.warn(f"warning: {exc}")
            return None
        rel = self.put(rel_stem + suffix, data)
        if has_alpha(data):
            self.transparent.add(rel)
        return rel


def flatten(obj: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in obj.items():
        if isinstance(value, dict):
            rows += flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def safe_name(name: str) -> str:
    stem, dot, suffix = Path(name).name.rpartition(".")
    clean = re.sub(r"[^A-Za-z0-9_-]+", "-", stem if dot else name).strip("-") or "file"
    return f"{clean}.{suffix.lower()}" if dot else clean


def json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
