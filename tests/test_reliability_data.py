"""Hostile image folders (issue 11, item 11 and the data should-fixes), trained through the real CLI.

A FIFO named like an image used to block training forever; a decompression bomb, a 1x1 image and a
truncated file in a streamed folder each get a warning naming them, and the run still trains.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PIL import Image


@pytest.fixture
def hostile_folder(tmp_path):
    root = tmp_path / "images"
    root.mkdir()
    for i in range(4):
        Image.new("RGB", (32, 32), (60 * i, 20, 200 - 40 * i)).save(root / f"good{i}.png")
    os.mkfifo(root / "pipe.png")  # reading it would block until someone writes
    Image.new("1", (12000, 12000)).save(root / "bomb.png")  # 144 M pixels in a few KiB
    Image.new("RGB", (1, 1), (9, 9, 9)).save(root / "dot.png")
    Image.effect_noise((64, 64), 80).convert("RGB").save(root / "cut.jpg")  # noise: pixel data dominates
    data = (root / "cut.jpg").read_bytes()
    (root / "cut.jpg").write_bytes(data[: len(data) * 2 // 3])  # header fine, pixels cut off
    return root


def test_hostile_folder_trains_with_one_warning_per_problem(hostile_folder, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "artengine", "train", "dcgan", "--data", str(hostile_folder), "--image-size", "16",
         "--batch-size", "6", "--steps", "2", "--set", "generator.width=8", "--set", "discriminator.width=8",
         "--set", "dataset.in_memory=no", "--quiet", "--out", str(out)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    err = proc.stderr
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert "not regular files" in err and "pipe.png" in err  # never opened
    assert "bomb.png too large (12000 x 12000)" in err and "dataset.max_pixels" in err
    assert "dot.png (1 x 1)" in err and "far below --image-size 16" in err
    assert "skipping unreadable image" in err and "cut.jpg" in err  # streamed: skipped, not fatal
    assert (out / "checkpoints" / "latest.json").is_file()


def test_all_images_too_large_is_one_clear_error(tmp_path):
    from artengine.errors import DatasetError
    from artengine.plugins.datasets.config import FolderConfig
    from artengine.plugins.datasets.folder import load_folder

    root = tmp_path / "big"
    root.mkdir()
    Image.new("RGB", (300, 200)).save(root / "a.png")
    with pytest.warns(UserWarning, match=r"a.png too large \(300 x 200\)"), \
            pytest.raises(DatasetError, match="larger than dataset.max_pixels=10,000"):
        load_folder(FolderConfig(path=str(root), max_pixels=10_000), image_size=16)
    assert len(load_folder(FolderConfig(path=str(root), max_pixels=0), image_size=16)) == 1
