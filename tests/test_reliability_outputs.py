"""Unwritable outputs (issue 11, item 6): a read-only folder, a path under a regular file, a full disk.

render, export and style check --out before any work and answer with one ``Error:`` line naming the
path; a disk that fills up half-way is the same one line, and nothing already written is lost.
"""

from __future__ import annotations

import pytest

from .helpers_onnx import linear_generator
from .helpers_runs import invoke


def _one_error_line(result, *needles: str) -> None:
    assert result.returncode != 0, result.stdout
    err = result.stderr
    assert "Traceback" not in err and ("\n" + err).count("\nError: ") == 1, err
    for needle in needles:
        assert needle in err, err


def _targets(tmp_path, readonly_dir):
    blocker = tmp_path / "a-file.txt"
    blocker.write_text("a regular file, not a folder")
    return {"read-only folder": (readonly_dir / "out", "cannot be written"),
            "under a regular file": (blocker / "out", "a-file.txt' is a file, not a folder")}


@pytest.mark.parametrize("where", ["read-only folder", "under a regular file"])
def test_render_refuses_an_unwritable_out_up_front(tiny_onnx_model, tmp_path, readonly_dir, where):
    out, needle = _targets(tmp_path, readonly_dir)[where]
    _one_error_line(invoke("render", str(tiny_onnx_model), "--out", str(out), "--n", "4"), "--out", needle)


@pytest.mark.parametrize("where", ["read-only folder", "under a regular file"])
def test_export_refuses_an_unwritable_out_before_the_work(tiny_run, tmp_path, readonly_dir, where):
    out, needle = _targets(tmp_path, readonly_dir)[where]
    _one_error_line(invoke("export", str(tiny_run), "--out", str(out / "model.onnx")), "--out", needle)


@pytest.mark.parametrize("where", ["read-only folder", "under a regular file"])
def test_style_refuses_an_unwritable_out_before_the_work(tmp_path, readonly_dir, where):
    out, needle = _targets(tmp_path, readonly_dir)[where]
    _one_error_line(invoke("style", "astronaut", "starry-night", "--size", "32", "--steps", "2",
                           "--out", str(out / "styled.png")), "--out", needle)


def test_full_disk_is_refused_up_front(tiny_onnx_model, small_disk):
    filler = small_disk / "filler.bin"
    with open(filler, "wb") as fh:  # leave well under the 1 MiB a command needs
        fh.write(b"\0" * (1536 << 10))
    _one_error_line(invoke("render", str(tiny_onnx_model), "--out", str(small_disk / "out"), "--n", "4"),
                    "the disk is full")


def test_disk_filling_up_during_a_render_is_one_error_line(tmp_path, small_disk):
    model = linear_generator(tmp_path / "noise64.onnx", size=64)  # ~12 KiB of noise per PNG: 2 MiB fill fast
    result = invoke("render", str(model), "--out", str(small_disk / "out"), "--n", "1000")
    _one_error_line(result, "cannot write", "the disk is full", str(small_disk / "out"))
    assert not list((small_disk / "out").rglob(".*.tmp"))  # no half-written temp file left behind


def test_pickled_weights_file_is_refused_without_torchs_weights_only_advice(tmp_path):
    import torch

    evil = tmp_path / "evil.pth"
    torch.save({"conv": tmp_path}, evil)  # a Path object: loading it needs pickled code
    result = invoke("style", "astronaut", "starry-night", "--weights", str(evil), "--size", "32", "--steps", "1",
                    "--out", str(tmp_path / "s.png"))
    _one_error_line(result, "evil.pth", "pickled Python objects")
    assert "weights_only" not in result.stderr and not (tmp_path / "s.png").exists()
