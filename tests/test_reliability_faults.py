"""Fault injection: training killed at random moments (inside checkpoint writes too), resumed each time.

The final weights must equal an uninterrupted run's bit for bit, metrics.jsonl must hold every logged
step exactly once and no temp file may remain. ``ARTENGINE_FAULT_SLEEP_IN_WRITE`` makes every atomic
write pause between its temp file and the rename, so a kill can be aimed inside a checkpoint write.
The default run kills twice (SIGKILL inside a write, then SIGTERM); the slow one ten times at random.
"""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest
from safetensors.numpy import load_file

from .helpers_runs import start_training, wait_for

STEPS = 12
RUN_ARGS = ["--steps", str(STEPS), "--set", "checkpoint_every=3", "--set", "sample_every=0"]
SLOW_WRITES = {"ARTENGINE_FAULT_SLEEP_IN_WRITE": "0.3"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The uninterrupted run's final tensors (weights, optimizer and EMA states, RNG states)."""
    out = tmp_path_factory.mktemp("reference") / "run"
    proc = start_training(out, *RUN_ARGS)  # the same environment (thread count) as the killed runs
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return _final_tensors(out)


def _final_tensors(run: Path) -> dict:
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())["checkpoint"]
    assert latest == f"step-{STEPS:09d}"
    return load_file(str(run / "checkpoints" / f"{latest}.safetensors"))


def _has_checkpoint(run: Path) -> bool:
    return any((run / "checkpoints").glob("step-*.json")) if (run / "checkpoints").is_dir() else False


def _restart(run: Path, env: dict | None = None):
    """Continue the run, or start it over when it died before its first checkpoint."""
    again = ["--resume"] if _has_checkpoint(run) else (["--overwrite"] if run.exists() else [])
    return start_training(run, *RUN_ARGS, *again, env=env)


def _temp_files(run: Path) -> list[Path]:
    return [p for p in run.rglob(".*.tmp")]


def _finish_and_check(run: Path, reference: dict) -> None:
    proc = _restart(run)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()
             if "loss_d" in line]
    assert steps == list(range(1, STEPS + 1))  # each logged step exactly once
    assert not _temp_files(run)
    final = _final_tensors(run)
    assert final.keys() == reference.keys()
    for key, value in reference.items():
        assert (final[key] == value).all(), key  # bit for bit


def _kill_inside_a_checkpoint_write(run: Path, env: dict) -> None:
    proc = _restart(run, env=env)
    wait_for(lambda: any((run / "checkpoints").glob(".step-*.tmp")) if (run / "checkpoints").is_dir() else False,
             proc=proc, timeout=240)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _temp_files(run)  # the kill landed inside a write: its temp file is there until the next start


def test_sigkill_inside_a_checkpoint_write_then_sigterm_resume_bit_identical(tmp_path, reference):
    run = tmp_path / "run"
    _kill_inside_a_checkpoint_write(run, {"ARTENGINE_FAULT_SLEEP_IN_WRITE": "0.4"})
    # SIGTERM, as schedulers and `docker stop` send it: a checkpoint is saved, the exit code says so
    proc = _restart(run, env=SLOW_WRITES)  # slow writes: the run cannot finish between two polls
    wait_for(lambda: (run / "metrics.jsonl").is_file() and len((run / "metrics.jsonl").read_text().splitlines()) >= 7,
             proc=proc, timeout=240)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "stopped by SIGTERM" in err and "--resume" in err and "Traceback" not in err
    stopped_at = json.loads((run / "checkpoints" / "latest.json").read_text())["step"]
    assert stopped_at >= 7  # the checkpoint of the step it stopped at, not the last periodic one
    _finish_and_check(run, reference)


@pytest.mark.slow
def test_ten_random_sigkills_then_resume_bit_identical(tmp_path, reference):
    run = tmp_path / "run"
    rng = random.Random(11)
    env = {"ARTENGINE_FAULT_SLEEP_IN_WRITE": "0.2"}
    for i in range(10):
        if i % 3 == 0:
            _kill_inside_a_checkpoint_write(run, env)
            continue
        proc = _restart(run, env=env)
        time.sleep(rng.uniform(2.0, 9.0))  # start-up, data loading, steps or writes: wherever it lands
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    _finish_and_check(run, reference)


def _logged(run: Path) -> int:
    return len((run / "metrics.jsonl").read_text().splitlines()) if (run / "metrics.jsonl").is_file() else 0


@pytest.mark.slow
def test_repeated_sigterm_resume_bit_identical(tmp_path, reference):
    run = tmp_path / "run"
    for _ in range(3):
        before = _logged(run)
        proc = _restart(run, env=SLOW_WRITES)
        wait_for(lambda b=before: _logged(run) >= b + 2, proc=proc, timeout=240)  # this process is in its loop
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    _finish_and_check(run, reference)


@pytest.mark.slow
def test_sigterm_during_export_writes_nothing_and_leaves_no_temp_files(tiny_run, tmp_path):
    import os
    import subprocess
    import sys

    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    out = tmp_path / "models" / "m.onnx"
    env = {**os.environ, "TMPDIR": str(scratch), "ARTENGINE_FAULT_SLEEP_IN_WRITE": "30"}
    proc = subprocess.Popen([sys.executable, "-m", "artengine", "export", str(tiny_run), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_for(lambda: out.parent.is_dir() and any(out.parent.glob(".m.onnx.*.tmp")), proc=proc, timeout=240)
    proc.send_signal(signal.SIGTERM)  # inside the final write of the verified model
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "export stopped by SIGTERM" in err and "Traceback" not in err
    assert not out.exists() and not list(out.parent.iterdir())  # neither the model nor its temp file
    assert not list(scratch.glob("artengine-*"))  # the exporter's temp folders are gone too
