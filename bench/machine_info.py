"""What machine a benchmark ran on, printed beside every table: numbers mean nothing without it.

CPU model, the cores this process may use, torch's CPU capability (the kernels it dispatches to),
whether bf16 and int8 dot products run natively (AMX / AVX512-BF16, VNNI), the load average (a
loaded machine's numbers are not its speed), and the CUDA card when one is used. Torch is optional:
the onnxruntime-only benches can describe the machine without importing it.
"""

from __future__ import annotations

import os
import sys

from artengine import machine
from artengine.machine import cpu_model, usable_cores


def cpu_flags() -> set[str]:
    """The fast-path CPU flags this CPU has (artengine.machine reads them from /proc/cpuinfo)."""
    return {flag for flag, present in machine.cpu_flags().items() if present}


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
    if torch_info or "torch" in sys.modules:
        import torch

        info["torch"] = torch.__version__
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        info["torch_threads"] = torch.get_num_threads()
        if device.startswith("cuda") and torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    return info


def line(device: str = "cpu", *, torch_info: bool = True) -> str:
    """One line for the top of a table, with a warning when the machine is busy."""
    info = describe(device, torch_info=torch_info)
    parts = [f"CPU {info['cpu']} ({info['cores']} cores usable)"]
    if "cpu_capability" in info:
        parts.append(f"torch {info['torch']} capability {info['cpu_capability']}")
    parts.append(f"native bf16 {'yes' if info['native_bf16'] else 'no'}, VNNI {'yes' if info['vnni'] else 'no'}")
    if "gpu" in info:
        parts.append(f"GPU {info['gpu']}")
    parts.append(f"load {info['load_avg_1m']}")
    text = "machine: " + "; ".join(parts)
    if float(info["load_avg_1m"]) > 0.5 * int(info["cores"]):
        text += "\nWARNING: the machine is loaded (load average above half its cores): these are not its speed"
    return text
