"""Hostile run folders through the real CLI: a second writer, a dead run, damaged or crafted JSON.

Each test fails on the code before the reliability work (issue 11, items 3, 4, 7, 8) and every
failure it provokes must leave the run folder byte-identical.
"""

from __future__ import annotations

import json
import shutil
import signal

import pytest

from .helpers_runs import TINY, folder_hash, invoke, start_training, wait_for


def _refused(proc, *needles: str) -> str:
    err = proc.stderr
    assert proc.returncode != 0, proc.stdout + err
    assert "Traceback" not in err, err
    assert ("\n" + err).count("\nError: ") == 1, err  # one error line (after any info lines)
    for needle in needles:
        assert needle in err, err
    return err


# ---------------------------------------------------------------- item 3: one writer at a time


def test_second_writer_is_refused_naming_the_first_and_a_killed_writer_releases_the_run(tmp_path):
    out = tmp_path / "run"
    first = start_training(out, "--steps", "100000", "--set", "checkpoint_every=0", "--set", "sample_every=0")
    try:
        wait_for(lambda: (out / "metrics.jsonl").is_file(), proc=first)
        before = folder_hash(out)
        second = invoke("train", "dcgan", *TINY, "--steps", "5", "--out", str(out))
        _refused(second, f"is in use by process {first.pid}")
        resumed = invoke("train", "dcgan", *TINY, "--steps", "5", "--out", str(out), "--resume")
        _refused(resumed, f"is in use by process {first.pid}")
        assert first.poll() is None
        after = folder_hash(out)
        assert after.keys() == before.keys()
        assert {k: v for k, v in after.items() if k != "metrics.jsonl"} == \
               {k: v for k, v in before.items() if k != "metrics.jsonl"}
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # killed before its first checkpoint: the kernel released the lock, the dead run is not merged into
    refused = invoke("train", "dcgan", *TINY, "--steps", "3", "--out", str(out))
    _refused(refused, "holds an unfinished run without a checkpoint", "config.json", "metrics.jsonl", "--overwrite")
    started = invoke("train", "dcgan", *TINY, "--steps", "3", "--out", str(out), "--overwrite")
    assert started.returncode == 0, started.stderr
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]


# ---------------------------------------------------------------- item 4: never merge into a dead run


def test_folder_with_files_but_no_checkpoint_is_refused_or_cleared_with_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"recipe": "dcgan", "seed": 1}))
    (out / "metrics.jsonl").write_text('{"step": 10, "loss_d": 1.0}\n')
    (out / "notes.txt").write_text("my notes")
    before = folder_hash(out)
    _refused(invoke("train", "dcgan", *TINY, "--steps", "2", "--out", str(out)),
             "unfinished run without a checkpoint", "metrics.jsonl", "notes.txt", "--overwrite")
    assert folder_hash(out) == before
    done = invoke("train", "dcgan", *TINY, "--steps", "2", "--out", str(out), "--overwrite")
    assert done.returncode == 0, done.stderr
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]  # the dead run's step 10 is gone, not merged
    assert (out / "notes.txt").read_text() == "my notes"  # not artengine's: never deleted


def test_folder_that_is_not_a_run_is_never_written_into(tmp_path):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"\xff\xd8 not really")
    before = folder_hash(out)
    for extra in ([], ["--overwrite"]):
        _refused(invoke("train", "dcgan", *TINY, "--steps", "2", "--out", str(out), *extra),
                 "not an artengine run", "holiday.jpg")
    assert folder_hash(out) == before


def test_run_with_checkpoints_is_refused_without_resume(run_copy):
    before = folder_hash(run_copy)
    _refused(invoke("train", "dcgan", *TINY, "--steps", "2", "--out", str(run_copy)),
             "already holds a run with checkpoints", "--resume")
    assert folder_hash(run_copy) == before


# ---------------------------------------------------------------- item 7: damaged but valid JSON


CHECKPOINT_DAMAGE = {
    "step as a path": lambda m: {**m, "step": "../../etc"},
    "missing keys": lambda m: {"step": 6},
    "a list": lambda m: [m],
    "step of another file": lambda m: {**m, "step": 40},
    "rng not a state": lambda m: {**m, "rng": {"python": [1, 2], "numpy": []}},
    "stream as a number": lambda m: {**m, "stream": 5},
}


@pytest.mark.parametrize("damage", sorted(CHECKPOINT_DAMAGE))
def test_damaged_checkpoint_json_names_the_file_and_the_newest_intact_checkpoint(run_copy, damage):
    path = run_copy / "checkpoints" / "step-000000006.json"
    path.write_text(json.dumps(CHECKPOINT_DAMAGE[damage](json.loads(path.read_text()))))
    before = folder_hash(run_copy)
    for args in (["export", str(run_copy), "--out", str(run_copy.parent / "m.onnx")],
                 ["sample", str(run_copy)]):
        err = _refused(invoke(*args), "step-000000006.json is damaged", "step-000000003")
        assert "newest intact checkpoint is step-000000003" in err
    assert folder_hash(run_copy) == before
    assert not (run_copy.parent / "m.onnx").exists()


CONFIG_DAMAGE = {
    "no seed": lambda c: {k: v for k, v in c.items() if k != "seed"},
    "a list": lambda c: [c],
    "seed as text": lambda c: {**c, "seed": "one"},
    "trainer as a number": lambda c: {**c, "trainer": 5},
}


@pytest.mark.parametrize("damage", sorted(CONFIG_DAMAGE))
def test_damaged_config_json_is_a_clear_error(run_copy, damage):
    path = run_copy / "config.json"
    path.write_text(json.dumps(CONFIG_DAMAGE[damage](json.loads(path.read_text()))))
    before = folder_hash(run_copy)
    for args in (["export", str(run_copy), "--out", str(run_copy.parent / "m.onnx")],
                 ["sample", str(run_copy)],
                 ["train", "dcgan", *TINY, "--steps", "8", "--out", str(run_copy), "--resume"]):
        _refused(invoke(*args), "config.json is damaged", "newest intact checkpoint is step-000000006")
    assert folder_hash(run_copy) == before


@pytest.mark.parametrize("pointer", ["../../other/step-000000006", "/etc/passwd", "step-000000006/../../x"])
def test_latest_json_pointing_outside_the_run_is_refused(run_copy, pointer):
    outside = run_copy.parent / "other"
    shutil.copytree(run_copy / "checkpoints", outside)  # a real checkpoint it could be tricked into loading
    (run_copy / "checkpoints" / "latest.json").write_text(json.dumps({"checkpoint": pointer, "step": 6}))
    before = folder_hash(run_copy)
    _refused(invoke("export", str(run_copy), "--out", str(run_copy.parent / "m.onnx")),
             "latest.json is damaged", "must name a checkpoint of this run")
    assert folder_hash(run_copy) == before


# ---------------------------------------------------------------- item 8: values that slipped through


@pytest.mark.parametrize("args, needle", [
    (["--set", "trainer.lr_g=nan"], "lr_g = nan is not a finite number"),
    (["--set", "trainer.lr_d=inf"], "lr_d = inf is not a finite number"),
    (["--minutes", "nan"], "minutes = nan is not a finite number"),
    (["--epochs", "inf"], "epochs = inf is not a finite number"),
])
def test_non_finite_values_are_refused(tmp_path, args, needle):
    _refused(invoke("train", "dcgan", *TINY, "--steps", "2", "--out", str(tmp_path / "run"), *args), needle)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("content, needle", [
    (b"trainer = 5\n", "a section is a table [trainer]"),
    (b"seed = 1 # caf\xe9 in latin-1\n", "is not UTF-8 text"),
    (b"[trainer\n", "is not valid TOML"),
])
def test_bad_toml_files_are_one_clear_error(tmp_path, content, needle):
    config = tmp_path / "bad.toml"
    config.write_bytes(content)
    _refused(invoke("train", "dcgan", *TINY, "--steps", "2", "--config", str(config),
                     "--out", str(tmp_path / "run")), needle, "bad.toml" if b"trainer =" not in content else "")
    assert not (tmp_path / "run").exists()
