"""Transparency end to end: a folder with real alpha trains as RGBA, exports a 4-channel ONNX model
that says so, and renders PNGs with real alpha; the emoji as transparent sprites."""

from __future__ import annotations

import json
import re

import numpy as np
import onnx
import torch
from PIL import Image, ImageDraw

from artengine.plugins.datasets.tensors import convert_channels
from tests.helpers_cli import run_cli

TINY = ["--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "generator.latent_dim=16",
        "--set", "sample_every=0", "--set", "checkpoint_every=0"]


def sprite_folder(root, n: int = 12):
    """Coloured discs on a transparent background, plus one opaque RGBA file (alpha all 255)."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        img = Image.new("RGBA", (24, 24), (0, 0, 0, 0))
        r = int(rng.integers(5, 11))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3)) + (255,)
        ImageDraw.Draw(img).ellipse((12 - r, 12 - r, 12 + r, 12 + r), fill=colour)
        img.save(root / f"sprite{i:02d}.png")
    Image.new("RGBA", (24, 24), (10, 200, 10, 255)).save(root / "opaque.png")
    return root


def test_rgba_folder_trains_exports_and_renders_with_real_alpha(tmp_path):
    data = sprite_folder(tmp_path / "sprites")
    run = tmp_path / "run"
    proc = run_cli("train", "dcgan", "--data", str(data), "--image-size", "16", "--batch-size", "8", "--steps", "3",
                   "--out", str(run), *TINY, check=True)
    assert "12 with transparency: RGBA" in proc.stderr  # the one-line data summary
    config = json.loads((run / "config.json").read_text())
    assert config["channels"] == 4
    grid = Image.open(run / "samples" / "step-000000003.png")
    assert grid.mode == "RGBA"

    model = tmp_path / "sprites.onnx"
    run_cli("export", str(run), "--out", str(model), check=True)
    props = {p.key: p.value for p in onnx.load(str(model)).metadata_props}
    assert props["artengine.channels"] == "4" and props["artengine.color_mode"] == "RGBA"

    out = tmp_path / "renders"
    run_cli("render", str(model), "--out", str(out), "--n", "4", "--interpolate", "2", "--frames", "3",
            "--format", "webp", check=True)
    single = sorted((out / "images").glob("*.png"))[0]
    img = Image.open(single)
    assert img.mode == "RGBA"
    alpha = np.asarray(img)[:, :, 3]
    assert alpha.min() < 255  # real transparency, not an opaque alpha channel
    webp = next(out.glob("*.webp"))
    assert Image.open(webp).mode == "RGBA"

    site = tmp_path / "gallery"  # the gallery shows the transparent samples on a checkerboard
    run_cli("gallery", "build", str(model), "--out", str(site), "--n", "4", "--interpolate", "0", check=True)
    page = (site / "model-sprites.html").read_text()
    assert re.search(r'<img src="model-sprites/[^"]+\.png"[^>]*class="px alpha"', page), page


def test_forcing_three_channels_flattens_and_the_emoji_become_transparent_sprites():
    from artengine.pluginhost import get_registry

    sprites = get_registry().get("datasets", "emoji").build({}, image_size=16, channels=4, seed=0)
    images = sprites.as_tensor()
    assert images.shape[1] == 4 and sprites.channels == 4
    clear_corner = images[:, 3, 0, 0] == 0
    assert float(clear_corner.float().mean()) > 0.5  # most emoji have transparent corners
    flat = convert_channels(images[clear_corner][:8], 3)
    assert flat.shape[1] == 3 and int(flat[:, :, 0, 0].min()) == 255  # composited onto white
    back = convert_channels(flat, 4)
    assert torch.equal(back[:, 3], torch.full_like(back[:, 3], 255))


def test_forced_rgb_folder_says_transparency_is_flattened(tmp_path):
    from artengine.plugins.datasets.config import FolderConfig
    from artengine.plugins.datasets.folder import load_folder

    data = sprite_folder(tmp_path / "sprites")
    rgb = load_folder(FolderConfig(path=str(data)), image_size=16, channels=3)
    assert rgb.channels == 3 and rgb.as_tensor().shape[1] == 3
    auto = load_folder(FolderConfig(path=str(data)), image_size=16)
    assert auto.channels == 4 and "transparency: RGBA" in auto.info.description
    opaque_only = tmp_path / "opaque"
    opaque_only.mkdir()
    Image.new("RGBA", (24, 24), (10, 200, 10, 255)).save(opaque_only / "a.png")
    Image.new("RGBA", (24, 24), (200, 10, 10, 255)).save(opaque_only / "b.png")
    assert load_folder(FolderConfig(path=str(opaque_only)), image_size=16).channels == 3
