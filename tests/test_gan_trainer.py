"""The adversarial trainer on tiny real networks: losses, balance rule, EMA, resume, NaN guard, precision,
samples, export and the CLI end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from artengine import checkpoint as ckpt
from artengine.errors import DivergenceError
from artengine.pluginhost import get_registry
from artengine.runconfig import resolve
from artengine.training.build import build_trainer
from artengine.training.ema import EMA

TINY = {"generator.width": "8", "generator.latent_dim": "16", "discriminator.width": "8",
        "log_every": "1", "sample_every": "0", "checkpoint_every": "0"}


def tiny_trainer(out: Path, steps: int = 3, resume: bool = False, image_size: int = 8, batch_size: int = 8,
                 **overrides: str):
    """A real GanTrainer on 8x8 digits, batch 8, built the way `artengine train` builds it."""
    config = resolve("dcgan", registry=get_registry(),
                     cli_values={"data": "digits", "out": str(out), "steps": steps, "image_size": image_size,
                                 "batch_size": batch_size, "seed": 3, "device": "cpu"},
                     set_values={**TINY, **overrides})
    return build_trainer(config, resume=resume)


@pytest.mark.parametrize("loss", ["bce", "hinge", "lsgan", "wgan-gp"])
def test_each_loss_trains_a_few_real_steps(tmp_path, loss):
    extra = {"loss": loss}
    if loss == "wgan-gp":
        extra.update({"discriminator.norm": "none", "trainer.n_critic": "2"})
    trainer = tiny_trainer(tmp_path / loss, steps=3, **extra)
    trainer.setup()
    g0 = [p.detach().clone() for p in trainer.G.parameters()]
    d0 = [p.detach().clone() for p in trainer.D.parameters()]
    for _ in range(3):
        metrics = trainer.train_step()
        trainer.step += 1
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "d_skips", "grad_norm_d", "grad_norm_g"):
        assert isinstance(metrics[key], float) and math.isfinite(metrics[key]), key
    assert any(not torch.equal(a, b) for a, b in zip(g0, trainer.G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.D.parameters(), strict=True))
    if loss == "wgan-gp":
        assert metrics["penalty"] > 0


@pytest.mark.parametrize(("reuse", "n_critic", "graphs"), [("true", "1", [True]), ("false", "1", [False, True]),
                                                           ("true", "2", [False, True])])
def test_the_g_step_scores_the_fakes_the_d_step_judged(tmp_path, reuse, n_critic, graphs):
    # pytorch/examples' DCGAN step: one generator forward per D step, none extra for the G step; only the
    # forward whose fakes reach G records G's graph
    trainer = tiny_trainer(tmp_path / "reuse", **{"trainer.reuse_fakes": reuse, "trainer.n_critic": n_critic})
    trainer.setup()
    calls = []
    trainer.G.register_forward_hook(lambda module, args, out: calls.append((out.shape[0], out.requires_grad)))
    g0 = [p.detach().clone() for p in trainer.G.parameters()]
    metrics = trainer.train_step()
    assert calls == [(8, graph) for graph in graphs]
    assert math.isfinite(metrics["loss_g"]) and metrics["grad_norm_g"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(g0, trainer.G.parameters(), strict=True))
    assert trainer.kept_fakes is None  # handed to the G step once, not held into the next step


def test_r1_penalty_is_applied(tmp_path):
    trainer = tiny_trainer(tmp_path / "r1", **{"trainer.r1_gamma": "5", "discriminator.norm": "none"})
    trainer.setup()
    metrics = trainer.train_step()
    assert metrics["penalty"] > 0


def test_balance_rule_skips_discriminator_while_its_loss_is_low(tmp_path):
    # a threshold above any BCE loss this D can reach at init: every D update is skipped and counted
    trainer = tiny_trainer(tmp_path / "bal", **{"trainer.balance_threshold": "100"})
    trainer.setup()
    d0 = {k: v.clone() for k, v in trainer.D.state_dict().items() if "running" not in k and "batches" not in k}
    for _ in range(3):
        metrics = trainer.train_step()
        trainer.step += 1
    assert metrics["d_skips"] == 3.0 and metrics["d_skipped"] == 1.0
    for k, v in d0.items():
        assert torch.equal(v, trainer.D.state_dict()[k]), k
    # threshold 0 (off): D trains and nothing is skipped
    off = tiny_trainer(tmp_path / "off", **{"trainer.balance_threshold": "0"})
    off.setup()
    assert off.train_step()["d_skips"] == 0.0


def test_balance_rule_ignores_unbounded_wgan_loss(tmp_path):
    trainer = tiny_trainer(tmp_path / "w", loss="wgan-gp", **{"trainer.balance_threshold": "100",
                                                              "discriminator.norm": "none"})
    trainer.setup()
    assert trainer.train_step()["d_skips"] == 0.0


def test_ema_maths_and_warmup(tmp_path):
    net = torch.nn.Linear(3, 2)
    ema = EMA(net, beta=0.9)
    before = ema.shadow.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update(net)
    assert torch.allclose(ema.shadow.weight, 0.9 * before + 0.1 * net.weight)
    trainer = tiny_trainer(tmp_path / "ema", **{"trainer.ema_beta": "0.999"})
    trainer.setup()
    assert trainer.ema_decay() == pytest.approx(0.1)  # (1 + 0) / (10 + 0) at step 0
    trainer.step = 100_000
    assert trainer.ema_decay() == pytest.approx(0.999)
    trainer.step = 0
    shadow0 = [p.clone() for p in trainer.ema.shadow.parameters()]
    trainer.train_step()
    for s0, s1, p in zip(shadow0, trainer.ema.shadow.parameters(), trainer.G.parameters(), strict=True):
        assert torch.allclose(s1, 0.1 * s0 + 0.9 * p.detach(), atol=1e-6)


def test_exact_resume_matches_uninterrupted_run(tmp_path):
    straight = tiny_trainer(tmp_path / "straight", steps=6)
    straight.fit()
    first = tiny_trainer(tmp_path / "resumed", steps=3)
    first.fit()
    second = tiny_trainer(tmp_path / "resumed", steps=6, resume=True)
    second.fit()
    a = load_file(str(tmp_path / "straight/checkpoints/step-000000006.safetensors"))
    b = load_file(str(tmp_path / "resumed/checkpoints/step-000000006.safetensors"))
    assert set(a) == set(b)
    assert any(k.startswith("G_ema.") for k in a) and any(k.startswith("opt_d.") for k in a)
    for key in a:
        if key.startswith("rng."):
            continue
        assert torch.equal(a[key], b[key]), key
    assert second.d_skips == straight.d_skips


def test_nan_guard_stops_with_clear_error_and_keeps_last_good_checkpoint(tmp_path):
    trainer = tiny_trainer(tmp_path / "nan", steps=8, checkpoint_every="2")
    original = trainer.discriminator_step

    def poisoned(real, log_norms=False, **kwargs):
        if trainer.step >= 3:
            real = real * float("nan")
        return original(real, log_norms, **kwargs)

    trainer.discriminator_step = poisoned
    with pytest.raises(DivergenceError) as info:
        trainer.fit()
    assert "diverged at step 4" in str(info.value) and "loss_d=nan" in str(info.value)
    assert "checkpoint" in str(info.value)
    folder = tmp_path / "nan/checkpoints"
    assert ckpt.latest_checkpoint(folder) == "step-000000002"
    tensors, _ = ckpt.load_checkpoint(folder)
    assert all(torch.isfinite(v.float()).all() for k, v in tensors.items() if not k.startswith("rng."))


def test_bf16_autocast_path_runs(tmp_path):
    trainer = tiny_trainer(tmp_path / "bf16", precision="bf16", channels_last="true")
    trainer.setup()
    assert trainer.precision == "bf16"
    metrics = trainer.train_step()
    assert math.isfinite(metrics["loss_d"]) and math.isfinite(metrics["loss_g"])


def test_samples_and_export_contract(tmp_path):
    trainer = tiny_trainer(tmp_path / "exp", steps=2)
    trainer.fit()
    path = trainer.save_samples()
    assert path == tmp_path / "exp/samples/step-000000002.png" and path.is_file()
    module, meta = trainer.export_model()
    assert meta == {"kind": "generator", "latent_dim": 16, "image_size": 8, "channels": 1, "recipe": "dcgan",
                    "dataset": "digits", "step": 2}
    out = module(torch.randn(5, 16))
    assert out.shape == (5, 1, 8, 8) and out.dtype == torch.float32
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0


def test_cli_train_then_eval_end_to_end(tmp_path):
    from artengine.cli import get_cli

    out = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(get_cli(), ["train", "dcgan", "--data", "digits", "--steps", "3", "--image-size", "16",
                                    "--batch-size", "8", "--out", str(out), "--quiet",
                                    "--set", "generator.width=8", "--set", "discriminator.width=8"])
    assert res.exit_code == 0, res.output
    assert (out / "samples/step-000000003.png").is_file()
    assert (out / "checkpoints/step-000000003.safetensors").is_file()
    res = runner.invoke(get_cli(), ["eval", str(out), "--samples", "200", "--json", "--no-features"])
    assert res.exit_code == 0, res.output
    result = json.loads((out / "eval.json").read_text())
    assert result["dataset"] == "digits" and result["step"] == 3 and result["num_modes"] == 10
    for key in ("modes_covered", "kl", "fid_classifier", "diversity", "diversity_real", "collapse_warning"):
        assert key in result
    assert any(r.get("event") == "eval" for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines()))

    # the exported model alone (no run directory) is evaluated through onnxruntime against its dataset
    model = tmp_path / "digits.onnx"
    res = runner.invoke(get_cli(), ["export", str(out), "--out", str(model)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(get_cli(), ["eval", str(model), "--samples", "200", "--out", str(tmp_path / "m.json"),
                                    "--no-features"])
    assert res.exit_code == 0, res.output
    from_file = json.loads((tmp_path / "m.json").read_text())
    assert from_file["dataset"] == "digits" and from_file["step"] == 3 and from_file["model"] == str(model)
    assert from_file["diversity_real"] == result["diversity_real"]  # same real data, rebuilt from metadata
    assert 1 <= from_file["modes_covered"] <= 10 and from_file["kl"] >= 0
    assert abs(from_file["diversity"] - result["diversity"]) < 0.25 * result["diversity"] + 1e-6


def test_eval_every_logs_mode_coverage_during_training_and_eval_takes_a_checkpoint(tmp_path):
    from artengine.cli import get_cli

    out = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(get_cli(), ["train", "dcgan", "--data", "digits", "--steps", "4", "--image-size", "8",
                                    "--batch-size", "8", "--out", str(out), "--quiet",
                                    "--set", "eval_every=2", "--set", "eval_samples=200",
                                    "--set", "eval_feature_samples=0",
                                    "--set", "checkpoint_every=2",
                                    *[x for k, v in TINY.items() if "every" not in k for x in ("--set", f"{k}={v}")]])
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r.get("event") == "eval"]
    assert [r["step"] for r in evals] == [2, 4]
    assert all(1 <= r["modes_covered"] <= 10 and r["samples"] == 200 and "diversity_ratio" in r for r in evals)

    res = runner.invoke(get_cli(), ["eval", str(out), "--samples", "200", "--checkpoint", "step-000000002",
                                    "--json", "--no-features"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "eval.json").read_text())["step"] == 2


def test_cli_eval_of_a_file_that_is_not_a_model_is_clear(tmp_path):
    from artengine.cli import get_cli

    bogus = tmp_path / "notes.onnx"
    bogus.write_text("not a model")
    res = CliRunner().invoke(get_cli(), ["eval", str(bogus)])
    assert res.exit_code != 0
    assert "notes.onnx" in res.output and "Traceback" not in res.output


def test_pacgan_packing_feeds_groups_of_images_to_the_discriminator(tmp_path):
    trainer = tiny_trainer(tmp_path / "pac", steps=2, **{"trainer.pack": "2"})
    assert trainer.fit() and trainer.step == 2
    first = next(m for m in trainer.D.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == 2 * trainer.channels  # two grey digits stacked on channels
    assert trainer.D_train(torch.zeros(8, 1, 8, 8)).shape == (4,)  # one logit per pair


def test_linear_lr_decay_follows_the_budget(tmp_path):
    trainer = tiny_trainer(tmp_path / "decay", steps=4, **{"trainer.lr_decay": "linear",
                                                             "trainer.lr_decay_start": "0.5"})
    trainer.fit()
    records = [json.loads(line) for line in (tmp_path / "decay/metrics.jsonl").read_text().splitlines()]
    assert [r["lr_scale"] for r in records if "lr_scale" in r] == [1.0, 1.0, 1.0, 0.5]  # step 4 starts at 3/4
    lr_g, lr_d = trainer.cfg.lr_g, trainer.cfg.lr_d
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(0.5 * lr_g)
    assert trainer.opt_d.param_groups[0]["lr"] == pytest.approx(0.5 * lr_d)
    assert trainer.progress() == 1.0 and trainer.lr_scale() == 0.0

    plain = tiny_trainer(tmp_path / "plain", steps=2)
    plain.fit()
    assert plain.lr_scale() == 1.0 and plain.opt_g.param_groups[0]["lr"] == plain.cfg.lr_g


def test_pacgan_pack_must_divide_the_batch(tmp_path):
    from artengine.errors import ConfigError

    with pytest.raises(ConfigError, match="trainer.pack=3 must divide batch_size=8"):
        tiny_trainer(tmp_path / "pac3", steps=1, **{"trainer.pack": "3"}).fit()


def test_cli_reports_bad_image_size_clearly(tmp_path):
    from artengine.cli import get_cli

    res = CliRunner().invoke(get_cli(), ["train", "dcgan", "--data", "digits", "--steps", "1", "--image-size",
                                         "24", "--out", str(tmp_path / "bad"), "--quiet"])
    assert res.exit_code != 0
    assert "power of two" in res.output and "Traceback" not in res.output


@pytest.mark.slow
def test_digits_training_covers_all_ten_modes(tmp_path):
    from artengine.evaluation import evaluate_run

    out = tmp_path / "digits"
    trainer = tiny_trainer(out, steps=1500, image_size=32, batch_size=64, **{
        "generator.width": "32", "generator.latent_dim": "100", "discriminator.width": "32"})
    trainer.fit()
    result = evaluate_run(out, samples=10000)
    assert result["modes_covered"] == 10, result
    assert result["kl"] < 0.1, result


def test_a_trainer_built_from_python_writes_the_config_the_cli_would(tmp_path):
    from artengine.training.precision import resolve_precision

    trainer = tiny_trainer(tmp_path / "py", steps=1)
    saved = json.loads((tmp_path / "py/config.json").read_text())
    auto_here = resolve_precision("auto", torch.device("cpu"))  # bf16 on AMX / AVX512-BF16 CPUs, else fp32
    assert saved["resolved_precision"] == trainer.precision == auto_here and saved["resolved_device"] == "cpu"
    assert saved["channels"] == 1 and saved["dataset_info"]["name"] == "digits" and "torch" in saved["versions"]
    assert trainer.ctx.config.resolved and trainer.settings.channels == 1


def test_drift_and_lazy_r1_are_the_trainers_regularizers(tmp_path):
    plain = tiny_trainer(tmp_path / "plain", loss="wgan-gp", **{"discriminator.norm": "none",
                                                                "loss.gp_weight": "0", "trainer.r1_gamma": "0"})
    plain.setup()
    assert plain.train_step()["penalty"] == 0.0
    drift = tiny_trainer(tmp_path / "drift", loss="wgan-gp", **{"discriminator.norm": "none", "loss.gp_weight": "0",
                                                                "trainer.drift": "0.5", "trainer.r1_gamma": "0"})
    drift.setup()
    assert drift.train_step()["penalty"] > 0
    lazy = tiny_trainer(tmp_path / "lazy", **{"trainer.r1_gamma": "5", "trainer.r1_every": "2",
                                              "discriminator.norm": "none"})
    lazy.setup()
    penalties = []
    for _ in range(4):
        penalties.append(lazy.train_step()["penalty"])
        lazy.step += 1
    assert penalties[0] > 0 and penalties[1] == 0.0 and penalties[2] > 0 and penalties[3] == 0.0


def test_everything_d_sees_goes_through_augment(tmp_path):
    trainer = tiny_trainer(tmp_path / "aug", **{"trainer.r1_gamma": "1", "discriminator.norm": "none"})
    seen = []

    def augment(images):
        seen.append(images.shape[0])
        return images.flip(-1)

    trainer.augment = augment
    trainer.setup()
    trainer.train_step()
    assert len(seen) == 4  # D on reals, on fakes, R1 on reals, then G's fakes
