"""Tiny real training runs and folder fingerprints for the reliability tests."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

TINY = ["--data", "digits", "--image-size", "8", "--batch-size", "16", "--seed", "1",
        "--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "log_every=1", "--quiet"]


def folder_hash(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones included) with the sha256 of its bytes; folders as 'dir'."""
    if not root.exists():
        return {}
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_dir():
            out[rel] = "dir"
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "special"
    return out


class Result:
    """What an in-process CLI call returned: exit code and the text a user sees."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def invoke(*args: str) -> Result:
    """The real CLI in this process (click's runner; a bug's exception propagates as itself).

    Cheaper than a subprocess; the run locks it took are given back afterwards, as a process exit would."""
    from click.testing import CliRunner

    from artengine.cli import get_cli

    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart already
        runner = CliRunner()
    try:
        result = runner.invoke(get_cli(), list(args), catch_exceptions=False)
    finally:
        _release_locks()
    return Result(result.exit_code, result.stdout, result.stderr)


def _release_locks() -> None:
    try:
        from artengine import runlock
    except ImportError:  # a checkout from before run locking (the tests are also run against it)
        return
    runlock.release_all()


def start_training(out: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``artengine train dcgan TINY --out OUT ARGS`` in the background."""
    return subprocess.Popen([sys.executable, "-m", "artengine", "train", "dcgan", *TINY, "--out", str(out), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def wait_for(predicate, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``predicate`` until it is true (fails when ``proc`` exits first or on timeout)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended early ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
