"""The benchmarks run end to end at tiny settings (their numbers mean nothing here; that they run and print
their machine line and table does). bench/gpu.sh's CPU path is the CI-safe smoke of the GPU suite."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers_cli import ROOT


def _run(*args: str, timeout: int = 600) -> str:
    proc = subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHON": sys.executable})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_gpu_suite_runs_on_cpu_quick_and_prints_one_table():
    out = _run("bash", "bench/gpu.sh", "--device", "cpu", "--quick", "--sections", "dcgan,onnxruntime")
    assert out.startswith("machine: CPU ") and "capability" in out
    table = out[out.index("\nartengine on "):]
    assert "% bf16 peak" in table
    for contender in ("plain loop eager", "engine eager", "onnxruntime cpu"):
        assert contender in table, table
    assert "failed" not in table, table


@pytest.mark.slow
def test_gpu_suite_all_sections_on_cpu_quick():
    table = _run("bash", "bench/gpu.sh", "--device", "cpu", "--quick")
    for section in ("dcgan", "progan", "gatys", "fast-style", "onnxruntime"):
        assert f"\n{section} " in table, table
    assert "failed" not in table.split("\nartengine on ")[1]


@pytest.mark.slow
@pytest.mark.parametrize("script", ["bench_render.py", "bench_fast_style.py", "bench_style.py", "bench_scaling.py",
                                    "bench_dcgan_throughput.py", "bench_video.py"])
def test_bench_quick(script):
    proc = subprocess.run([sys.executable, f"bench/{script}", "--quick"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "machine: CPU " in proc.stdout + proc.stderr
