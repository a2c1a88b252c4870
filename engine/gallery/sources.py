"""What a gallery SOURCE is: a run directory, an exported .onnx model, or a style result (.json/.png)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArtengineError


@dataclass(frozen=True)
class Source:
    kind: str  # "run", "model" or "style"
    path: Path


def _style_sidecar(path: Path) -> Path | None:
    sidecar = path if path.suffix.lower() == ".json" else path.with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return sidecar if isinstance(data, dict) and data.get("image") else None


def classify(path: Path) -> list[Source]:
    """One SOURCE argument -> the sources in it (a plain folder is searched one level deep)."""
    if path.is_dir():
        if (path / "config.json").is_file():
            return [Source("run", path)]
        found: list[Source] = []
        for child in sorted(path.iterdir()):
            if child.is_dir() and (child / "config.json").is_file():
                found.append(Source("run", child))
            elif child.suffix.lower() == ".onnx":
                found.append(Source("model", child))
            elif child.suffix.lower() == ".json" and _style_sidecar(child):
                found.append(Source("style", child))
        return found
    if not path.exists():
        raise ArtengineError(f"gallery source {str(path)!r} does not exist")
    if path.suffix.lower() == ".onnx":
        return [Source("model", path)]
    sidecar = _style_sidecar(path)
    if sidecar:
        return [Source("style", sidecar)]
    raise ArtengineError(f"gallery source {str(path)!r} is not a run folder, an .onnx model or a style result",
                         hint="pass `artengine train` run folders, `artengine export` files, or the .png/.json "
                              "written by `artengine style`")


def collect(paths: list[Path]) -> list[Source]:
    seen: set[Path] = set()
    out = []
    for path in paths:
        for src in classify(Path(path)):
            key = src.path.resolve()
            if key not in seen:
                seen.add(key)
                out.append(src)
    if not out:
        raise ArtengineError("no runs, models or style results found in " + ", ".join(map(str, paths)))
    return out
