"""The installed plugin through the real CLI: listed, trained, resumed bit-exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from stylegan_cli import run_cli

#: a tiny network: every regularizer due within a few steps, so the test covers them all
TINY = ["--set", "generator.channel_base=64", "--set", "generator.channel_max=8", "--set", "generator.latent_dim=8",
        "--set", "generator.w_dim=8", "--set", "generator.mapping_layers=2", "--set", "discriminator.channel_base=64",
        "--set", "discriminator.channel_max=8", "--set", "trainer.r1_every=2", "--set", "trainer.r1_gamma=1",
        "--set", "trainer.pl_weight=2", "--set", "trainer.pl_every=3", "--set", "log_every=1",
        "--set", "sample_every=0", "--set", "checkpoint_every=0", "--set", "trainer.grid_size=4"]


def train(out, *extra: str):
    return run_cli("train", "stylegan", "--data", "digits", "--image-size", "8", "--batch-size", "8", "--seed", "5",
                   "--device", "cpu", "--quiet", "--out", str(out), *TINY, *extra)


def test_plugins_lists_the_package_with_its_components():
    infos = {p["name"]: p for p in json.loads(run_cli("plugins", "--json").stdout)}
    info = infos["stylegan"]
    assert info["builtin"] is False and info["version"] == "0.1.0" and not info["errors"]
    assert info["components"] == {"generators": ["stylegan"], "discriminators": ["stylegan"],
                                  "trainers": ["stylegan"], "recipes": ["stylegan"]}


def test_train_stylegan_runs_every_regularizer_and_resumes_bit_exactly(tmp_path):
    train(tmp_path / "straight", "--steps", "6", "--set", "generator.tileable=true")
    train(tmp_path / "resumed", "--steps", "3", "--set", "generator.tileable=true")
    train(tmp_path / "resumed", "--steps", "6", "--set", "generator.tileable=true", "--resume")
    metrics = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3, 4, 5, 6]
    assert {m["step"] for m in metrics if m.get("penalty", 0) > 0} == {1, 3, 5}  # lazy R1, every 2nd step
    assert all(m["r1"] > 0 for m in metrics)  # the latest R1 term, on every line between the lazy steps too
    assert {m["step"] for m in metrics if "pl_penalty" in m} == {1, 4}
    config = json.loads((tmp_path / "straight" / "config.json").read_text())
    assert config["trainer"]["name"] == "stylegan" and config["generator"]["tileable"] is True
    a = load_file(str(tmp_path / "straight/checkpoints/step-000000006.safetensors"))
    b = load_file(str(tmp_path / "resumed/checkpoints/step-000000006.safetensors"))
    assert set(a) == set(b) and "stylegan.pl_mean" in a and any(k.startswith("G_ema.") for k in a)
    assert float(a["stylegan.pl_mean"]) > 0
    assert float(a["G_ema.mapping.w_avg"].abs().sum()) > 0  # truncation's centre, tracked with style mixing on
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_train_stylegan_on_emoji_through_the_cli(tmp_path):
    out = tmp_path / "emoji"
    run_cli("train", "stylegan", "--data", "emoji", "--image-size", "16", "--batch-size", "8", "--steps", "2",
            "--device", "cpu", "--quiet", "--out", str(out), *TINY)
    config = json.loads((out / "config.json").read_text())
    assert config["recipe"] == "stylegan" and config["dataset"]["name"] == "emoji" and config["channels"] == 3
    assert (out / "checkpoints" / "step-000000002.safetensors").is_file()
    assert list((out / "samples").glob("*.png"))


@pytest.mark.slow
def test_two_process_torchrun_trains_stylegan_with_every_regularizer(tmp_path):
    out = tmp_path / "ddp"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "artengine",
                           "train", "stylegan", "--data", "digits", "--image-size", "8", "--batch-size", "8",
                           "--steps", "4", "--quiet", "--out", str(out), *TINY],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3, 4]  # rank 0 writes, once
    assert {m["step"] for m in metrics if "pl_penalty" in m} == {1, 4}


@pytest.mark.slow
def test_benchmark_quick_run_prints_its_tables():
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, "bench/bench_stylegan.py", "--quick", "--parallel", "--out",
                           "runs/bench-stylegan-smoke"],
                          cwd=root, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for line in ("machine: CPU ", "stylegan vs dcgan on digits", "side by side on one thread each",
                 "truncation of the stylegan run", "overhead:", "modulated convolution",
                 "generator alone:"):
        assert line in proc.stdout
