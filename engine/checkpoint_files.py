"""The files of a checkpoint folder, checked without loading any tensor (and without torch).

A checkpoint ``step-000000123`` is ``step-000000123.safetensors`` plus
``step-000000123.json``; ``latest.json`` names the newest one. Every JSON file is
validated against the shape artengine writes, so a damaged or crafted file gets
a message naming it, what is wrong and the newest checkpoint that is intact,
instead of a KeyError deep in a trainer. A ``latest.json`` may only name a
checkpoint of its own folder.
"""

from __future__ import annotations

import json
import math
import re
import struct
from pathlib import Path
from typing import Any

from .errors import CheckpointError

LATEST = "latest.json"
NAME = re.compile(r"step-\d{1,12}")


def checkpoint_name(step: int) -> str:
    return f"step-{step:09d}"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


#: what the trainer loop saves beside ``step`` and needs back to resume exactly
TRAINER_KEYS = ("epoch", "elapsed", "stream", "rng", "trainer")


def meta_problem(meta: Any, name: str | None = None, required: tuple[str, ...] = TRAINER_KEYS) -> str | None:
    """What is wrong with a checkpoint's parsed JSON (None: nothing).

    ``required``: the keys besides ``step`` that must be there (a training run's: TRAINER_KEYS);
    the known keys are type-checked whenever present."""
    if not isinstance(meta, dict):
        return f"it holds {_kind(meta)}, not an object"
    step = meta.get("step")
    if not _is_int(step) or step < 0:
        return f"'step' must be a whole number >= 0, got {json.dumps(step)[:60]}"
    if name is not None and NAME.fullmatch(name) and int(name.split("-")[1]) != step:
        return f"'step' is {step} but the file is {name}"
    for key in required:
        if key not in meta:
            return f"{key!r} is missing"
    if "epoch" in meta and (not _is_int(meta["epoch"]) or meta["epoch"] < 0):
        return f"'epoch' must be a whole number >= 0, got {json.dumps(meta['epoch'])[:60]}"
    if "elapsed" in meta and (not _is_number(meta["elapsed"]) or meta["elapsed"] < 0):
        return f"'elapsed' must be seconds >= 0, got {json.dumps(meta['elapsed'])[:60]}"
    stream = meta.get("stream")
    if stream is not None:
        if not isinstance(stream, dict):
            return f"'stream' must be an object or null, got {_kind(stream)}"
        for key in ("epoch", "position"):
            if not _is_int(stream.get(key)) or stream[key] < 0:
                return f"'stream.{key}' must be a whole number >= 0, got {json.dumps(stream.get(key))[:60]}"
    if "trainer" in meta and not isinstance(meta["trainer"], dict):
        return f"'trainer' must be an object, got {_kind(meta['trainer'])}"
    return _rng_problem(meta["rng"]) if "rng" in meta else None


def _rng_problem(rng: Any) -> str | None:
    if not isinstance(rng, dict):
        return f"'rng' must be an object, got {_kind(rng)}"
    py = rng.get("python")
    if not (isinstance(py, list) and len(py) == 3 and _is_int(py[0]) and isinstance(py[1], list)
            and len(py[1]) == 625 and all(_is_int(v) and 0 <= v < 2**32 for v in py[1])
            and (py[2] is None or isinstance(py[2], (int, float)))):
        return "'rng.python' is not a Python random state"
    np_state = rng.get("numpy")
    if not (isinstance(np_state, list) and len(np_state) == 5 and np_state[0] == "MT19937"
            and isinstance(np_state[1], list) and len(np_state[1]) == 624
            and all(_is_int(v) and 0 <= v < 2**32 for v in np_state[1])
            and _is_int(np_state[2]) and 0 <= np_state[2] <= 624 and _is_int(np_state[3])
            and isinstance(np_state[4], (int, float))):
        return "'rng.numpy' is not a numpy random state"
    return None


def safetensors_problem(path: Path) -> str | None:
    """What is structurally wrong with a safetensors file (header and length), read without torch."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                return "unreadable: shorter than a safetensors header"
            (length,) = struct.unpack("<Q", head)
            if length > min(size - 8, 100_000_000):
                return "unreadable: its header length is larger than the file"
            header = json.loads(fh.read(length).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"unreadable: its header is not JSON ({type(exc).__name__})"
    if not isinstance(header, dict):
        return "its header is not an object"
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            return f"tensor {key!r} has no valid data_offsets"
        end = max(end, offsets[1])
    if 8 + length + end != size:
        return f"unreadable: it is {size} bytes but its header describes {8 + length + end} (truncated?)"
    return None


def read_meta(folder: Path, name: str, required: tuple[str, ...] = TRAINER_KEYS) -> dict[str, Any]:
    """The validated JSON of checkpoint ``name``, or :class:`CheckpointError` naming the file."""
    path = folder / f"{name}.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise damaged(folder, path, "it is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise damaged(folder, path, f"it is not valid JSON ({exc})") from None
    problem = meta_problem(meta, name, required)
    if problem:
        raise damaged(folder, path, problem)
    return meta


def problem_of(folder: Path, name: str) -> str | None:
    """Why checkpoint ``name`` cannot be loaded (None: both files look intact)."""
    if not NAME.fullmatch(name):
        return f"{name!r} is not a checkpoint name (step-NNNNNNNNN)"
    tensors = folder / f"{name}.safetensors"
    if not tensors.is_file():
        return f"{tensors.name} is missing"
    problem = safetensors_problem(tensors)
    if problem:
        return f"{tensors.name}: {problem}"
    try:
        read_meta(folder, name)
    except CheckpointError as exc:
        return str(exc).split("\n")[0]
    return None


def names_on_disk(folder: Path) -> list[str]:
    """Checkpoint names with a JSON file, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("step-*.json") if NAME.fullmatch(p.stem))


def newest_intact(folder: str | Path, *, skip: str | None = None) -> str | None:
    """The newest checkpoint whose two files both look intact."""
    folder = Path(folder)
    for name in reversed(names_on_disk(folder)):
        if name != skip and problem_of(folder, name) is None:
            return name
    return None


def intact_hint(folder: str | Path, prefix: str = "", *, skip: str | None = None) -> str:
    """A hint naming the newest intact checkpoint of ``folder`` (or saying there is none)."""
    name = newest_intact(folder, skip=skip)
    if name is None:
        return prefix + "no intact checkpoint is left in this run"
    return prefix + f"the newest intact checkpoint is {name} (--resume --checkpoint {name} continues from it)"


def damaged(folder: Path, path: Path, problem: str) -> CheckpointError:
    return CheckpointError(f"{path} is damaged: {problem}", hint=intact_hint(folder, skip=path.stem))


def read_latest(folder: str | Path) -> str | None:
    """The checkpoint ``latest.json`` names (None when there is no latest.json).

    A latest.json that is not ``{"checkpoint": "step-N", ...}`` (a path outside the run, a list)
    is refused: it is never followed anywhere. A torn one counts as absent."""
    folder = Path(folder)
    pointer = folder / LATEST
    if not pointer.is_file():
        return None
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # torn (a disk fault, atomic writes never tear it): the newest pair on disk decides
    name = data.get("checkpoint") if isinstance(data, dict) else None
    if not isinstance(name, str) or not NAME.fullmatch(name):
        shown = json.dumps(name)[:80] if isinstance(data, dict) else f"{_kind(data)}, not an object"
        raise damaged(folder, pointer, f"'checkpoint' must name a checkpoint of this run (step-NNNNNNNNN), "
                                       f"got {shown}")
    return name
