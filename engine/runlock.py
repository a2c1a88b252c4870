"""One writer per run directory: an OS-level lock on ``RUN/.artengine.lock``.

The lock is ``flock`` (``msvcrt.locking`` on Windows), so the kernel releases it
when the holder exits for any reason, a ``kill -9`` included: there is never a
stale lock to delete by hand. The file stays empty and is never rewritten (a
command that fails leaves the run byte-identical); a second writer learns the
holder's process id from the kernel's lock table (``/proc/locks``). Only the
main process (rank 0) takes the lock. This module must not import torch.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import RunInUseError

LOCK_NAME = ".artengine.lock"

try:  # POSIX
    import fcntl

    def _try_lock(fd: int, exclusive: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int, exclusive: bool) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


#: locks held by this process, by resolved run path; they stay held until the process exits
_held: dict[str, int] = {}


def _holder(path: Path) -> str:
    """The process id holding the flock on ``path``, from /proc/locks (Linux); else 'another process'."""
    try:
        inode = os.stat(path).st_ino
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
                return f"process {fields[4]}"
    except OSError:
        pass
    return "another process"


def _in_use(run: Path) -> RunInUseError:
    return RunInUseError(f"run {str(run)!r} is in use by {_holder(run / LOCK_NAME)}",
                         hint="wait for that process to finish (or stop it), or choose another --out")


def check_free(run: str | Path) -> None:
    """Raise :class:`RunInUseError` when another process holds ``run``'s lock; writes nothing.

    Commands call this first, so a second writer is refused before it loads any data."""
    run = Path(run)
    path = run / LOCK_NAME
    if str(run.resolve()) in _held or not path.is_file():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if not _try_lock(fd, exclusive=False):
            raise _in_use(run)
        _unlock(fd)
    finally:
        os.close(fd)


def acquire(run: str | Path) -> None:
    """Take ``run``'s lock for the rest of this process's life (idempotent).

    Called right before the first write, after every check that can fail, so a refused
    command leaves the folder as it was."""
    run = Path(run)
    key = str(run.resolve())
    if key in _held:
        return
    run.mkdir(parents=True, exist_ok=True)
    fd = os.open(run / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    if not _try_lock(fd, exclusive=True):
        error = _in_use(run)
        os.close(fd)
        raise error
    _held[key] = fd


def release(run: str | Path) -> None:
    """Give the lock back early (tests and long-lived apps; a process that exits releases it anyway)."""
    fd = _held.pop(str(Path(run).resolve()), None)
    if fd is not None:
        _unlock(fd)
        os.close(fd)


def held(run: str | Path) -> bool:
    return str(Path(run).resolve()) in _held


def release_all() -> None:
    """Give back every lock this process holds (for apps and tests that run many commands in one process)."""
    for key in list(_held):
        release(key)
