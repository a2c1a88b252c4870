"""Atomic file writes: write a temp file in the same folder, fsync, then rename.

A run killed at any moment leaves either the old file or the new one, never a
half-written file: only a hidden ``.NAME.*.tmp`` may remain, which
:func:`remove_stale_temps` clears on the next start. A write that fails (disk
full, read-only folder) raises :class:`OutputError` naming the path.

``ARTENGINE_FAULT_SLEEP_IN_WRITE=SECONDS`` makes every write pause between the
temp file and the rename: the reliability tests kill a run inside that window.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .errors import OutputError

FAULT_SLEEP_ENV = "ARTENGINE_FAULT_SLEEP_IN_WRITE"


def _default_mode() -> int:
    """The mode ``open()`` would give a new file (mkstemp's 0600 would hide outputs from web servers)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_MODE = _default_mode()


@contextlib.contextmanager
def atomic_path(path: str | Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success it is renamed onto ``path``.

    ``durable=False`` skips the fsync: still all-or-nothing if the process is killed, but not
    across a power loss; for outputs that are cheap to regenerate (rendered images)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if durable:
            with open(tmp_path, "rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp_path, _MODE)
        _fault_pause()
        os.replace(tmp_path, path)
    except OutputError:
        raise
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _write_error(path: Path, exc: OSError) -> OutputError:
    why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return OutputError(f"cannot write {str(path)!r}: {why}",
                       hint="free some space or choose another output folder (the earlier file, if any, is kept)")


def _fault_pause() -> None:
    seconds = os.environ.get(FAULT_SLEEP_ENV)
    if seconds:
        time.sleep(float(seconds))


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the ``.NAME.*.tmp`` files a killed writer left in ``folder`` and its sub-folders.

    Only call it while holding the folder's lock: another writer's temp files are live."""
    removed = []
    for tmp in Path(folder).rglob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (``durable=False``: without fsync, see :func:`atomic_path`)."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_with(path: str | Path, writer: Callable[[BinaryIO], None]) -> Path:
    """Atomically write through a callback that receives an open binary file."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        writer(fh)
    return Path(path)
