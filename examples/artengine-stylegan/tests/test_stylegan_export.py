"""A trained StyleGAN run exported to ONNX: psi as a declared extra input, parity with PyTorch,
the two-file export, and render's --psi / --style-mix through the real CLI."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from stylegan_cli import run_cli
from test_stylegan_train import TINY

from artengine.runtime import latents, load_model
from artengine.runtime.wspace import StyleSpace
from artengine.training.build import load_trainer


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("stylegan-export")
    run = root / "run"
    run_cli("train", "stylegan", "--data", "digits", "--image-size", "16", "--batch-size", "8", "--steps", "3",
            "--device", "cpu", "--quiet", "--out", str(run), *TINY)
    run_cli("export", str(run), "--out", str(root / "model.onnx"), "--parts")
    return run, root / "model.onnx"


def test_psi_is_declared_generically_in_the_metadata(exported):
    _, path = exported
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    (spec,) = json.loads(props["artengine.extra_inputs"])
    assert spec["name"] == "psi" and spec["type"] == "float32" and spec["default"] == 1.0
    assert (spec["min"], spec["max"]) == (0.0, 1.0) and spec["description"]
    assert json.loads(props["artengine.parts"]) == {"mapping": "model.mapping.onnx",
                                                    "synthesis": "model.synthesis.onnx"}
    model = load_model(path)
    assert [i.name for i in model.session.get_inputs()] == ["z", "psi"]
    assert list(model.controls) == ["psi"]


@pytest.mark.parametrize("psi", [0.5, 1.0])
def test_onnxruntime_matches_pytorch_at_two_truncations(exported, psi):
    run, path = exported
    module, _ = load_trainer(run).export_model()
    z = latents(seed=4, n=5, dim=8)
    with torch.no_grad():
        expected = module(torch.from_numpy(z), torch.full((5,), psi)).numpy()
    got = load_model(path).generate(z, controls={"psi": psi})
    assert got.shape == (5, 1, 16, 16)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_psi_zero_gives_one_image_and_the_two_parts_compose_to_the_model(exported):
    _, path = exported
    model = load_model(path)
    z = latents(seed=1, n=4, dim=8)
    same = model.generate(z, controls={"psi": 0.0})
    assert float(np.abs(same - same[:1]).max()) < 1e-5
    assert float(np.abs(model.generate(z) - model.generate(z)[:1]).max()) > 1e-3  # default psi 1: varied
    styles = StyleSpace.of(model)
    assert styles.num_ws == 6 and styles.w_dim == 8
    for psi in (0.3, 1.0):
        np.testing.assert_allclose(styles.images(styles.w(z, {"psi": psi})), model.generate(z, controls={"psi": psi}),
                                   atol=1e-4, rtol=0)


def test_render_psi_style_mix_and_w_walk_through_the_cli(exported, tmp_path):
    _, path = exported
    out = tmp_path / "render"
    proc = run_cli("render", str(path), "--out", str(out), "--n", "4", "--psi", "0.7", "--style-mix", "1,2", "3,4,5",
                   "--crossover", "2", "--interpolate", "2", "--frames", "3", "--format", "gif")
    assert "style-mix.png" in proc.stdout
    manifest = json.loads((out / "render.json").read_text())
    assert manifest["controls"] == {"psi": 0.7} and manifest["interpolation_space"] == "w"
    assert manifest["style_mix"] == {"rows": [1, 2], "cols": [3, 4, 5], "crossover": 2, "num_ws": 6}
    from PIL import Image

    assert Image.open(out / "style-mix.png").size[0] > Image.open(out / "style-mix.png").size[1]  # 4 wide, 3 high
    # the grid PNG is the same picture the runtime computes at psi 0.7
    pixels = np.asarray(Image.open(out / "images" / "seed0-0000.png"))
    expected = load_model(path).generate(latents(0, 1, 8), controls={"psi": 0.7})[0, 0]
    assert float(np.abs(pixels.astype(np.float32) / 255 - expected).max()) < 1 / 255 + 1e-6
    bad = run_cli("render", str(path), "--out", str(tmp_path / "bad"), "--psi", "3", check=False)
    assert bad.returncode != 0 and "must lie in [0, 1]" in bad.stderr and "Traceback" not in bad.stderr


def test_gallery_shows_the_truncation_strip_and_the_mixing_grid_from_metadata_alone(exported, tmp_path):
    from PIL import Image

    from artengine.gallery import build_gallery

    _, path = exported
    index = build_gallery([path], tmp_path / "gallery", seed=0)
    folder = next(p for p in (tmp_path / "gallery").iterdir() if (p / "control-psi.png").is_file())
    strip = np.asarray(Image.open(folder / "control-psi.png"))
    cell = 16 + 2  # image plus padding; rows are seeds, the first column is psi = 0: one image for every seed
    column_zero = [strip[2 + r * cell:18 + r * cell, 2:18] for r in range(4)]
    assert all(np.array_equal(column_zero[0], c) for c in column_zero[1:])
    assert not np.array_equal(strip[2:18, -18:-2], strip[2 + cell:18 + cell, -18:-2])  # psi = 1: they differ
    assert (folder / "style-mix.png").is_file() and not (folder / "tiles.png").exists()
    page = index.read_text() + "".join(p.read_text() for p in (tmp_path / "gallery").glob("*.html"))
    assert "psi from 0 (left) to 1 (right)" in page and "style mixing: each cell" in page
