"""`--precision auto`: bf16 + channels-last exactly where the hardware runs bf16 natively, fp32 elsewhere."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from artengine.cli import get_cli
from artengine.training import precision as prec


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
