"""Crafted ONNX files (issue 11, item 10) and render memory that does not grow with --n (item 5).

Every model here is a real ONNX file run by onnxruntime through the real CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers_onnx import huge_allocation, linear_generator, output_of_shape, rank2_output
from .helpers_runs import invoke

CRAFTED = {
    "rank-2 output": (lambda p: rank2_output(p), "has rank 2"),
    "batch ignores the input": (lambda p: output_of_shape(p, [1, 3, 8, 8], declared=["batch", 3, 8, 8]),
                                "returned 'image' of shape [1, 3, 8, 8] for a batch of 4"),
    "wrong channels": (lambda p: output_of_shape(p, [4, 5, 8, 8], declared=["batch", "c", 8, 8]),
                       "has 5 channels, metadata says 3"),
    "wrong size declared": (lambda p: output_of_shape(p, [4, 3, 16, 16]), "metadata says image_size 8"),
    "huge allocation": (lambda p: huge_allocation(p), "GiB of memory"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_model_is_one_clear_error_and_writes_nothing(tmp_path, case):
    make, needle = CRAFTED[case]
    model = make(tmp_path / "crafted.onnx")
    result = invoke("render", str(model), "--out", str(tmp_path / "out"), "--n", "4")
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and result.stderr.startswith("Error: "), result.stderr
    assert needle in result.stderr and "crafted.onnx" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_honest_model_renders_every_image(tmp_path):
    model = linear_generator(tmp_path / "noise.onnx", size=8)
    result = invoke("render", str(model), "--out", str(tmp_path / "out"), "--n", "300")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "out" / "render.json").read_text())
    assert len(manifest["images"]) == 300 and manifest["grid_count"] == 256
    assert len(list((tmp_path / "out" / "images").glob("*.png"))) == 300


PEAK_RSS = """
import sys
from artengine.render import render
render(sys.argv[1], sys.argv[2], n=int(sys.argv[3]))
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def _peak_rss_kib(model, out, n: int) -> int:
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, str(model), str(out), str(n)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return int(proc.stdout.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="peak memory is read from /proc (Linux)")
def test_render_memory_does_not_grow_with_n(tmp_path):
    """Loose check of bench/bench_render_memory.py: 10x the images, about the same peak memory.
    Holding every image (the old render) takes ~120 MiB more at n=2000 than at n=200 here."""
    model = linear_generator(tmp_path / "noise64.onnx", size=64)
    small = _peak_rss_kib(model, tmp_path / "small", 200)
    large = _peak_rss_kib(model, tmp_path / "large", 2000)
    print(f"peak RSS {small} KiB at n=200, {large} KiB at n=2000")
    assert large < 1.5 * small, f"peak RSS {small} KiB at n=200, {large} KiB at n=2000"
