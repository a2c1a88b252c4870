"""Resume semantics (issue 11, item 1 and the resume should-fixes) through the real CLI.

A refused --resume leaves the run byte-identical; a budget given with --resume replaces the saved one;
--checkpoint resumes from an older checkpoint without deleting the newer ones; failed validation leaves
no half-made run folder; messages name what the user typed.
"""

from __future__ import annotations

import json

import pytest

from .helpers_runs import TINY, folder_hash, invoke


def _refused(result, *needles: str) -> str:
    err = result.stderr
    assert result.returncode != 0, result.stdout + err
    assert "Traceback" not in err and ("\n" + err).count("\nError: ") == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def _steps(run) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines() if "loss_d" in line]


@pytest.mark.parametrize("change, needle", [
    (["--set", "generator.width=16"], "does not match the G network"),
    (["--set", "discriminator.width=16"], "does not match the D network"),
    (["--data", "shapes"], "this run trains on 'digits'"),
])
def test_refused_resume_leaves_the_run_byte_identical(run_copy, change, needle):
    before = folder_hash(run_copy)
    err = _refused(invoke("train", "dcgan", *TINY, "--steps", "9", "--out", str(run_copy), "--resume", *change),
                   needle)
    assert "nothing was written" in err
    assert folder_hash(run_copy) == before
    # and the run still works afterwards
    assert invoke("export", str(run_copy), "--out", str(run_copy.parent / "m.onnx")).returncode == 0


def test_resume_with_a_damaged_latest_checkpoint_names_the_intact_one_and_changes_nothing(run_copy):
    path = run_copy / "checkpoints" / "step-000000006.json"
    path.write_text(json.dumps({"step": 6}))
    before = folder_hash(run_copy)
    _refused(invoke("train", "dcgan", *TINY, "--steps", "9", "--out", str(run_copy), "--resume"),
             "step-000000006.json is damaged", "--resume --checkpoint step-000000003")
    assert folder_hash(run_copy) == before


def test_resume_from_an_older_checkpoint_moves_the_newer_ones_aside(run_copy):
    done = invoke("train", "dcgan", *TINY, "--steps", "5", "--out", str(run_copy), "--resume",
                  "--checkpoint", "step-000000003")
    assert done.returncode == 0, done.stderr
    assert json.loads((run_copy / "checkpoints" / "latest.json").read_text())["step"] == 5
    aside = run_copy / "checkpoints" / "superseded-after-step-000000003"
    assert sorted(p.name for p in aside.iterdir()) == ["step-000000006.json", "step-000000006.safetensors"]
    assert _steps(run_copy) == [1, 2, 3, 4, 5]


def test_resume_with_minutes_trains_that_much_more(run_copy):
    done = invoke("train", "dcgan", *TINY, "--out", str(run_copy), "--resume", "--minutes", "0.02")
    assert done.returncode == 0, done.stderr
    config = json.loads((run_copy / "config.json").read_text())
    assert config["steps"] == 0 and config["minutes"] > 0.02  # the saved --steps 6 no longer wins
    assert json.loads((run_copy / "checkpoints" / "latest.json").read_text())["step"] > 6
    steps = _steps(run_copy)
    assert steps == list(range(1, len(steps) + 1))


def test_typo_of_an_option_is_named_as_an_option(tmp_path):
    _refused(invoke("train", "dcgan", *TINY, "--stpes", "20", "--out", str(tmp_path / "run")),
             "no option --stpes", "did you mean --steps?")
    assert not (tmp_path / "run").exists()


def test_failed_validation_leaves_no_half_made_run_folder(tmp_path):
    _refused(invoke("train", "dcgan", *TINY, "--image-size", "33", "--steps", "2", "--out", str(tmp_path / "run")),
             "33")
    _refused(invoke("train", "fast-style", "--style", str(tmp_path / "missing.jpg"), "--steps", "2",
                    "--out", str(tmp_path / "style-run")), "missing.jpg")
    assert not (tmp_path / "run").exists() and not (tmp_path / "style-run").exists()


def test_builtin_name_that_is_also_a_folder_says_which_was_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "digits").mkdir()
    done = invoke("train", "dcgan", *TINY, "--steps", "1", "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert "the built-in dataset 'digits'" in done.stderr and "--data ./digits" in done.stderr


def test_folder_run_resumes_from_another_working_directory(image_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(image_folder.parent)
    args = ["--image-size", "8", "--batch-size", "4", "--set", "generator.width=8", "--set", "discriminator.width=8",
            "--quiet", "--out", str(tmp_path / "run")]
    assert invoke("train", "dcgan", "--data", image_folder.name, "--steps", "2", *args).returncode == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["dataset"]["path"] == str(image_folder)
    monkeypatch.chdir(tmp_path)
    resumed = invoke("train", "dcgan", "--steps", "3", "--resume", *args)
    assert resumed.returncode == 0, resumed.stderr


def test_resume_data_points_a_folder_run_at_its_moved_folder(image_folder, tmp_path):
    args = ["--image-size", "8", "--batch-size", "4", "--set", "generator.width=8", "--set", "discriminator.width=8",
            "--quiet", "--out", str(tmp_path / "run")]
    assert invoke("train", "dcgan", "--data", str(image_folder), "--steps", "2", *args).returncode == 0
    moved = image_folder.rename(tmp_path / "moved-images")
    resumed = invoke("train", "dcgan", "--steps", "3", "--resume", "--data", str(moved), *args)
    assert resumed.returncode == 0, resumed.stderr
    assert f"reads the run's images from {moved}" in resumed.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["dataset"]["path"] == str(moved)
