"""`artengine style` end to end through the real CLI: output, sidecar, animation, snapshots, clear errors."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner
from PIL import Image

from artengine.cli import get_cli


def test_style_command_end_to_end(tmp_path):
    out = tmp_path / "astro.png"
    result = CliRunner().invoke(get_cli(), ["style", "astronaut", "starry-night", "--size", "64", "--steps", "3",
                                            "--out", str(out), "--snapshot-every", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "vgg16-hed" in result.output or "vgg19" in result.output  # says which features it chose
    # stderr is not a terminal here: plain progress lines (the last one at the end), no bar redrawn with \r
    assert "style: step 3/3  content " in result.output and "\r" not in result.output
    with Image.open(out) as image:
        assert image.size == (64, 64) and image.mode == "RGB"
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["kind"] == "style-transfer" and sidecar["image"] == "astro.png"
    assert sidecar["content"]["name"] == "astronaut" and sidecar["content"]["license"] == "public domain"
    assert sidecar["content"]["path"] == "astro_content.png"  # beside the result, for the gallery's slider
    with Image.open(tmp_path / "astro_content.png") as photo:
        assert photo.size == (64, 64)
    assert sidecar["styles"][0]["name"] == "starry-night" and sidecar["styles"][0]["weight"] == 1.0
    assert "opencv" in sidecar["styles"][0]["source"]
    assert sidecar["settings"]["steps"] == 3 and sidecar["settings"]["seed"] == 3
    assert sidecar["features"]["weights"]["path"]
    assert set(sidecar["losses"]) == {"total", "content", "style", "tv"}
    assert sidecar["timings"]["total_s"] > 0
    assert sidecar["snapshots"] == [{"step": 2, "path": "astro_snapshots/step-00002.png"}]
    assert (tmp_path / "astro_snapshots" / "step-00002.png").is_file()
    with Image.open(tmp_path / sidecar["animation"]) as gif:
        assert gif.n_frames >= 3
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_style_command_clear_errors(tmp_path):
    runner = CliRunner()
    result = runner.invoke(get_cli(), ["style", str(tmp_path / "missing.jpg"), "scream",
                                       "--out", str(tmp_path / "o.png")])
    assert result.exit_code != 0 and "does not exist" in result.output and "Traceback" not in result.output
    result = runner.invoke(get_cli(), ["style", "chelsea", "scream", "--out", str(tmp_path / "o.png"),
                                       "--size", "32", "--steps", "1", "--style-layers", "relu1_1,relu6_1"])
    assert result.exit_code != 0 and "relu6_1" in result.output and "valid layers: conv1_1" in result.output
    result = runner.invoke(get_cli(), ["style", "chelsea", "scream", "starry-night", "--out", str(tmp_path / "o.png"),
                                       "--style-blend", "1"])
    assert result.exit_code != 0 and "1 weights for 2 style images" in result.output
    assert not (tmp_path / "o.png").exists()


def test_a_users_own_photo_gets_the_galleries_before_after_slider(tmp_path):
    """The content photo lives elsewhere on disk; the gallery only copies files inside the result's
    folder, so `artengine style` writes the photo it used beside the result."""
    photos, results = tmp_path / "photos", tmp_path / "results"
    photos.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(photos / "mine.jpg")
    out = results / "mine-scream.png"
    runner = CliRunner()
    result = runner.invoke(get_cli(), ["style", str(photos / "mine.jpg"), "scream", "--size", "48", "--steps", "2",
                                       "--no-animation", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(get_cli(), ["gallery", "build", str(out.with_suffix(".json")),
                                       "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    page = next((tmp_path / "site").glob("style-*.html")).read_text()
    assert 'class="compare"' in page
