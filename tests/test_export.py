"""ONNX export: the contract, metadata, verification (parity, range) and the speed variants.

Unit tests export small real generators (TorchScript path, fast); the end-to-end test trains real
DCGAN and ProGAN runs for two steps and exports them with the default (dynamo) path via the CLI.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from artengine import pluginhost
from artengine.cli import get_cli
from artengine.errors import UnknownComponentError
from artengine.export.api import export_module
from artengine.export.errors import ExportError
from artengine.hookspecs import hookimpl
from artengine.registry import Registry
from artengine.runtime import latents, load_model

META = {"kind": "generator", "latent_dim": 8, "image_size": 8, "channels": 3, "recipe": "test", "dataset": "digits",
        "step": 7}


class TinyGenerator(nn.Module):
    """DCGAN-shaped: z -> 4x4 -> 8x8, output mapped to [0, 1]."""

    def __init__(self, latent_dim: int = 8, channels: int = 3, scale: float = 0.5):
        super().__init__()
        self.scale = scale
        self.net = nn.Sequential(nn.ConvTranspose2d(latent_dim, 16, 4, 1, 0), nn.BatchNorm2d(16), nn.ReLU(),
                                 nn.ConvTranspose2d(16, channels, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(z[:, :, None, None]) * self.scale + 0.5


class NoisyGenerator(TinyGenerator):
    """Random at inference time: onnxruntime cannot match PyTorch, so verification must refuse it."""

    def forward(self, z):
        out = super().forward(z)
        return (out + torch.rand_like(out) * 0.2).clamp(0, 1)


def _export(module, path, **options):
    torch.manual_seed(0)
    return export_module(module, META, path, options={"exporter": "torchscript", **options},
                         config={"recipe": "test", "seed": 3, "dataset": {"name": "digits"}})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.manual_seed(0)
    gen = TinyGenerator().eval()
    path = tmp_path_factory.mktemp("export") / "tiny.onnx"
    report = _export(gen, path)
    return gen, path, report


def test_contract_names_dynamic_batch_and_metadata(tiny):
    gen, path, report = tiny
    model = onnx.load(str(path))
    assert [i.name for i in model.graph.input] == ["z"]
    assert [o.name for o in model.graph.output] == ["image"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and dims[1].dim_value == 8
    props = {p.key: p.value for p in model.metadata_props}
    for key in ("kind", "latent_dim", "image_size", "channels", "recipe", "dataset", "version", "step",
                "config_hash", "exporter"):
        assert props.get(f"artengine.{key}"), key
    assert props["artengine.latent_dim"] == "8" and props["artengine.step"] == "7"
    assert props["artengine.dataset_license"] == "CC BY 4.0"  # from the digits dataset's registration
    onnx.checker.check_model(model, full_check=True)
    runtime = load_model(path)
    for batch in (1, 5):
        z = latents(1, batch, 8)
        got = runtime.generate(z)
        with torch.no_grad():
            want = gen(torch.from_numpy(z)).numpy()
        assert got.shape == (batch, 3, 8, 8)
        assert np.abs(got - want).max() <= 1e-4
    assert report.max_abs_diff <= 1e-4


def test_verification_failure_is_clear_and_leaves_no_file(tmp_path):
    out = tmp_path / "noisy.onnx"
    with pytest.raises(ExportError, match="differs from PyTorch"):
        _export(NoisyGenerator().eval(), out)
    assert list(tmp_path.iterdir()) == []


def test_output_outside_unit_range_is_refused(tmp_path):
    out = tmp_path / "wide.onnx"
    with pytest.raises(ExportError, match=r"\[0, 1\]"):
        _export(TinyGenerator(scale=3.0).eval(), out)
    assert not out.exists()


@pytest.mark.parametrize("variant", ["int8", "fp16"])
def test_speed_variants_stay_close_to_fp32(tiny, tmp_path, variant):
    gen, fp32_path, _ = tiny
    out = tmp_path / f"{variant}.onnx"
    report = _export(gen, out, quantize=variant)
    fast, ref = load_model(out), load_model(fp32_path)
    assert fast.metadata["quantize"] == variant
    z = latents(5, 32, 8)
    diff = np.abs(fast.generate(z) - ref.generate(z))
    bound = 0.05 if variant == "int8" else 1e-3
    assert diff.max() <= bound and report.quantized_max_diff <= bound
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert ("QuantizeLinear" in ops) if variant == "int8" else ("Cast" in ops)


class TinyStyleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(3, 8, 3), nn.InstanceNorm2d(8, affine=True),
                                 nn.ReLU(), nn.Conv2d(8, 8, 3, 2, 1), nn.ReLU(), nn.Upsample(scale_factor=2),
                                 nn.Conv2d(8, 3, 3, 1, 1), nn.Sigmoid())

    def forward(self, image):
        return self.net(image)


def test_image_to_image_has_dynamic_height_and_width(tmp_path):
    torch.manual_seed(0)
    net = TinyStyleNet().eval()
    out = tmp_path / "style.onnx"
    export_module(net, {"kind": "image-to-image", "style": "starry-night", "image_size": 32, "channels": 3}, out,
                  options={"exporter": "torchscript"})
    model = load_model(out)
    assert model.kind == "image-to-image" and model.metadata["style"] == "starry-night"
    for h, w in ((16, 24), (40, 32)):
        x = np.random.default_rng(h).random((2, 3, h, w), dtype=np.float32)
        with torch.no_grad():
            want = net(torch.from_numpy(x)).numpy()
        assert np.abs(model.stylize(x) - want).max() <= 1e-4


@pytest.mark.parametrize("recipe", ["dcgan", pytest.param("progan", marks=pytest.mark.slow)])
def test_trained_run_exports_through_cli_with_default_exporter(tmp_path, recipe):
    from artengine.training.build import load_trainer

    runner = CliRunner()
    run = tmp_path / "run"
    res = runner.invoke(get_cli(), ["train", recipe, "--data", "digits", "--image-size", "16", "--steps", "2",
                                    "--batch-size", "8", "--out", str(run), "--quiet"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "model.onnx"
    res = runner.invoke(get_cli(), ["export", str(run), "--out", str(out)])
    assert res.exit_code == 0, res.output
    model = load_model(out)
    meta = model.metadata
    assert meta["recipe"] == recipe and meta["dataset"] == "digits" and meta["step"] == "2"
    assert meta["exporter"] == ("dynamo" if "dynamo" in torch.onnx.export.__code__.co_varnames else "torchscript")
    size = int(meta["image_size"])  # ProGAN exports its current resolution (4x4 after two steps)
    assert size <= 16 and int(meta["channels"]) == model.channels
    module, _ = load_trainer(run).export_model()
    z = latents(0, 3, model.latent_dim)
    with torch.no_grad():
        want = module(torch.from_numpy(z)).numpy()
    got = model.generate(z)
    assert got.shape == (3, model.channels, size, size)
    assert np.abs(got - want).max() <= 1e-4
    if recipe == "dcgan":  # --no-ema exports the raw trained generator, a different network
        raw = tmp_path / "raw.onnx"
        res = runner.invoke(get_cli(), ["export", str(run), "--out", str(raw), "--no-ema", "--exporter", "torchscript"])
        assert res.exit_code == 0, res.output
        raw_module, _ = load_trainer(run).export_model(ema=False)
        with torch.no_grad():
            want_raw = raw_module(torch.from_numpy(z)).numpy()
        got_raw = load_model(raw).generate(z)
        assert np.abs(got_raw - want_raw).max() <= 1e-4
        assert np.abs(want_raw - want).max() > 1e-5  # EMA (warm-up) and raw weights differ


class _TorchScriptFormat:
    """A third-party format added through the public ``register_exporters`` hook."""

    @staticmethod
    @hookimpl
    def register_exporters(register):
        class Exporter:
            def export(self, module, meta, out, *, metadata):
                traced = torch.jit.trace(module.eval(), torch.zeros(1, int(meta["latent_dim"])))
                traced.save(str(out))
                return out

        register("torchscript-file", Exporter, description="a traced TorchScript file")


def test_plugins_add_export_formats_through_register_exporters(monkeypatch, tmp_path):
    monkeypatch.setenv("ARTENGINE_LOAD_PLUGINS", "")
    host = pluginhost.PluginHost()
    host.pm.register(_TorchScriptFormat, name="ts-plugin")
    reg = Registry(host)
    assert {"onnx", "torchscript-file"} <= set(reg.names("exporters"))
    torch.manual_seed(0)
    gen = TinyGenerator().eval()
    out = export_module(gen, META, tmp_path / "g.pt", exporter="torchscript-file", registry=reg)
    z = torch.randn(3, 8)
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(out))(z), gen(z))
    with pytest.raises(UnknownComponentError, match="unknown exporter 'onx'.*Did you mean 'onnx'"):
        export_module(gen, META, tmp_path / "x", exporter="onx", registry=reg)


def train_fast_style(runner: CliRunner, run, *, image_size: int, steps: int, batch_size: int):
    """A fast-style run of a few steps on the shapes, through the CLI."""
    res = runner.invoke(get_cli(), ["train", "fast-style", "--style", "starry-night", "--data", "shapes",
                                    "--image-size", str(image_size), "--steps", str(steps), "--batch-size",
                                    str(batch_size), "--out", str(run), "--quiet"])
    assert res.exit_code == 0, res.output
    return run


@pytest.mark.slow
def test_fast_style_run_exports_with_dynamic_height_and_width(tmp_path):
    """The style plugin's fast-style trainer: image-to-image export, parity at sizes other than the traced one."""
    from artengine.training.build import load_trainer

    runner = CliRunner()
    run = train_fast_style(runner, tmp_path / "run", image_size=32, steps=2, batch_size=2)
    out = tmp_path / "style.onnx"
    res = runner.invoke(get_cli(), ["export", str(run), "--out", str(out)])
    assert res.exit_code == 0, res.output
    model = load_model(out)
    assert model.kind == "image-to-image" and model.metadata["style"] == "starry-night"
    module, _ = load_trainer(run).export_model()
    for h, w in ((24, 40), (48, 32)):
        x = np.random.default_rng(h).random((1, 3, h, w), dtype=np.float32)
        with torch.no_grad():
            want = module(torch.from_numpy(x)).numpy()
        assert np.abs(model.stylize(x) - want).max() <= 1e-4


def test_no_ema_is_a_clear_error_for_a_trainer_without_a_raw_network(tmp_path):
    """``export --no-ema`` asks for a capability (``exports_raw``), not a signature: a fast-style run has no
    raw network beside an EMA copy, so the command fails with one message and writes nothing."""
    runner = CliRunner()
    run = train_fast_style(runner, tmp_path / "run", image_size=16, steps=1, batch_size=1)
    raw = tmp_path / "raw.onnx"
    res = runner.invoke(get_cli(), ["export", str(run), "--out", str(raw), "--no-ema"])
    assert res.exit_code != 0 and "keeps no separate EMA generator" in res.output, res.output
    assert "Traceback" not in res.output and not raw.exists()


def test_int8_rewrite_is_exact_and_recorded(tiny, tmp_path):
    """Batch-norm folding, the phase-conv form of ConvTranspose(4, 2, 1) and the matrix-product form of the
    first layer change no output."""
    from artengine.plugins.onnx_export.rewrite import PhaseConvTranspose, ProjectionConvTranspose, for_int8

    gen, _, _ = tiny
    fast, stats = for_int8(gen)
    assert stats == {"folded_batch_norms": 1, "phase_convs": 1, "projections": 1}
    assert any(isinstance(m, PhaseConvTranspose) for m in fast.modules())
    assert not any(isinstance(m, PhaseConvTranspose) for m in gen.modules())  # the original is untouched
    z = torch.randn(5, 8)
    with torch.no_grad():
        assert torch.allclose(fast(z), gen(z), atol=1e-5)
    ct = nn.ConvTranspose2d(6, 5, 4, 2, 1, bias=True)
    x = torch.randn(2, 6, 5, 7)
    with torch.no_grad():
        assert torch.allclose(PhaseConvTranspose(ct)(x), ct(x), atol=1e-5)
    first = nn.ConvTranspose2d(6, 5, 4, 1, 0, bias=True)
    with torch.no_grad():
        assert torch.allclose(ProjectionConvTranspose(first)(x[:, :, :1, :1]), first(x[:, :, :1, :1]), atol=1e-5)
        assert torch.allclose(ProjectionConvTranspose(first)(x), first(x), atol=1e-5)  # not 1x1: as before
    _export(gen, tmp_path / "int8.onnx", quantize="int8")
    model = load_model(tmp_path / "int8.onnx")
    assert model.metadata["rewrite.phase_convs"] == "1" and model.metadata["rewrite.projections"] == "1"
    nodes = onnx.load(str(model.path)).graph.node
    assert "ConvTranspose" not in {n.op_type for n in nodes}
    assert "BatchNormalization" not in {n.op_type for n in nodes}
