"""Run the real `artengine` CLI in a subprocess (shared by several test modules)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: str | Path | None = None,
            timeout: float = 300, check: bool = False) -> subprocess.CompletedProcess:
    """``python -m artengine ARGS`` with the test interpreter; returns the completed process."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "artengine", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"artengine {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_torchrun_tiny_dcgan(out: Path, steps: int, *sets: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Two processes of ``torchrun ... artengine train dcgan`` on digits with tiny networks (one thread
    each), ``sets`` as extra ``--set KEY=VALUE`` items; returns the completed process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "artengine", "train", "dcgan",
         "--data", "digits", "--image-size", "8", "--batch-size", "8", "--steps", str(steps), "--quiet",
         "--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "log_every=1",
         *[x for item in sets for x in ("--set", item)], "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=timeout)


def write_entry_point_plugin(root: Path, dist: str, ep_name: str, module: str, source: str) -> Path:
    """Make an installed-looking distribution (dist-info with an `artengine` entry point) plus its
    module under ``root``; put ``root`` on PYTHONPATH to have importlib.metadata find it."""
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{dist.replace('-', '_')}-0.0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text(f"[artengine]\n{ep_name} = {module}\n")
    (root / f"{module}.py").write_text(source)
    return root
