"""Shared pytest fixtures (keep additions additive: several test modules use them)."""

from __future__ import annotations

from pathlib import Path

import pytest

# ---------------------------------------------------------------- data fixtures


def _write_mixed_image_folder(root: Path) -> Path:
    """Six small images in five formats over three folder levels, plus files a scan must ignore."""
    from PIL import Image

    (root / "sub" / "deeper").mkdir(parents=True)
    Image.new("RGB", (40, 30), (200, 30, 30)).save(root / "a.png")
    Image.new("RGB", (30, 50), (30, 200, 30)).save(root / "sub" / "b.JPG", quality=95)
    Image.new("RGB", (24, 24), (30, 30, 200)).save(root / "sub" / "deeper" / "c.webp", lossless=True)
    Image.new("RGB", (20, 20), (250, 250, 0)).save(root / "d.bmp")
    frames = [Image.new("RGB", (20, 20), (255, 0, 0)), Image.new("RGB", (20, 20), (0, 0, 255))]
    frames[0].save(root / "sub" / "e.gif", save_all=True, append_images=frames[1:], duration=100)
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(root / "f.png")  # fully transparent
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    Image.new("RGB", (20, 20)).save(root / ".hidden" / "skip.png")
    return root


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A folder of 6 readable images (png, JPG, webp, bmp, animated gif, transparent png) in sub-folders."""
    return _write_mixed_image_folder(tmp_path / "images")


# ---------------------------------------------------------------- model fixtures


@pytest.fixture(scope="session")
def tiny_onnx_model(tmp_path_factory):
    """A small real generator exported to ONNX (``tiny.onnx``), shared by the runtime and render tests."""
    import torch

    from artengine.export.api import export_module
    from tests.test_export import META, TinyGenerator

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-model") / "tiny.onnx"
    export_module(TinyGenerator().eval(), META, path, options={"exporter": "torchscript"})
    return path


# ---------------------------------------------------------------- run and filesystem fixtures (reliability tests)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished 6-step dcgan run (8 px digits) with checkpoints at steps 3 and 6; copy it before changing it."""
    from tests.helpers_cli import run_cli
    from tests.helpers_runs import TINY

    out = tmp_path_factory.mktemp("tiny-run") / "run"
    run_cli("train", "dcgan", *TINY, "--steps", "6", "--set", "checkpoint_every=3", "--out", str(out), check=True)
    return out


@pytest.fixture
def run_copy(tiny_run, tmp_path):
    """A private copy of :func:`tiny_run` that a test may damage."""
    import shutil

    dest = tmp_path / "run"
    shutil.copytree(tiny_run, dest)
    return dest


def _mount_tmpfs(path: Path, options: str) -> bool:
    import os
    import subprocess

    if os.geteuid() != 0:
        return False
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def _umount(path: Path) -> None:
    import subprocess

    subprocess.run(["umount", str(path)], capture_output=True)


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder nobody may write into: a read-only tmpfs as root (root ignores mode bits), else mode 0555."""
    import os

    path = tmp_path / "readonly"
    if os.geteuid() == 0:
        if not _mount_tmpfs(path, "ro,size=64k"):
            pytest.skip("root without permission to mount a read-only tmpfs")
        yield path
        _umount(path)
    else:
        path.mkdir()
        path.chmod(0o555)
        yield path
        path.chmod(0o755)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB filesystem (tmpfs; needs root), for full-disk tests."""
    path = tmp_path / "disk"
    if not _mount_tmpfs(path, "size=2m"):
        pytest.skip("needs root to mount a small tmpfs")
    yield path
    _umount(path)
