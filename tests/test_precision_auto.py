"""`--precision auto`: bf16 exactly where the hardware runs bf16 natively, fp32 elsewhere; training goes
channels-last either way (an explicit --precision keeps the channels_last setting as given)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from artengine.cli import get_cli
from artengine.training import precision as prec

CPUINFO = Path("/proc/cpuinfo").read_text(errors="ignore") if Path("/proc/cpuinfo").is_file() else ""


@pytest.mark.parametrize("native", [False, True])
def test_native_bf16_follows_the_cpu_capability(monkeypatch, native):
    monkeypatch.setattr(prec, "cpu_has_bf16", lambda: native)
    cpu = torch.device("cpu")
    assert prec.native_bf16(cpu) is native
    assert prec.resolve_precision("auto", cpu) == ("bf16" if native else "fp32")
    assert ("native bf16" in prec.precision_reason(cpu)) and (("no native" in prec.precision_reason(cpu)) != native)


@pytest.mark.parametrize("native", [False, True])
def test_style_auto_precision_is_shown_and_recorded(monkeypatch, tmp_path, native):
    monkeypatch.setattr(prec, "cpu_has_bf16", lambda: native)
    out = tmp_path / "s.png"
    result = CliRunner().invoke(get_cli(), ["style", "astronaut", "starry-night", "--size", "32", "--steps", "1",
                                            "--device", "cpu", "--no-animation", "--out", str(out)])
    assert result.exit_code == 0, result.output
    want = "bf16" if native else "fp32"
    assert f"precision: {want}" in result.output and "(auto: CPU" in result.output
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["settings"]["precision"] == want and sidecar["settings"]["channels_last"] is native


def _dcgan_config(out, **cli):
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve

    return resolve("dcgan", registry=get_registry(),
                   cli_values={"data": "digits", "out": str(out), "steps": 1, "image_size": 8, "batch_size": 8,
                               "device": "cpu", **cli},
                   set_values={"generator.width": "8", "discriminator.width": "8", "sample_every": "0"})


@pytest.mark.parametrize("native", [False, True])
def test_recipes_default_to_auto_and_record_what_it_picked(monkeypatch, tmp_path, native):
    from artengine.training.build import build_trainer

    monkeypatch.setattr(prec, "cpu_has_bf16", lambda: native)
    config = _dcgan_config(tmp_path / "run")
    assert config.settings.precision == "auto"  # no recipe pins fp32 any more
    trainer = build_trainer(config)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    want = "bf16" if native else "fp32"
    assert trainer.precision == want and saved["resolved_precision"] == want and saved["precision"] == "auto"
    # channels-last either way: bf16's native kernels want it, and fp32 convolutions run faster in it too
    assert trainer.settings.channels_last and saved["channels_last"]
    trainer.setup()
    conv = next(p for p in trainer.D.parameters() if p.dim() == 4 and p.shape[1] > 1 and p.shape[-1] > 1)
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert all(math.isfinite(v) for v in trainer.train_step().values())


def test_explicit_precision_is_kept(tmp_path, monkeypatch):
    from artengine.training.build import build_trainer

    monkeypatch.setattr(prec, "cpu_has_bf16", lambda: True)
    trainer = build_trainer(_dcgan_config(tmp_path / "run", precision="fp32"))
    assert trainer.precision == "fp32" and not trainer.settings.channels_last


def test_train_cli_first_line_says_the_precision(tmp_path):
    from tests.helpers_cli import run_cli

    proc = run_cli("train", "dcgan", "--data", "digits", "--image-size", "8", "--batch-size", "8", "--steps", "1",
                   "--set", "generator.width=8", "--set", "discriminator.width=8", "--out", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    # printed once the run is built, before any training line (setup's own notes, e.g. augment, come first)
    line = next(i for i, text in enumerate(lines) if text.startswith("dcgan on cpu: precision "))
    assert "(auto: CPU " in lines[line] and not any("step" in text for text in lines[:line]), lines


@pytest.mark.parametrize(("capability", "native"), [("AVX2", False), ("DEFAULT", False), ("AVX512", None)])
def test_bf16_is_native_only_where_torch_runs_above_avx2(monkeypatch, capability, native):
    # a CPU with AMX flags that torch is told to run at AVX2 (how an AVX2 machine is timed on an AMX one)
    # gets fp32; at AVX512 the CPU's own flags decide
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    expected = native if native is not None else ("amx_bf16" in CPUINFO or "avx512_bf16" in CPUINFO)
    assert prec.cpu_has_bf16() is expected
