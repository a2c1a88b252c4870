"""Fast style: the transformation network's ONNX parity, and real training + export through the CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from artengine.cli import get_cli
from artengine.plugins.style.transformer import SpaceToDepthConv, StyleExport, TransformerNet


def test_transformer_keeps_any_size():
    net = TransformerNet(width=8, residual_blocks=1).eval()
    for h, w in ((33, 47), (8, 8), (64, 30)):
        out = net(torch.rand(2, 3, h, w))
        assert out.shape == (2, 3, h, w)
        assert 0 <= out.min() and out.max() <= 1


def test_the_exported_output_layer_computes_the_same_conv_on_the_space_to_depth_input():
    """StyleExport's output layer (a 5x5 conv over the 2x2 space-to-depth of the padded input) gives the
    original 9x9 reflection-padded conv's numbers at even and odd sizes, and leaves the trained net as it was."""
    torch.manual_seed(0)
    net = TransformerNet(width=8, residual_blocks=1).eval()
    exported = StyleExport(net).eval()
    assert isinstance(exported.net.out, SpaceToDepthConv) and not isinstance(net.out, SpaceToDepthConv)
    assert exported.net.out.conv.kernel_size == (5, 5) and exported.net.out.conv.out_channels == 12
    with torch.no_grad():
        for h, w in ((32, 32), (33, 47), (9, 10)):
            x = torch.randn(2, 8, h, w)
            want = net.out(x)
            got = exported.net.out(x)
            assert got.shape == want.shape == (2, 3, h, w)
            assert (got - want).abs().max() <= 1e-5
            image = torch.rand(1, 3, h, w)
            assert (exported(image) - net(image)).abs().max() <= 1e-5
    with pytest.raises(ValueError, match="odd square kernel"):
        SpaceToDepthConv(torch.nn.Identity(), torch.nn.Conv2d(3, 3, 4))


def _export(module, path, exporter: str) -> None:
    example = (torch.rand(1, 3, 48, 40),)
    if exporter == "dynamo":
        dims = {0: torch.export.Dim("batch", min=1, max=64), 2: torch.export.Dim("height", min=8, max=4096),
                3: torch.export.Dim("width", min=8, max=4096)}
        program = torch.onnx.export(module, example, None, input_names=["image"], output_names=["image_out"],
                                    dynamo=True, dynamic_shapes=(dims,), verbose=False, optimize=True)
        program.save(str(path))
        return
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, example, str(path), input_names=["image"], output_names=["image_out"],
                          dynamic_axes={"image": axes, "image_out": axes}, dynamo=False)


# the dynamo exporter takes about a minute on 2 busy cores: slow suite (it passes there)
@pytest.mark.parametrize("exporter", ["torchscript", pytest.param("dynamo", marks=pytest.mark.slow)])
def test_fast_network_onnx_parity_with_dynamic_height_and_width(tmp_path, exporter):
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    module = StyleExport(TransformerNet(width=8, residual_blocks=2)).eval()
    with torch.no_grad():  # non-trivial instance-norm affine parameters
        for m in module.modules():
            if isinstance(m, torch.nn.InstanceNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    path = tmp_path / "fast.onnx"
    _export(module, path, exporter)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for shape in ((1, 3, 37, 50), (2, 3, 64, 24)):
        x = torch.rand(*shape)
        (got,) = session.run(None, {"image": x.numpy()})
        with torch.no_grad():
            want = module(x).numpy()
        assert got.shape == shape
        assert np.abs(got - want).max() <= 1e-4


def test_fast_style_trains_on_a_folder_and_exports(tmp_path, image_folder):
    ort = pytest.importorskip("onnxruntime")
    run = tmp_path / "run"
    result = CliRunner().invoke(get_cli(), [
        "train", "fast-style", "--data", str(image_folder), "--style", "scream", "--out", str(run),
        "--image-size", "32", "--batch-size", "2", "--steps", "3", "--quiet",
        "--width", "8", "--residual-blocks", "1", "--content-layers", "relu2_2",
        "--style-layers", "relu1_1,relu2_1", "--features", "vgg16-hed", "--set", "log_every=1",
        "--set", "eval_every=2"])
    assert result.exit_code == 0, result.output
    assert result.output.count("eval_every is ignored") == 1  # said once, training went on
    config = json.loads((run / "config.json").read_text())
    assert config["trainer"]["name"] == "fast-style" and config["trainer"]["style"] == "scream"
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3]
    assert all(np.isfinite(m["loss"]) and m["loss_style"] > 0 for m in metrics)
    assert list((run / "samples").glob("*.png"))

    from artengine.training.build import load_trainer

    trainer = load_trainer(run)
    module, meta = trainer.export_model()
    assert meta["kind"] == "image-to-image" and meta["style"] == "scream" and meta["recipe"] == "fast-style"
    assert meta["image_size"] == 32 and meta["channels"] == 3 and meta["step"] == 3
    assert meta["settings"]["width"] == 8
    photo = torch.rand(1, 3, 45, 61)
    assert module(photo).shape == photo.shape

    # the core exporter turns it into an ONNX file that stylizes a new photo through onnxruntime alone
    from artengine.export import export_run

    out = tmp_path / "scream.onnx"
    export_run(run, out, options={"exporter": "torchscript", "verify_batch": 1})
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for shape in ((1, 3, 45, 61), (2, 3, 24, 36)):  # dynamic batch, height and width
        photo = torch.rand(*shape)
        (styled,) = session.run(None, {name: photo.numpy()})
        assert styled.shape == shape
        with torch.no_grad():
            assert np.abs(styled - module(photo).numpy()).max() <= 1e-4

    # eval measures generators: for this run and its file it says so instead of failing somewhere deep
    for target in (run, out):
        result = CliRunner().invoke(get_cli(), ["eval", str(target), "--samples", "100"])
        assert result.exit_code != 0 and "image-to-image" in result.output and "Traceback" not in result.output


def test_fast_style_trainer_recipe_and_command_come_through_the_hooks():
    from artengine.pluginhost import get_registry
    from artengine.plugins import style

    recipes = {}
    style.register_recipes(register=lambda recipe: recipes.setdefault(recipe.name, recipe))
    assert recipes["fast-style"].trainer == "fast-style"
    assert recipes["fast-style"].settings["channels"] == 3
    trainers: dict[str, object] = {}
    style.register_trainers(register=lambda name, factory, **kw: trainers.setdefault(name, factory))
    assert trainers == {"fast-style": "artengine.plugins.style.fast_trainer:FastStyleTrainer"}
    assert get_registry().get("recipes", "fast-style").plugin == "artengine.plugins.style"
    assert "style" in get_cli().commands  # added by register_commands
