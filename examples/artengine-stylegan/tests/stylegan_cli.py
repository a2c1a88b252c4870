"""Run the real `artengine` CLI in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "artengine", *args], capture_output=True, text=True,
                          env={**os.environ}, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"artengine {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
