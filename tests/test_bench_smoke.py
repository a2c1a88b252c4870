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
    extra = ["--matmul-off"] if script == "bench_dcgan_throughput.py" else []  # its optional contender too
    proc = subprocess.run([sys.executable, f"bench/{script}", "--quick", *extra], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "machine: CPU " in proc.stdout + proc.stderr


def test_precision_bench_times_every_recipe_in_each_mode_and_names_autos_pick():
    import torch

    from artengine.training.precision import resolve_precision

    out = _run(sys.executable, "bench/bench_precision.py", "--quick", "--recipes", "dcgan,progan")
    assert out.startswith("machine: CPU ") and "capability" in out
    picked = "bf16+cl" if resolve_precision("auto", torch.device("cpu")) == "bf16" else "fp32+cl"
    assert f"auto picks {picked} here" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["dcgan"], ["progan"])}
    assert set(rows) == {"dcgan", "progan"}, out
    for fields in rows.values():
        rates = [float(v) for v in fields[3:6]]  # fp32, fp32+cl, bf16+cl images/s
        assert all(r > 0 for r in rates), out
        assert fields[6] == picked


def test_machine_line_counts_cores_other_processes_keep_busy_not_its_own(monkeypatch):
    """The loaded-machine warning reads what other processes use now, not the minute-long load average."""
    import threading
    import time

    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import machine_info

    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert machine_info.cores_busy_elsewhere(0.5) >= 0.6
    finally:
        spinner.kill()
        spinner.wait()
    stop = threading.Event()

    def spin() -> None:  # this process's own work is not "elsewhere"
        while not stop.is_set():
            pass

    before = machine_info.cores_busy_elsewhere(0.5)
    worker = threading.Thread(target=spin)
    worker.start()
    try:
        while_spinning = machine_info.cores_busy_elsewhere(0.5)
    finally:
        stop.set()
        worker.join()
    assert while_spinning - before < 0.5  # counted as elsewhere, the spinning thread would add a whole core
