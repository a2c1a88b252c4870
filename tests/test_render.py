"""`artengine render`: files, provenance in PNG text chunks, determinism, animations, no torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from artengine.runtime import latent, load_model
from artengine.runtime.images import to_uint8


def _render_in_subprocess(args: list[str]) -> str:
    """Run the real CLI in a fresh interpreter; report whether torch got imported."""
    code = ("import sys\nfrom artengine.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('TORCH', 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout
    return out.stdout


def test_render_cli_writes_grid_images_animations_without_torch(tiny_onnx_model, tmp_path):
    out = tmp_path / "r"
    stdout = _render_in_subprocess(["render", str(tiny_onnx_model), "--out", str(out), "--n", "6", "--seed", "4",
                                    "--interpolate", "3", "--frames", "4"])
    assert "TORCH False" in stdout
    grid = Image.open(out / "grid.png")
    assert grid.size[0] > 8 * 2 and grid.text["artengine.count"] == "6"
    files = sorted((out / "images").iterdir())
    assert len(files) == 6
    gif = Image.open(out / "interpolation-seed4-k3.gif")
    assert gif.n_frames == 12
    assert Image.open(out / "interpolation-seed4-k3.webp").n_frames == 12
    manifest = json.loads((out / "render.json").read_text())
    assert manifest["seed"] == 4 and len(manifest["images"]) == 6


def test_each_png_regenerates_from_its_text_chunks(tiny_onnx_model, tmp_path):
    from artengine.render import render

    render(tiny_onnx_model, tmp_path / "a", n=5, seed=11, truncation=0.7)
    img = Image.open(tmp_path / "a" / "images" / "seed11-0003.png")
    text = img.text
    assert text["artengine.model"] == tiny_onnx_model.name and text["artengine.index"] == "3"
    model = load_model(tiny_onnx_model)
    z = latent(int(text["artengine.seed"]), int(text["artengine.index"]), model.latent_dim,
               float(text["artengine.truncation"]))
    again = to_uint8(model.generate(z[None]))[0]
    assert np.array_equal(np.asarray(img.convert("RGB")), again)


def test_same_seed_same_images(tiny_onnx_model, tmp_path):
    from artengine.render import render

    render(tiny_onnx_model, tmp_path / "a", n=4, seed=2)
    render(tiny_onnx_model, tmp_path / "b", n=4, seed=2)
    render(tiny_onnx_model, tmp_path / "c", n=4, seed=3)
    read = lambda d: (tmp_path / d / "grid.png").read_bytes()  # noqa: E731
    assert read("a") == read("b") and read("a") != read("c")


def test_image_to_image_render_takes_photos(tmp_path):
    import torch

    from artengine.export.api import export_module
    from artengine.render import render
    from tests.test_export import TinyStyleNet

    torch.manual_seed(0)
    path = tmp_path / "style.onnx"
    export_module(TinyStyleNet().eval(), {"kind": "image-to-image", "image_size": 32, "channels": 3}, path,
                  options={"exporter": "torchscript"})
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (30, 45, 3), dtype=np.uint8)).save(photos / "a.jpg")
    Image.fromarray(rng.integers(0, 255, (64, 40, 3), dtype=np.uint8)).save(photos / "b.png")
    result = render(path, tmp_path / "out", source=photos)
    assert len(result.images) == 2
    assert Image.open(tmp_path / "out" / result.images[0]).size == (44, 28)  # cropped to multiples of 4
    from artengine.errors import ArtengineError

    with pytest.raises(ArtengineError, match="--input"):
        render(path, tmp_path / "none")


def test_render_rejects_non_model(tmp_path):
    from click.testing import CliRunner

    from artengine.cli import get_cli

    bad = tmp_path / "notes.onnx"
    bad.write_text("hello")
    res = CliRunner().invoke(get_cli(), ["render", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0 and "not an artengine model" in res.output


def test_no_singles_writes_only_the_sheet_with_readable_modes(tiny_onnx_model, tmp_path):
    import os
    import stat

    from artengine.render import render

    result = render(tiny_onnx_model, tmp_path / "s", n=4, singles=False, interpolate=2, frames=2, formats=("gif",))
    assert result.images == [] and not (tmp_path / "s" / "images").exists()
    manifest = json.loads((tmp_path / "s" / "render.json").read_text())
    assert manifest["model"] == str(tiny_onnx_model)
    umask = os.umask(0)
    os.umask(umask)
    for name in ("grid.png", "render.json", result.animations[0]):
        assert stat.S_IMODE((tmp_path / "s" / name).stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
