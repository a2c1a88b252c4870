"""What machine a benchmark ran on, printed beside every table: numbers mean nothing without it.

CPU model, the cores this process may use, torch's CPU capability (the kernels it dispatches to),
whether bf16 and int8 dot products run natively (AMX / AVX512-BF16, VNNI), how many cores other
processes keep busy (a loaded machine's numbers are not its speed), and the CUDA card when one is used.
Torch is optional: the onnxruntime-only benches can describe the machine without importing it.
"""

from __future__ import annotations

import os
import sys
import time

from artengine import machine
from artengine.machine import cpu_model, usable_cores


def cpu_flags() -> set[str]:
    """The fast-path CPU flags this CPU has (artengine.machine reads them from /proc/cpuinfo)."""
    return {flag for flag, present in machine.cpu_flags().items() if present}


def _busy_ticks() -> tuple[int, int]:
    """(CPU ticks spent busy on the cores this process may use, ticks spent by this process and its
    waited-for children)."""
    mine = {f"cpu{i}" for i in os.sched_getaffinity(0)}
    busy = 0
    with open("/proc/stat", encoding="ascii") as fh:
        for line in fh:
            name, *values = line.split()
            if name in mine:  # user nice system idle iowait irq softirq steal (guest time is inside user)
                busy += sum(int(v) for i, v in enumerate(values[:8]) if i not in (3, 4))
    with open("/proc/self/stat", encoding="ascii") as fh:
        own = fh.read().rsplit(")", 1)[1].split()
    return busy, sum(int(v) for v in own[11:15])  # utime, stime, cutime, cstime


def cores_busy_elsewhere(window: float = 0.5) -> float | None:
    """How many cores other processes kept busy during the last ``window`` seconds (None off Linux).

    The load average is a minute-long memory: right after another bench (or this script's own setup) it
    still reads high on an idle machine, so the warning below is based on this instead."""
    try:
        busy0, own0 = _busy_ticks()
        time.sleep(window)
        busy1, own1 = _busy_ticks()
    except (OSError, ValueError, IndexError, AttributeError):  # no /proc, no sched_getaffinity
        return None
    hz = os.sysconf("SC_CLK_TCK")
    return max(0.0, ((busy1 - busy0) - (own1 - own0)) / hz / window)


def describe(device: str = "cpu", *, torch_info: bool = True) -> dict[str, object]:
    """A flat dict describing the machine (JSON-friendly)."""
    flags = cpu_flags()
    info: dict[str, object] = {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "native_bf16": bool(flags & {"amx_bf16", "avx512_bf16"}),
        "vnni": bool(flags & {"avx512_vnni", "avx_vnni", "amx_int8"}),
        "amx": bool(flags & {"amx_bf16", "amx_tile"}),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    elsewhere = cores_busy_elsewhere()
    if elsewhere is not None:
        info["cores_busy_elsewhere"] = round(elsewhere, 2)
    if torch_info or "torch" in sys.modules:
        import torch

        info["torch"] = torch.__version__
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        info["torch_threads"] = torch.get_num_threads()
        if device.startswith("cuda") and torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    return info


def line(device: str = "cpu", *, torch_info: bool = True, info: dict[str, object] | None = None) -> str:
    """One line for the top of a table, with a warning when the machine is busy. ``info``: an earlier
    :func:`describe` of the same moment, so a bench that keeps it does not sample the machine twice."""
    info = info if info is not None else describe(device, torch_info=torch_info)
    parts = [f"CPU {info['cpu']} ({info['cores']} cores usable)"]
    if "cpu_capability" in info:
        parts.append(f"torch {info['torch']} capability {info['cpu_capability']}")
    parts.append(f"native bf16 {'yes' if info['native_bf16'] else 'no'}, VNNI {'yes' if info['vnni'] else 'no'}")
    if "gpu" in info:
        parts.append(f"GPU {info['gpu']}")
    parts.append(f"load {info['load_avg_1m']}")
    elsewhere = info.get("cores_busy_elsewhere")
    if elsewhere is not None:
        parts.append(f"other processes busy on {elsewhere} cores")
    text = "machine: " + "; ".join(parts)
    if elsewhere is not None:
        if float(elsewhere) > 0.25 * int(info["cores"]):
            text += ("\nWARNING: the machine is loaded (other processes keep more than a quarter of its cores busy): "
                     "these are not its speed")
    elif float(info["load_avg_1m"]) > 0.5 * int(info["cores"]):
        text += "\nWARNING: the machine is loaded (load average above half its cores): these are not its speed"
    return text
