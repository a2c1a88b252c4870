"""Peak memory of `artengine render --n N`: the streaming render against holding every image, side by side.

Same model for both: the real 64x64 DCGAN generator (plugins/dcgan, default width) exported to ONNX with
random weights (memory does not depend on training). Each measurement is a fresh process, so its peak RSS
(``VmHWM`` of /proc/self/status: ``ru_maxrss`` would carry the parent's peak over fork+exec) is its own:

- ``artengine render``: generates a chunk, writes its PNGs, drops it; grid.png keeps the first 256 images.
- ``hold-all`` (the reference, how render worked before): generates all N images into one array, then writes.

    .venv/bin/python bench/bench_render_memory.py [--counts 1000,10000] [--size 64]

The target: the streaming render's peak at the largest N within 1.5x of its peak at the smallest.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

STREAMING = """
import sys
from artengine.render import render
render(sys.argv[1], sys.argv[2], n=int(sys.argv[3]))
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""

HOLD_ALL = """
import sys
from pathlib import Path
from artengine.runtime import latents, load_model
from artengine.runtime.images import grid, save_png, to_uint8
model, out, n = load_model(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
pixels = to_uint8(model.generate(latents(0, n, model.latent_dim)))
save_png(out / "grid.png", grid(pixels))
for i, img in enumerate(pixels):
    save_png(out / "images" / f"seed0-{i:04d}.png", img)
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def peak_mib(script: str, model: Path, out: Path, n: int) -> float:
    proc = subprocess.run([sys.executable, "-c", script, str(model), str(out), str(n)],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout.split()[-1]) / 1024  # VmHWM is in KiB


def export_model(folder: Path, size: int) -> Path:
    import torch

    from artengine.export.api import export_module
    from artengine.plugins.dcgan.config import DcganGeneratorConfig
    from artengine.plugins.dcgan.networks import DcganGenerator
    from artengine.plugins.gan.trainer import GeneratorExport

    torch.manual_seed(0)
    net = GeneratorExport(DcganGenerator(DcganGeneratorConfig(), image_size=size, channels=3)).eval()
    meta = {"kind": "generator", "latent_dim": DcganGeneratorConfig().latent_dim, "image_size": size,
            "channels": 3, "recipe": "dcgan", "dataset": "bench", "step": 0}
    path = folder / f"dcgan{size}.onnx"
    export_module(net, meta, path, options={"exporter": "torchscript"})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,10000", help="comma-separated --n values")
    parser.add_argument("--size", type=int, default=64, help="image size of the DCGAN generator")
    parser.add_argument("--no-reference", action="store_true", help="skip the hold-all reference")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]

    import torch

    from artengine.machine import cpu_model

    print(f"CPU: {cpu_model()}; torch CPU capability: {torch.backends.cpu.get_cpu_capability()}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-render-memory-"))
    model = export_model(tmp, args.size)
    print(f"\n{'n':>7} {'artengine render (MiB)':>23} {'hold-all reference (MiB)':>25}")
    streaming = []
    for n in counts:
        ours = peak_mib(STREAMING, model, tmp / f"stream-{n}", n)
        streaming.append(ours)
        ref = "-" if args.no_reference else f"{peak_mib(HOLD_ALL, model, tmp / f'hold-{n}', n):.0f}"
        print(f"{n:>7} {ours:>23.0f} {ref:>25}")
    ratio = streaming[-1] / streaming[0]
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"\nstreaming peak at n={counts[-1]} / n={counts[0]}: {ratio:.2f}x (target <= 1.5x: {verdict})")


if __name__ == "__main__":
    main()
