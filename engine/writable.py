"""Check that an output path can be written before any work starts.

A read-only folder, a path under a regular file or a full disk would otherwise
surface as a traceback after minutes of exporting or stylizing. The probe writes
a temp file into the nearest existing folder and removes it, so nothing is
created at the output path itself. This module must not import torch.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputError

#: refuse to start when the disk has less free space than this (or than the caller's estimate)
MIN_FREE_BYTES = 1 << 20


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _check(path: Path, option: str, *, want_dir: bool, need_bytes: int) -> None:
    shown = f"{option} {str(path)!r}"
    if path.exists():
        if want_dir and not path.is_dir():
            raise OutputError(f"{shown} is a file, not a folder", hint="give a folder path")
        if not want_dir and path.is_dir():
            raise OutputError(f"{shown} is a folder, not a file", hint="give a file path, e.g. model.onnx")
    base = _nearest_existing(path if want_dir else path.parent)
    if not base.is_dir():
        raise OutputError(f"{shown} cannot be written: {str(base)!r} is a file, not a folder",
                          hint="choose a path that is not inside a file")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".artengine-probe-", suffix=".tmp", dir=base)
        try:
            os.write(fd, b"\0")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"{shown} cannot be written: {exc.strerror or exc} ({base})",
                          hint="choose a folder you can write to") from None
    stats = os.statvfs(base) if hasattr(os, "statvfs") else None
    if stats is not None:
        free = stats.f_bavail * stats.f_frsize
        need = max(MIN_FREE_BYTES, need_bytes)
        if free < need:
            raise OutputError(f"{shown} cannot be written: the disk is full ({free // 1024} KiB free, "
                              f"about {need // 1024} KiB needed)", hint="free some space or choose another disk")


def ensure_writable_dir(path: str | Path, option: str = "--out", *, need_bytes: int = 0) -> None:
    """Raise :class:`OutputError` unless a folder can be made (or written) at ``path``."""
    _check(Path(path).absolute(), option, want_dir=True, need_bytes=need_bytes)


def ensure_writable_file(path: str | Path, option: str = "--out", *, need_bytes: int = 0) -> None:
    """Raise :class:`OutputError` unless a file can be written at ``path``."""
    _check(Path(path).absolute(), option, want_dir=False, need_bytes=need_bytes)
