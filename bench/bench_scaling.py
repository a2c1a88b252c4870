"""How cost grows: time and memory of every trainer against image size and batch size, and of rendering
against ``--n``, from one script, written as a table (Markdown) and a small SVG plot.

Each point runs in its own process, so its peak resident memory is its own (CUDA: peak allocated).
Trainers are built the way `artengine train` builds them (bench/trainers.py), with in-memory data;
a point is the mean time of ``--steps`` steps after one warm-up step. Rendering times
``artengine.render.render`` of the 64 px DCGAN generator (random weights) writing the grid and all ``--n``
single PNGs, as `artengine render --n N` does (with the grid alone it would stop after the grid's 256 images).

    .venv/bin/python bench/bench_scaling.py --out docs/benchmarks          # 16-128 px, batch 4-64, n 1-1024
    .venv/bin/python bench/bench_scaling.py --quick --out /tmp/scaling     # smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine_info  # noqa: E402

#: image sizes each trainer supports in this sweep (DCGAN: powers of two 8-128)
SIZES = (16, 32, 64, 128)
BATCHES = (4, 8, 16, 32, 64)
RENDER_N = (1, 16, 64, 256, 1024)
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over
    from the parent across fork + exec, so every child would report at least the parent's size."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_trainer_point(recipe: str, size: int, batch: int, steps: int, device: str, precision: str = "auto") -> dict:
    """Runs in a subprocess: one trainer at one size and batch, at ``precision`` (``auto``: what
    `artengine train` uses here)."""
    import torch
    import trainers

    trainer = trainers.build_trainer(recipe, Path(tempfile.mkdtemp(prefix="scaling-")) / "run", image_size=size,
                                     batch_size=batch, device=device, precision=precision)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    seconds = trainers.time_steps(trainers.counted_step(trainer), steps, device)
    memory = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else _peak_mb()
    return {"recipe": recipe, "size": size, "batch": batch, "s_per_step": seconds, "img_per_s": batch / seconds,
            "peak_mb": memory}


def one_render_point(model: str, n: int) -> dict:
    """Runs in a subprocess: `artengine render --n N` of one model (the grid and N single PNGs)."""
    from artengine.render import render

    out = Path(tempfile.mkdtemp(prefix="scaling-render-"))
    t0 = time.perf_counter()
    render(model, out, n=n)
    return {"n": n, "s": time.perf_counter() - t0, "peak_mb": _peak_mb()}


def _subprocess(*args: str) -> dict | None:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  failed: {' '.join(args)}: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def export_render_model(folder: Path) -> Path:
    import torch

    from artengine.export.api import export_module
    from artengine.plugins.dcgan.config import DcganGeneratorConfig
    from artengine.plugins.dcgan.networks import DcganGenerator
    from artengine.plugins.gan.trainer import GeneratorExport

    torch.manual_seed(0)
    net = GeneratorExport(DcganGenerator(DcganGeneratorConfig(), image_size=64, channels=3)).eval()
    meta = {"kind": "generator", "latent_dim": 100, "image_size": 64, "channels": 3, "recipe": "dcgan",
            "dataset": "bench", "step": 0}
    path = folder / "dcgan64.onnx"
    export_module(net, meta, path, options={"exporter": "torchscript"})
    return path


# ------------------------------------------------------------------ SVG


def _ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten (and 2x, 5x when the range is short) between lo and hi."""
    out = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5) if math.log10(hi / lo) < 2.5 else (1,):
            v = m * 10.0 ** e
            if lo <= v <= hi:
                out.append(v)
    if len(out) < 2:  # a narrow range: three log-spaced values, two significant digits
        out = [float(f"{lo * (hi / lo) ** f:.2g}") for f in (0.15, 0.5, 0.85)]
    return out


def _fmt(v: float) -> str:
    return f"{v:g}" if 1e-3 <= v < 1e5 else f"{v:.0e}"


def panel(title: str, xlabel: str, ylabel: str, lines: dict[str, list[tuple[float, float]]], x0: float, y0: float,
          w: float = 300, h: float = 190) -> str:
    """One log-log panel at (x0, y0): axes, ticks, a polyline per series."""
    pts = [p for line in lines.values() for p in line if p[1] > 0]
    if not pts:
        return ""
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    xlo, xhi = min(xs), max(xs) if max(xs) > min(xs) else min(xs) * 2
    ylo, yhi = min(ys) / 1.3, max(ys) * 1.3

    def sx(x: float) -> float:
        return x0 + 50 + (math.log(x / xlo) / math.log(xhi / xlo)) * (w - 60)

    def sy(y: float) -> float:
        return y0 + h - 30 - (math.log(y / ylo) / math.log(yhi / ylo)) * (h - 50)

    out = [f'<text x="{x0 + w / 2:.0f}" y="{y0 + 12:.0f}" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<line x1="{x0 + 50}" y1="{y0 + h - 30}" x2="{x0 + w - 10}" y2="{y0 + h - 30}" stroke="#444"/>',
           f'<line x1="{x0 + 50}" y1="{y0 + 20}" x2="{x0 + 50}" y2="{y0 + h - 30}" stroke="#444"/>',
           f'<text x="{x0 + w / 2 + 20:.0f}" y="{y0 + h - 4:.0f}" text-anchor="middle">{xlabel}</text>',
           f'<text x="{x0 + 10:.0f}" y="{y0 + h / 2:.0f}" text-anchor="middle" '
           f'transform="rotate(-90 {x0 + 10:.0f} {y0 + h / 2:.0f})">{ylabel}</text>']
    for x in sorted(set(xs)):
        out.append(f'<text x="{sx(x):.1f}" y="{y0 + h - 18:.0f}" text-anchor="middle">{_fmt(x)}</text>')
    for y in _ticks(ylo, yhi):
        out.append(f'<line x1="{x0 + 47}" y1="{sy(y):.1f}" x2="{x0 + w - 10}" y2="{sy(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 + 45}" y="{sy(y) + 4:.1f}" text-anchor="end">{_fmt(y)}</text>')
    for i, (name, line) in enumerate(lines.items()):
        color = COLORS[i % len(COLORS)]
        good = [(sx(x), sy(y)) for x, y in line if y > 0]
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                   + " ".join(f"{a:.1f},{b:.1f}" for a, b in good) + '"/>')
        out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{color}"/>' for a, b in good]
        out.append(f'<text x="{x0 + 58}" y="{y0 + 30 + 13 * i:.0f}" fill="{color}">{name}</text>')
    return "\n".join(out)


def svg(results: dict, caption: str) -> str:
    by = {}
    for key in ("size", "batch"):
        for what in ("s_per_step", "peak_mb"):
            lines: dict[str, list[tuple[float, float]]] = {}
            for p in results[f"by_{key}"]:
                lines.setdefault(p["recipe"], []).append((p[key], p[what]))
            by[(key, what)] = lines
    render_time = {"render": [(p["n"], p["s"]) for p in results["render"]]}
    render_mem = {"render": [(p["n"], p["peak_mb"]) for p in results["render"]]}
    w, h = 300, 190
    panels = [panel(f"time per step vs image size (batch {results['batch']})", "image size (px)", "s / step",
                    by[("size", "s_per_step")], 0, 0, w, h),
              panel(f"time per step vs batch ({results['size']} px)", "batch size", "s / step",
                    by[("batch", "s_per_step")], w, 0, w, h),
              panel("render time vs --n (64 px)", "--n images", "s", render_time, 2 * w, 0, w, h),
              panel(f"peak memory vs image size (batch {results['batch']})", "image size (px)", "MB",
                    by[("size", "peak_mb")], 0, h, w, h),
              panel(f"peak memory vs batch ({results['size']} px)", "batch size", "MB",
                    by[("batch", "peak_mb")], w, h, w, h),
              panel("render peak memory vs --n", "--n images", "MB", render_mem, 2 * w, h, w, h)]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{3 * w}" height="{2 * h + 24}" '
            f'viewBox="0 0 {3 * w} {2 * h + 24}" font-family="sans-serif" font-size="10">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(panels)
            + f'\n<text x="6" y="{2 * h + 16}" fill="#555">{caption}</text>\n</svg>\n')


def markdown(results: dict, caption: str) -> str:
    lines = [f"_{caption}_", "", f"Trainers at batch {results['batch']}, by image size:", "",
             "| trainer | image size | s / step | img / s | peak MB |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {p['recipe']} | {p['size']} | {p['s_per_step']:.3f} | {p['img_per_s']:.1f} | {p['peak_mb']:.0f} |"
              for p in results["by_size"]]
    lines += ["", f"Trainers at {results['size']} px, by batch size:", "",
              "| trainer | batch | s / step | img / s | peak MB |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {p['recipe']} | {p['batch']} | {p['s_per_step']:.3f} | {p['img_per_s']:.1f} | {p['peak_mb']:.0f} |"
              for p in results["by_batch"]]
    lines += ["", "`artengine render` (64 px DCGAN generator, grid and single PNGs), by `--n`:", "",
              "| --n | s | images / s | peak MB |", "|---:|---:|---:|---:|"]
    lines += [f"| {p['n']} | {p['s']:.3f} | {p['n'] / p['s']:.0f} | {p['peak_mb']:.0f} |" for p in results["render"]]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("bench/results/scaling"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--precision", default="auto", help="trainers' precision (auto: the recipes' default)")
    p.add_argument("--batch", type=int, default=16, help="batch of the image-size sweep")
    p.add_argument("--size", type=int, default=32, help="image size of the batch sweep")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)))
    p.add_argument("--batches", default=",".join(map(str, BATCHES)))
    p.add_argument("--render-n", default=",".join(map(str, RENDER_N)))
    p.add_argument("--recipes", default="", help="comma list (default: every installed trainer)")
    p.add_argument("--label", default="", help="extra words for the caption (e.g. 'loaded machine')")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 sizes, 2 batches, 1 step, dcgan only")
    p.add_argument("--_trainer", nargs=3, help=argparse.SUPPRESS)
    p.add_argument("--_render", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._trainer:
        recipe, size, batch = args._trainer
        print(json.dumps(one_trainer_point(recipe, int(size), int(batch), args.steps, args.device, args.precision)))
        return
    if args._render:
        print(json.dumps(one_render_point(args._render[0], int(args._render[1]))))
        return
    if args.quick:
        args.sizes, args.batches, args.render_n, args.steps = "16,32", "4,8", "1,16", 1
        args.batch, args.size, args.recipes = 4, 16, args.recipes or "dcgan"

    import trainers

    info = machine_info.describe(args.device)
    header = machine_info.line(args.device, info=info)
    print(header, flush=True)
    recipes = args.recipes.split(",") if args.recipes else trainers.available_recipes()
    results: dict = {"machine": info, "batch": args.batch, "size": args.size, "steps": args.steps,
                     "by_size": [], "by_batch": [], "render": []}
    common = ["--steps", str(args.steps), "--device", args.device, "--precision", args.precision]
    args.out.mkdir(parents=True, exist_ok=True)

    auto = ""
    if args.precision == "auto":
        import torch

        from artengine.training.precision import resolve_precision

        auto = f" = {resolve_precision('auto', torch.device(args.device))}"
    results["precision"] = args.precision + auto

    def write() -> str:
        """The files so far: a long sweep stopped part-way still leaves its points."""
        load = os.getloadavg()[0]
        caption = (f"{info['cpu']}, {info['cores']} cores, capability {info.get('cpu_capability')}, "
                   f"{args.device}, precision {args.precision}{auto}; {args.steps} steps per point; "
                   f"load average {load:.1f}"
                   + (f"; {args.label}" if args.label else ""))
        (args.out / "scaling.json").write_text(json.dumps(results, indent=2) + "\n")
        (args.out / "scaling.svg").write_text(svg(results, caption))
        (args.out / "scaling.md").write_text(markdown(results, caption))
        return caption

    for recipe in recipes:
        for size in map(int, args.sizes.split(",")):
            point = _subprocess("--_trainer", recipe, str(size), str(args.batch), *common)
            if point:
                results["by_size"].append(point)
                write()
                print(f"  {recipe:<10} {size:>4} px batch {args.batch:>3}: {point['s_per_step']:.3f} s/step, "
                      f"{point['peak_mb']:.0f} MB", flush=True)
        for batch in map(int, args.batches.split(",")):
            point = _subprocess("--_trainer", recipe, str(args.size), str(batch), *common)
            if point:
                results["by_batch"].append(point)
                write()
                print(f"  {recipe:<10} {args.size:>4} px batch {batch:>3}: {point['s_per_step']:.3f} s/step, "
                      f"{point['peak_mb']:.0f} MB", flush=True)
    model = export_render_model(Path(tempfile.mkdtemp(prefix="scaling-model-")))
    for n in map(int, args.render_n.split(",")):
        point = _subprocess("--_render", str(model), str(n))
        if point:
            results["render"].append(point)
            write()
            print(f"  render --n {n:>5}: {point['s']:.3f} s, {point['peak_mb']:.0f} MB", flush=True)
    caption = write()
    print(f"\n{header}\n\n" + markdown(results, caption))
    print(f"wrote {args.out / 'scaling.svg'}, {args.out / 'scaling.md'}, {args.out / 'scaling.json'}")


if __name__ == "__main__":
    main()
