"""`artengine train --log tensorboard`: the same scalars as metrics.jsonl and the sample grids, as
TensorBoard event files; a missing package is one clear message naming the extra."""

from __future__ import annotations

import json

import pytest

from tests.helpers_cli import run_cli


def test_scalars_and_sample_grids_reach_tensorboard(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed (pip install tensorboard)")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    proc = run_cli("train", "dcgan", "--data", "digits", "--image-size", "16", "--steps", "4", "--batch-size", "8",
                   "--out", str(run), "--quiet", "--log", "tensorboard", "--set", "log_every=1",
                   "--set", "sample_every=2")
    assert proc.returncode == 0, proc.stderr
    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"images": 0, "scalars": 0}).Reload()
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for key in ("loss_g", "loss_d"):
        got = [(e.step, round(e.value, 5)) for e in events.Scalars(f"train/{key}")]
        assert got == [(r["step"], round(r[key], 5)) for r in logged], key  # the same numbers, every step
    grids = sorted(e.step for e in events.Images("samples"))
    assert grids == [2, 4]  # every grid saved in samples/, including the final one
    assert json.loads((run / "config.json").read_text())["log"] == "tensorboard"


def test_a_missing_tensorboard_package_names_the_extra_and_writes_nothing(tmp_path):
    blocked = tmp_path / "blocked"
    (blocked / "tensorboard").mkdir(parents=True)
    (blocked / "tensorboard" / "__init__.py").write_text("raise ImportError('tensorboard hidden by the test')\n")
    run = tmp_path / "run"
    proc = run_cli("train", "dcgan", "--data", "digits", "--steps", "2", "--out", str(run), "--log", "tensorboard",
                   env={"PYTHONPATH": str(blocked)})
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "artengine[tensorboard]" in proc.stderr
    assert not run.exists()
