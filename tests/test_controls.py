"""The generic extra-input ("controls") contract of exported models: declaration, validation, feeding."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from artengine.errors import ArtengineError, ModelFileError
from artengine.export.api import export_module
from artengine.runtime import load_model
from artengine.runtime.controls import ExtraInput, feeds_for, parse_extra_inputs

GAIN = {"name": "gain", "type": "float32", "default": 1.0, "min": 0.0, "max": 2.0,
        "description": "brightness multiplier"}
META = {"kind": "generator", "latent_dim": 4, "image_size": 4, "channels": 1, "extra_inputs": [GAIN]}


class GainGenerator(nn.Module):
    """z -> a 4x4 image scaled per sample by the extra input ``gain``."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 16)

    def forward(self, z: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
        img = torch.sigmoid(self.fc(z)).reshape(-1, 1, 4, 4) * 0.5
        return img * gain.reshape(-1, 1, 1, 1)


@pytest.fixture(scope="module")
def gain_model(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("controls") / "gain.onnx"
    export_module(GainGenerator().eval(), META, path, options={"exporter": "torchscript"})
    return path


def test_an_extra_input_is_exported_declared_and_fed(gain_model):
    props = {p.key: p.value for p in onnx.load(str(gain_model)).metadata_props}
    assert json.loads(props["artengine.extra_inputs"]) == [GAIN]
    model = load_model(gain_model)
    assert list(model.controls) == ["gain"] and model.controls["gain"].max == 2.0
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    base = model.generate(z)  # the default, 1.0
    np.testing.assert_allclose(model.generate(z, controls={"gain": 2.0}), 2 * base, rtol=1e-5)
    per_sample = model.generate(z, controls={"gain": [0.0, 1.0, 2.0]})
    np.testing.assert_allclose(per_sample, base * np.array([0, 1, 2], np.float32)[:, None, None, None], rtol=1e-5)
    np.testing.assert_allclose(model.generate(z, batch_size=2, controls={"gain": [0.0, 1.0, 2.0]}), per_sample)


def test_models_without_extra_inputs_declare_none(tiny_onnx_model):
    props = {p.key for p in onnx.load(str(tiny_onnx_model)).metadata_props}
    assert "artengine.extra_inputs" not in props
    model = load_model(tiny_onnx_model)
    assert model.extra_inputs == [] and model.controls == {}
    with pytest.raises(ArtengineError, match="has no control 'psi'; its controls: none"):
        model.generate(np.zeros((1, model.latent_dim), np.float32), controls={"psi": 0.5})


def test_bad_values_and_unknown_names_are_clear_errors(gain_model):
    model = load_model(gain_model)
    z = np.zeros((2, 4), np.float32)
    with pytest.raises(ArtengineError, match=r"'gain' must lie in \[0, 2\], got 3"):
        model.generate(z, controls={"gain": 3.0})
    with pytest.raises(ArtengineError, match="finite"):
        model.generate(z, controls={"gain": float("nan")})
    with pytest.raises(ArtengineError, match="one value or 2 values"):
        model.generate(z, controls={"gain": [1.0, 1.0, 1.0]})
    with pytest.raises(ArtengineError, match="no control 'psi'; its controls: gain"):
        model.generate(z, controls={"psi": 1.0})


def test_render_cli_lists_and_sets_controls(gain_model, tmp_path):
    from tests.helpers_cli import run_cli

    listing = run_cli("render", str(gain_model), "--controls", check=True).stdout
    assert "gain  float32 in [0, 2], default 1: brightness multiplier" in listing
    out = tmp_path / "r"
    run_cli("render", str(gain_model), "--out", str(out), "--n", "2", "--control", "gain=0.5", check=True)
    assert json.loads((out / "render.json").read_text())["controls"] == {"gain": 0.5}
    bad = run_cli("render", str(gain_model), "--out", str(tmp_path / "bad"), "--psi", "0.5")
    assert bad.returncode == 1 and "no control 'psi'" in bad.stderr and "Traceback" not in bad.stderr


def test_a_damaged_declaration_makes_the_file_not_ours(gain_model, tmp_path):
    model = onnx.load(str(gain_model))
    for prop in model.metadata_props:
        if prop.key == "artengine.extra_inputs":
            prop.value = '[{"name": "gain", "default": 5, "min": 0, "max": 2}]'
    damaged = tmp_path / "damaged.onnx"
    onnx.save(model, str(damaged))
    with pytest.raises(ModelFileError, match="min <= default <= max"):
        load_model(damaged)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=40), st.integers(), st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["name", "type", "default", "min", "max", "description"]),
                    st.one_of(st.text(max_size=8), st.floats(allow_nan=True), st.integers(), st.none()), max_size=6),
    st.text(max_size=5), st.integers()), max_size=3)))
def test_any_declaration_parses_or_fails_with_value_error(value):
    try:
        specs = parse_extra_inputs(value if not isinstance(value, list) else json.dumps(value, default=str))
    except ValueError as exc:
        assert str(exc)
        return
    for spec in specs:
        assert isinstance(spec, ExtraInput) and spec.min <= spec.default <= spec.max and spec.name.isidentifier()


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats(), st.lists(st.floats(), max_size=4), st.text(max_size=5), st.none()))
def test_any_control_value_is_fed_in_range_or_refused(value):
    spec = ExtraInput("gain", "float32", 1.0, 0.0, 2.0)
    try:
        feeds = feeds_for([spec], {"gain": value}, 3)
    except ArtengineError as exc:
        assert "gain" in str(exc)
        return
    arr = feeds["gain"]
    assert arr.shape == (3,) and arr.dtype == np.float32 and ((arr >= 0) & (arr <= 2)).all()
