"""ProGAN end to end on CPU: real CLI runs of both variants, exact resume mid-fade, ONNX export parity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from artengine.cli import get_cli

TINY = [
    "--set", "generator.latent_dim=16", "--set", "generator.fmap_base=64", "--set", "generator.fmap_max=16",
    "--set", "generator.fmap_min=8", "--set", "discriminator.fmap_base=64", "--set", "discriminator.fmap_max=16",
    "--set", "discriminator.fmap_min=8", "--set", "dataset.size=64", "--set", "grid_size=16", "--quiet",
]
# 8x8: 16 images at 4x4 (batch 8: 2 steps), then a 64-image fade at batch 4 (16 steps)
GROW_8 = ["--image-size", "8", "--set", "first_stage_images=16", "--set", "fade_images=64",
          "--set", "stabilize_images=32", "--set", "batch_sizes=8,4", "--set", "log_every=1"]


def train(out: Path, *args: str) -> None:
    res = CliRunner().invoke(get_cli(), ["train", "progan", "--data", "shapes", "--out", str(out), *TINY, *args])
    assert res.exit_code == 0, res.output + repr(res.exception)


def last_checkpoint(run: Path) -> tuple[dict[str, torch.Tensor], dict]:
    name = json.loads((run / "checkpoints" / "latest.json").read_text())["checkpoint"]
    return load_file(str(run / "checkpoints" / f"{name}.safetensors")), json.loads(
        (run / "checkpoints" / f"{name}.json").read_text())


def test_resume_mid_fade_is_exact(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    train(straight, *GROW_8, "--steps", "8")
    train(split, *GROW_8, "--steps", "4")
    _, meta = last_checkpoint(split)
    assert meta["trainer"]["stage"] == 1 and meta["trainer"]["stage_images"] == 8  # 2 steps into the fade
    assert meta["trainer"]["alpha"] == pytest.approx(0.125) and meta["stream"]["position"] == 16 + 8
    train(split, *GROW_8, "--steps", "8", "--resume")
    a, meta_a = last_checkpoint(straight)
    b, meta_b = last_checkpoint(split)
    assert meta_a["trainer"]["alpha"] == meta_b["trainer"]["alpha"] == pytest.approx(0.375)
    assert meta_a["stream"] == meta_b["stream"]
    assert set(a) == set(b)
    for prefix in ("G.", "D.", "G_ema.", "opt_g.", "opt_d."):
        assert any(k.startswith(prefix) for k in a)
    for key in a:
        if not key.startswith("rng."):
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    steps = [r["step"] for r in map(json.loads, (split / "metrics.jsonl").read_text().splitlines())]
    assert steps == sorted(set(steps))  # metrics logged after the checkpoint were not duplicated


def test_progressive_run_grows_with_grids_of_every_stage_and_exports_mid_fade(tmp_path):
    import onnxruntime as ort

    from artengine.training.build import load_trainer

    run = tmp_path / "grow"
    # 16x16: 4x4 for 2 steps, 8x8 fade 4 + stabilize 2 steps, then 2 of the 4 steps of the 16x16 fade
    train(run, "--image-size", "16", "--steps", "10", "--set", "first_stage_images=16", "--set", "fade_images=32",
          "--set", "stabilize_images=16", "--set", "batch_sizes=8", "--set", "sample_every=3", "--set", "log_every=1")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows and all({"loss_d", "loss_g", "stage", "alpha"} <= set(r) for r in rows)
    names = sorted(p.name for p in (run / "samples").glob("*.png"))
    assert "stage-004x004-end.png" in names and "stage-008x008-end.png" in names
    assert "step-000000003.png" in names and "step-000000010.png" in names
    trainer = load_trainer(run)
    assert trainer.resolution == 16 and trainer.alpha == pytest.approx(0.5)

    out = tmp_path / "m.onnx"
    res = CliRunner().invoke(get_cli(), ["export", str(run), "--out", str(out)])
    assert res.exit_code == 0, res.output
    module, meta = trainer.export_model()
    assert meta["image_size"] == 16 and meta["stage"] == 16 and meta["alpha"] == pytest.approx(0.5)
    assert meta["kind"] == "generator" and meta["latent_dim"] == 16 and meta["recipe"] == "progan"
    z = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    with torch.no_grad():
        want = module(torch.from_numpy(z)).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(["image"], {"z": z})[0]
    assert got.shape == (3, meta["channels"], 16, 16) and 0.0 <= got.min() and got.max() <= 1.0
    assert np.abs(got - want).max() <= 1e-4


def test_msg_run_trains_every_scale_without_fading_and_exports_the_top(tmp_path):
    import onnxruntime as ort

    from artengine.training.build import load_trainer

    run = tmp_path / "msg"
    train(run, "--image-size", "16", "--steps", "3", "--set", "msg=true", "--set", "batch_sizes=8",
          "--set", "log_every=1")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows and all(r["stage"] == 16 and r["alpha"] == 1.0 for r in rows)
    assert (run / "samples" / "stage-016x016-end.png").is_file()
    assert not (run / "samples" / "stage-004x004-end.png").exists()
    trainer = load_trainer(run)
    module, meta = trainer.export_model()
    assert meta["image_size"] == 16 and meta["alpha"] == 1.0
    out = tmp_path / "msg.onnx"
    res = CliRunner().invoke(get_cli(), ["export", str(run), "--out", str(out)])
    assert res.exit_code == 0, res.output
    z = np.random.default_rng(1).standard_normal((2, 16)).astype(np.float32)
    with torch.no_grad():
        want = module(torch.from_numpy(z)).numpy()
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(["image"], {"z": z})[0]
    assert got.shape == (2, meta["channels"], 16, 16)
    assert np.abs(got - want).max() <= 1e-4


def test_any_registered_loss_can_be_chosen(tmp_path):
    run = tmp_path / "hinge"
    train(run, "--image-size", "8", "--steps", "2", "--set", "loss=hinge", "--set", "batch_sizes=4")
    config = json.loads((run / "config.json").read_text())
    assert config["loss"]["name"] == "hinge" and config["trainer"]["name"] == "progan"
    # the recipe's default is the paper's WGAN-GP with drift; the non-saturating loss with lazy R1 is a choice
    paper = tmp_path / "paper"
    train(paper, "--image-size", "8", "--steps", "2", "--set", "batch_sizes=4", "--set", "log_every=1")
    config = json.loads((paper / "config.json").read_text())
    assert config["loss"]["name"] == "wgan-gp" and config["trainer"]["drift"] == 0.001
    assert config["trainer"]["r1_gamma"] == 0
    rows = [json.loads(line) for line in (paper / "metrics.jsonl").read_text().splitlines()]
    assert all(r["penalty"] > 0 for r in rows)  # the gradient penalty and the drift term
    r1 = tmp_path / "r1"
    train(r1, "--image-size", "8", "--steps", "2", "--set", "loss=bce", "--set", "drift=0", "--set", "r1_gamma=0.1",
          "--set", "r1_every=16", "--set", "batch_sizes=4")
    assert json.loads((r1 / "config.json").read_text())["trainer"]["r1_every"] == 16


def test_bad_image_size_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(get_cli(), ["train", "progan", "--data", "shapes", "--image-size", "24", "--steps",
                                         "1", "--out", str(tmp_path / "bad"), *TINY])
    assert res.exit_code != 0 and "power of two" in res.output
