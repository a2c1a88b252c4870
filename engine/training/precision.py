"""Devices and autocast. ``auto`` precision: bf16 on CUDA that has it and on CPUs with AMX or
AVX512-BF16, fp16 (with a gradient scaler) on older CUDA, fp32 on other CPUs (emulated bf16 is slower).
Training with ``auto`` also goes channels-last, at either precision (engine/training/build.py)."""

from __future__ import annotations

import contextlib

import torch

from ..errors import ConfigError


def pick_device(name: str) -> torch.device:
    """``auto`` prefers CUDA; asking for CUDA without one is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but no CUDA device is available",
                          hint="use --device cpu (or auto)")
    return torch.device(name)


def cpu_has_bf16() -> bool:
    """True when this CPU runs bf16 matrix work natively (AMX or AVX512-BF16)."""
    try:
        caps = torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # pragma: no cover - old torch
        return False
    if "AMX" in caps.upper():
        return True
    if caps.upper() != "AVX512":
        # torch runs below AVX512 here (an AVX2 CPU, or ATEN_CPU_CAPABILITY=avx2 with ONEDNN_MAX_CPU_ISA=AVX2
        # to time an AVX2 machine on an AMX one): bf16 would be emulated, whatever the CPU's flags say
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            flags = fh.read()
        return "amx_bf16" in flags or "avx512_bf16" in flags
    except OSError:
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """Turn ``auto`` into fp32/bf16/fp16 for ``device``."""
    if precision != "auto":
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            return "fp16"
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_bf16() else "fp32"


def autocast(device: torch.device, precision: str):
    """An autocast context for the resolved precision (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """A gradient scaler that is active only for fp16."""
    return torch.amp.GradScaler(device.type, enabled=(precision == "fp16"))


def native_bf16(device: torch.device) -> bool:
    """True where bf16 matrix work runs natively: CUDA cards with bf16, CPUs with AMX or AVX512-BF16.
    Elsewhere (AVX2-only CPUs) bf16 is emulated and slower than fp32."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_bf16()


def precision_reason(device: torch.device) -> str:
    """Why ``auto`` picks what it picks here, for the first line a command prints."""
    if device.type == "cuda":
        return f"CUDA {torch.cuda.get_device_name(device)}" + ("" if native_bf16(device) else " without bf16")
    caps = torch.backends.cpu.get_cpu_capability()
    return f"CPU {caps}, " + ("native bf16 (AMX/AVX512-BF16)" if native_bf16(device) else "no native bf16")


def describe_choice(requested: str, resolved: str, device: torch.device, channels_last: bool) -> str:
    """``precision bf16 + channels-last (auto: CPU AVX512, native bf16 ...)``: what a run trains in, and why."""
    text = f"precision {resolved}" + (" + channels-last" if channels_last else "")
    if requested == "auto":
        return f"{text} (auto: {precision_reason(device)})"
    return f"{text} (asked for {requested})" if requested != resolved else text
