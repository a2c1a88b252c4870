"""What machine this is: the CPU model, the CPU features that pick fast paths, the usable cores.

Read from /proc/cpuinfo (Linux) without importing torch, so light commands and benchmarks can
describe the machine; ``torch.backends.cpu.get_cpu_capability()`` says which kernels torch uses.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

#: CPU flags (as /proc/cpuinfo spells them) that decide fast paths: AVX2, AVX512, VNNI, bf16, AMX
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_bf16",
             "amx_int8")


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else what the platform module knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> dict[str, bool]:
    """Which of :data:`CPU_FLAGS` this CPU has (all False where /proc/cpuinfo is missing)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return dict.fromkeys(CPU_FLAGS, False)
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    return {flag: flag in flags for flag in CPU_FLAGS}


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
