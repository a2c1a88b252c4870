"""``--compile`` and the balance rule without a host sync: real tiny DCGAN trainers on digits."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from artengine.pluginhost import get_registry
from artengine.runconfig import resolve
from artengine.training.build import build_trainer
from artengine.training.compile import CompiledStep

TINY = {"generator.width": "8", "generator.latent_dim": "16", "discriminator.width": "8", "log_every": "1",
        "sample_every": "0", "checkpoint_every": "0"}


def tiny(out, *, compile: bool = False, **overrides: str):
    config = resolve("dcgan", registry=get_registry(),
                     cli_values={"data": "digits", "out": str(out), "steps": 3, "image_size": 8, "batch_size": 8,
                                 "seed": 3, "device": "cpu", "precision": "fp32", "compile": compile},
                     # R1 off unless a test asks: D stays eager when a penalty differentiates it twice
                     set_values={**TINY, "trainer.r1_gamma": "0", **overrides})
    return build_trainer(config)


def test_compile_goes_through_dynamo_and_trains(tmp_path, monkeypatch, capsys):
    # the real torch.compile front end (dynamo tracing of G and D, the probe's backward), with the
    # eager backend so no C++ compiler is needed in the test run
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))
    trainer = tiny(tmp_path / "c", compile=True)
    trainer.setup()
    assert isinstance(trainer.G_train, CompiledStep) and trainer.G_train.active
    assert isinstance(trainer.D_train, CompiledStep) and trainer.D_train.active
    for _ in range(2):
        metrics = trainer.train_step()
        trainer.step += 1
    assert math.isfinite(metrics["loss_d"]) and math.isfinite(metrics["loss_g"])
    assert "compile:" not in capsys.readouterr().err  # nothing failed, nothing to say


def test_probe_leaves_weights_buffers_and_grads_as_they_were(tmp_path, monkeypatch):
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))
    from artengine.training.trainer import seed_everything

    plain = tiny(tmp_path / "p")
    seed_everything(3)
    plain.setup()
    compiled = tiny(tmp_path / "c", compile=True)
    seed_everything(3)
    compiled.setup()
    for a, b in ((plain.G, compiled.G), (plain.D, compiled.D)):
        sa, sb = a.state_dict(), b.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)  # batch-norm statistics included
        assert all(p.grad is None for p in b.parameters())


def test_a_compiler_failure_is_one_message_and_eager_training(tmp_path, monkeypatch, capsys):
    def broken_compile(module, **kwargs):
        def run(*args, **kw):
            raise AssertionError("expected size 8==8, stride 1==64 at dim=1 (simulated inductor stride check)")
        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    trainer = tiny(tmp_path / "b", compile=True)
    trainer.setup()
    err = capsys.readouterr().err
    assert "compile: G runs eager; torch.compile failed (AssertionError: expected size" in err
    assert "compile: D runs eager" in err
    assert not trainer.G_train.active and not trainer.D_train.active
    metrics = trainer.train_step()
    assert math.isfinite(metrics["loss_g"])
    assert "compile:" not in capsys.readouterr().err  # said once


def test_double_backward_regularizers_keep_d_eager(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="eager"))
    trainer = tiny(tmp_path / "r1", compile=True, **{"trainer.r1_gamma": "1", "discriminator.norm": "none"})
    trainer.setup()
    assert isinstance(trainer.G_train, CompiledStep) and not isinstance(trainer.D_train, CompiledStep)
    assert "D runs eager (R1" in capsys.readouterr().err
    assert trainer.train_step()["penalty"] > 0


def test_train_cli_compile_flag_reaches_the_config(tmp_path):
    config = resolve("dcgan", registry=get_registry(), cli_values={"compile": True, "out": str(tmp_path)})
    assert config.settings.compile is True
    assert resolve("dcgan", registry=get_registry(), cli_values={"out": str(tmp_path)}).settings.compile is False


# ---------------------------------------------------------------- the balance rule, no host sync


def _fused(trainer):
    """Decide the balance rule on the device, as on CUDA, with a fused Adam (which also runs on CPU)."""
    cfg = trainer.cfg
    trainer.balance_on_device = True
    trainer.opt_d = torch.optim.Adam(trainer.D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1_d, cfg.beta2_d),
                                     fused=True)
    return trainer


def test_balance_rule_with_a_fused_optimizer_never_reads_the_loss_on_the_host(tmp_path, monkeypatch):
    trainer = tiny(tmp_path / "f", **{"trainer.balance_threshold": "100"})
    trainer.setup()
    _fused(trainer)
    d0 = {k: v.clone() for k, v in trainer.D.state_dict().items() if "running" not in k and "batches" not in k}
    real = trainer.real_images()

    def no_host_read(self, *args):
        raise AssertionError("the D step read a tensor on the host")

    with monkeypatch.context() as m:
        for name in ("__bool__", "__float__", "item", "tolist"):
            m.setattr(torch.Tensor, name, no_host_read)
        stats = trainer.discriminator_step(real)
    assert float(stats["d_skipped"]) == 1.0
    for k, v in d0.items():
        assert torch.equal(v, trainer.D.state_dict()[k]), k  # skipped exactly: Adam left the weights alone
    for _ in range(3):
        metrics = trainer.train_step()
        trainer.step += 1
    assert metrics["d_skips"] == 3.0 and metrics["d_skipped"] == 1.0


def test_balance_rule_off_the_fused_step_updates(tmp_path):
    trainer = _fused_setup(tmp_path, "0")
    d0 = [p.detach().clone() for p in trainer.D.parameters()]
    assert trainer.train_step()["d_skips"] == 0.0
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.D.parameters(), strict=True))
    trainer = _fused_setup(tmp_path / "low", "1e-6")  # threshold below any BCE loss: the rule never fires
    d0 = [p.detach().clone() for p in trainer.D.parameters()]
    metrics = trainer.train_step()
    assert metrics["d_skips"] == 0.0 and metrics["d_skipped"] == 0.0
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.D.parameters(), strict=True))


def _fused_setup(path, threshold: str):
    trainer = tiny(path / "t", **{"trainer.balance_threshold": threshold})
    trainer.setup()
    return _fused(trainer)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # inductor compiles C++ for every graph: minutes on a small CPU
def test_compile_with_inductor_on_cpu(tmp_path):
    trainer = tiny(tmp_path / "i", compile=True)
    trainer.setup()
    metrics = trainer.train_step()
    assert math.isfinite(metrics["loss_g"])
