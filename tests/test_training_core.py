"""The shared training loop through the real CLI: events reach plugins, a run killed at any
moment resumes from its last checkpoint, and nothing already written is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from artengine.cli import get_cli
from artengine.hookspecs import hookimpl
from artengine.pluginhost import get_host

from .helpers_cli import run_cli

TINY = ["--data", "digits", "--image-size", "8", "--batch-size", "16", "--seed", "1",
        "--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "log_every=1"]


class EventRecorder:
    """A plugin object listening to every training event."""

    def __init__(self):
        self.calls: list[tuple] = []

    @hookimpl
    def on_train_start(self, trainer):
        self.calls.append(("on_train_start", trainer.step))

    @hookimpl
    def on_step_end(self, trainer, step, metrics):
        assert "loss_d" in metrics and "images_per_s" in metrics
        self.calls.append(("on_step_end", step))

    @hookimpl
    def on_epoch_end(self, trainer, epoch):
        self.calls.append(("on_epoch_end", epoch))

    @hookimpl
    def on_train_end(self, trainer, reason):
        self.calls.append(("on_train_end", reason))


class RegisterCommand:
    """A plugin adding a CLI command through register_commands."""

    @staticmethod
    @hookimpl
    def register_commands(cli):
        import click

        @cli.command("hello-plugin")
        def hello():
            click.echo("hello from a plugin command")


def test_training_events_reach_plugins_in_order(tmp_path):
    recorder = EventRecorder()
    host = get_host()
    host.pm.register(recorder, name="event-recorder")
    try:
        # 1,797 digits / 64 per batch = 28 steps per epoch
        result = CliRunner().invoke(get_cli(), ["train", "dcgan", *TINY, "--batch-size", "64", "--steps", "30",
                                                "--quiet",
                                                "--out", str(tmp_path / "run")], catch_exceptions=False)
    finally:
        host.pm.unregister(recorder)
    assert result.exit_code == 0, result.output
    names = [c[0] for c in recorder.calls]
    assert names[0] == "on_train_start" and recorder.calls[-1] == ("on_train_end", "done")
    assert names.count("on_step_end") == 30
    assert ("on_epoch_end", 1) in recorder.calls
    assert names.index("on_epoch_end") == 1 + 28  # right after the step that finished the epoch


def test_register_commands_adds_a_cli_command():
    host = get_host()
    cli = get_cli()
    host.pm.register(RegisterCommand, name="command-plugin")
    try:
        host.call("register_commands", cli=cli)
        result = CliRunner().invoke(cli, ["hello-plugin"])
    finally:
        host.pm.unregister(RegisterCommand)
        cli.commands.pop("hello-plugin", None)
    assert result.exit_code == 0 and "hello from a plugin command" in result.output


def _weights(run_dir):
    from artengine import checkpoint

    tensors, meta = checkpoint.load_checkpoint(run_dir / "checkpoints")
    return {k: v for k, v in tensors.items() if not k.startswith("rng.")}, meta


def test_killed_run_resumes_from_its_last_checkpoint_and_matches_an_uninterrupted_run(tmp_path):
    steps = 24
    ref = tmp_path / "ref"
    run_cli("train", "dcgan", *TINY, "--steps", str(steps), "--quiet", "--out", str(ref), check=True)

    killed = tmp_path / "killed"
    args = [sys.executable, "-m", "artengine", "train", "dcgan", *TINY, "--steps", str(steps), "--quiet",
            "--set", "checkpoint_every=3", "--out", str(killed)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.time() + 120
    while time.time() < deadline:  # kill -9 once a few checkpoints exist, mid-training
        if len(list((killed / "checkpoints").glob("step-*.json"))) >= 2 or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, meta = _weights(killed)
    assert 0 < meta["step"] < steps, "the kill should land mid-run"
    config_before = json.loads((killed / "config.json").read_text())

    run_cli("train", "dcgan", "--out", str(killed), "--resume", "--quiet", check=True)
    w_ref, m_ref = _weights(ref)
    w_res, m_res = _weights(killed)
    assert m_res["step"] == m_ref["step"] == steps
    assert w_ref.keys() == w_res.keys()
    for key in w_ref:
        assert (w_ref[key] == w_res[key]).all(), f"{key} differs after kill + resume"
    config_after = json.loads((killed / "config.json").read_text())
    assert config_after["trainer"] == config_before["trainer"]
    steps_logged = [json.loads(line)["step"] for line in (killed / "metrics.jsonl").read_text().splitlines()]
    assert steps_logged == sorted(set(steps_logged)) and steps_logged[-1] == steps


def test_refuses_to_overwrite_a_run_with_checkpoints(tmp_path):
    out = tmp_path / "run"
    run_cli("train", "dcgan", *TINY, "--steps", "2", "--quiet", "--out", str(out), check=True)
    before = sorted(p.name for p in (out / "checkpoints").iterdir())
    proc = run_cli("train", "dcgan", *TINY, "--steps", "2", "--quiet", "--out", str(out))
    assert proc.returncode != 0 and "--resume" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == before


@pytest.mark.parametrize("bad, message", [
    (["--set", "generator.width=0"], "generator 'dcgan': width = 0 is out of range"),
    (["--set", "trainer.lr_gg=1"], "did you mean 'lr_g'"),
    (["--image-size", "2"], "image_size = 2 is out of range"),
    (["--data", "no/such/folder"], "no/such/folder"),
])
def test_bad_settings_fail_fast_with_one_clear_message(tmp_path, bad, message):
    proc = run_cli("train", "dcgan", "--steps", "1", "--out", str(tmp_path / "r"), *bad)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_sample_command_draws_a_grid_from_the_latest_checkpoint(tmp_path):
    from PIL import Image

    out = tmp_path / "run"
    run_cli("train", "dcgan", *TINY, "--steps", "2", "--quiet", "--out", str(out), check=True)
    grid = out / "samples" / "step-000000002.png"
    before = grid.read_bytes()
    grid.unlink()
    proc = run_cli("sample", str(out), check=True)
    assert proc.stdout.strip() == str(grid)
    assert grid.read_bytes() == before  # the fixed latents give the same grid again
    assert Image.open(grid).size[0] > 8


def test_progress_off_a_terminal_is_plain_lines_then_one_summary(tmp_path):
    """stderr of a subprocess is a pipe, as in CI or `2> log`: no bar redrawn per step, a line per
    progress_seconds (0: every step) with losses, img/s and ETA, and a summary line at the end."""
    every = run_cli("train", "dcgan", *TINY, "--steps", "5", "--set", "progress_seconds=0",
                    "--out", str(tmp_path / "every"), check=True)
    assert "\r" not in every.stderr and "it/s" not in every.stderr
    lines = every.stderr.strip().splitlines()
    progress = [line for line in lines if line.startswith("dcgan step ")]
    assert [line.split(" | ")[0] for line in progress] == [f"dcgan step {n}/5" for n in range(1, 6)]
    assert all("loss_d " in line and "img/s " in line and "ETA " in line for line in progress[:-1])
    assert lines[-1].startswith("done: 5 steps in ") and "loss_g" in lines[-1]
    assert lines[-1].endswith(f"run saved in {tmp_path / 'every'}")

    default = run_cli("train", "dcgan", *TINY, "--steps", "5", "--out", str(tmp_path / "default"), check=True)
    shown = [line for line in default.stderr.splitlines() if line.startswith("dcgan step ")]
    assert len(shown) == 1  # the first step at once, then one line per 30 s
    assert default.stderr.strip().splitlines()[-1].startswith("done: 5 steps")
    quiet = run_cli("train", "dcgan", *TINY, "--steps", "2", "--quiet", "--out", str(tmp_path / "q"), check=True)
    assert quiet.stderr.strip() == ""


def test_progress_on_a_terminal_draws_a_bar_and_the_same_summary():
    import io

    from artengine.training.progress import ProgressDisplay

    out = io.StringIO()
    display = ProgressDisplay(enabled=True, title="dcgan", total_steps=4, every_seconds=30, stream=out, tty=True)
    display.start(0)
    for step in range(1, 5):
        display.update(step, {"loss_d": 0.5, "loss_g": 1.25, "images_per_s": 40.0}, elapsed=step * 0.5, done=step / 4)
    display.close(reason="done", step=4, elapsed=2.0, images=64, where="runs/x")
    text = out.getvalue()
    assert "\r" in text and "4/4" in text  # tqdm redraws in place
    summary = "done: 4 steps in 0:02, 32.0 img/s, loss_d 0.5, loss_g 1.25; run saved in runs/x"
    assert text.strip().splitlines()[-1] == summary
