"""Benchmark `artengine style` against a plain hand-written PyTorch Gatys loop, plus fast style via onnxruntime.

Side by side, same feature network weights, same layers, same precision and size:

- ``artengine``: the plugin's StyleObjective (network truncated after the last layer used, content
  features and style Gram matrices cached once, in-place ReLUs, one forward + backward per evaluation).
- ``plain``: the loop as commonly hand-written: the full VGG16 conv stack, and the content and style
  targets recomputed inside the closure on every evaluation (under no_grad).
- ``plain-cached``: the plain loop with targets computed once (isolates what truncation alone buys).

Each variant runs in its own subprocess, so its peak memory (max RSS growth over the loaded model, or
CUDA max allocated) is its own. Time per evaluation = one L-BFGS closure (forward + backward), after
one warm-up evaluation. Also: bf16 autocast + channels-last vs fp32 (speed and quality), and the fast
style network at 512x512 through onnxruntime.

    .venv/bin/python bench/bench_style.py --size 512 --evals 3
    .venv/bin/python bench/bench_style.py --quick                   # smoke run
    .venv/bin/python bench/bench_style.py --skip gatys,fast --quality-size 256 --quality-steps 50 --pictures docs/images

On a CPU with native bf16 (AMX / AVX512-BF16) or CUDA, the artengine-vs-plain comparison also runs in bf16
(autocast + channels-last, the path `artengine style --precision auto` picks there).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """Peak resident memory of this process: VmHWM (getrusage's ru_maxrss would start at the parent's size,
    since Linux carries it over across fork + exec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_variant(variant: str, size: int, evals: int, precision: str, device: str) -> dict:
    """Runs in a subprocess: time ``evals`` closures of one variant."""
    import torch
    import torch.nn.functional as F

    from artengine.pluginhost import get_registry
    from artengine.plugins.style import images as im
    from artengine.plugins.style.configs import StyleSettings
    from artengine.plugins.style.losses import gram_matrix
    from artengine.plugins.style.recipe import StyleObjective
    from artengine.training.precision import autocast

    dev = torch.device(device)
    settings = StyleSettings(features="vgg16-hed", pooling="avg")
    content = im.resize(im.load_image(im.resolve_image("astronaut")), (size, size)).to(dev)
    style = im.resize(im.load_image(im.resolve_image("starry-night")), im.fit_size(600, 752, size)).to(dev)
    cl = precision == "bf16"
    if cl:
        content, style = (t.contiguous(memory_format=torch.channels_last) for t in (content, style))
    objective = StyleObjective(get_registry(), settings).to(dev)

    if variant == "artengine":
        if cl:
            objective.extractor.to(memory_format=torch.channels_last)
        with autocast(dev, precision):
            objective.set_content(content)
            objective.set_styles([style], [1.0])

        def loss_fn(x):
            with autocast(dev, precision):
                return objective(x)[0]
    else:
        # the hand-written loop: the whole VGG16 conv stack as one nn.Sequential, same weights
        ext = objective.extractor
        full = StyleObjective(get_registry(), StyleSettings(features="vgg16-hed", pooling="avg",
                                                            content_layers=("relu5_3",), style_layers=())).extractor
        layers = list(full.layers) + [torch.nn.AvgPool2d(2, 2, ceil_mode=True)]
        for m in layers:
            if isinstance(m, torch.nn.ReLU):
                m.inplace = False
        net = torch.nn.Sequential(*layers).to(dev).eval().requires_grad_(False)
        if cl:
            net.to(memory_format=torch.channels_last)
        index = {name: i for i, name in enumerate(full.layer_names)}
        s = settings
        c_idx = {index[n] for n in s.content_layers}
        s_idx = {index[n] for n in s.style_layers}

        def feats(x):
            out = {}
            x = ext.preprocess(x)
            for i, layer in enumerate(net):
                x = layer(x)
                if i in c_idx or i in s_idx:
                    out[i] = x
            return out

        def targets():
            with torch.no_grad():
                fc, fs = feats(content), feats(style)
                return {i: fc[i] for i in c_idx}, {i: gram_matrix(fs[i]) for i in s_idx}

        cached = targets() if variant == "plain-cached" else None

        def loss_fn(x):
            with autocast(dev, precision):
                ct, st = cached or targets()
                f = feats(x)
                c = sum(F.mse_loss(f[i].float(), ct[i]) / ct[i].pow(2).mean() for i in c_idx) / len(c_idx)
                g = sum(F.mse_loss(gram_matrix(f[i]), st[i]) / st[i].pow(2).mean() for i in s_idx) / len(s_idx)
                dx = x[..., :, 1:] - x[..., :, :-1]
                dy = x[..., 1:, :] - x[..., :-1, :]
                return s.content_weight * c + s.style_weight * g + s.tv_weight * (dx.pow(2).mean() + dy.pow(2).mean())

    image = content.clone().requires_grad_(True)
    base_rss = _rss_mb()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    times = []
    for i in range(evals + 1):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        image.grad = None
        loss = loss_fn(image)
        loss.backward()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i:  # the first one warms up kernels and allocators
            times.append(time.perf_counter() - t0)
    peak = (torch.cuda.max_memory_allocated(dev) / 2**20) if dev.type == "cuda" else (_peak_mb() - base_rss)
    return {"variant": variant, "precision": precision, "size": size, "s_per_eval": min(times),
            "s_per_eval_median": sorted(times)[len(times) // 2], "peak_mem_mb": round(peak, 1),
            "loss": float(loss)}


def subprocess_variant(variant: str, size: int, evals: int, precision: str, device: str) -> dict:
    cmd = [sys.executable, __file__, "--_variant", variant, "--size", str(size), "--evals", str(evals),
           "--precision", precision, "--device", device]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bf16_quality(size: int, steps: int, pictures: str | None = None) -> dict:
    """The same short L-BFGS run in fp32 and bf16: final losses, pixel differences, and (``pictures``:
    a folder) the two results side by side."""
    from artengine.pluginhost import get_registry
    from artengine.plugins.style import images as im
    from artengine.plugins.style.configs import StyleSettings
    from artengine.plugins.style.gatys import StyleJob, stylize

    out = {}
    images = {}
    for precision in ("fp32", "bf16"):
        job = StyleJob(content=im.resolve_image("astronaut"), styles=[im.resolve_image("starry-night")],
                       settings=StyleSettings(features="vgg16-hed"), size=size, steps=steps, frames=0,
                       precision=precision, channels_last=precision == "bf16", device="cpu", coarse_to_fine=1)
        result = stylize(job, get_registry())
        out[precision] = {"losses": result.losses, "s_per_step": result.timings["per_step_s"]}
        images[precision] = result.image
    out["mean_abs_pixel_diff"] = float((images["fp32"] - images["bf16"]).abs().mean())
    out["max_abs_pixel_diff"] = float((images["fp32"] - images["bf16"]).abs().max())
    if pictures:
        import torch

        path = Path(pictures) / f"gatys-fp32-vs-bf16-{size}px-{steps}steps.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        im.to_pil(torch.cat([images["fp32"], images["bf16"]], dim=-1)).save(path)
        out["picture"] = str(path)
    return out


def fast_style_onnx(size: int, runs: int, width: int) -> dict:
    """The fast-style network (``width``, 5 residual blocks) at size x size through onnxruntime, as
    ``artengine export`` writes it (``StyleExport``: the output layer on the space-to-depth input) and, as
    the reference in the same alternating runs, the network exported as trained."""
    import warnings

    import numpy as np
    import onnxruntime as ort
    import torch

    from artengine.plugins.style.transformer import StyleExport, TransformerNet
    from artengine.runtime.model import session_options

    net = TransformerNet(width, 5).eval()
    modules = {"export": StyleExport(net).eval(), "as_trained": StyleExport(net, fast_output=False).eval()}
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    times: dict[str, list[float]] = {k: [] for k in modules}
    with tempfile.TemporaryDirectory() as tmp:
        sessions = {}
        for name, module in modules.items():
            path = os.path.join(tmp, f"{name}.onnx")
            axes = {0: "batch", 2: "height", 3: "width"}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(module, (torch.rand(1, 3, 64, 64),), path, input_names=["image"],
                                  output_names=["out"], dynamic_axes={"image": axes, "out": axes}, dynamo=False)
            sessions[name] = ort.InferenceSession(path, session_options(), providers=["CPUExecutionProvider"])
            sessions[name].run(None, {"image": x})
        for _ in range(runs):
            for name, session in sessions.items():
                t0 = time.perf_counter()
                session.run(None, {"image": x})
                times[name].append(time.perf_counter() - t0)

    def median(v: list[float]) -> float:
        return sorted(v)[len(v) // 2]

    return {"size": size, "width": width, "s_best": min(times["export"]), "s_median": median(times["export"]),
            "as_trained_s_best": min(times["as_trained"]), "as_trained_s_median": median(times["as_trained"])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--evals", type=int, default=3)
    p.add_argument("--precision", default="fp32")
    p.add_argument("--device", default="cuda" if os.environ.get("CUDA_VISIBLE_DEVICES") else "cpu")
    p.add_argument("--bf16-size", type=int, default=128, help="size of the bf16 timing (slow without AMX)")
    p.add_argument("--quality-size", type=int, default=64)
    p.add_argument("--quality-steps", type=int, default=10)
    p.add_argument("--fast-runs", type=int, default=5)
    p.add_argument("--skip", default="", help="comma list of sections to skip: gatys,bf16,quality,fast")
    p.add_argument("--pictures", help="quality: write the fp32 and bf16 results side by side into this folder")
    p.add_argument("--quick", action="store_true", help="smoke run: 64 px, 1 evaluation, 2 quality steps")
    p.add_argument("--_variant", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._variant:
        print(json.dumps(run_variant(args._variant, args.size, args.evals, args.precision, args.device)))
        return
    if args.quick:
        args.size = args.bf16_size = args.quality_size = 64
        args.evals, args.quality_steps, args.fast_runs = 1, 2, 1
    skip = set(args.skip.split(","))
    import machine_info
    import torch

    from artengine.training.precision import native_bf16

    info = machine_info.describe(args.device)
    print(machine_info.line(args.device, info=info), file=sys.stderr)
    native = native_bf16(torch.device(args.device))
    report: dict = {"machine": info, "native_bf16": native,
                    "threads": os.environ.get("OMP_NUM_THREADS", "default"), "load_avg": os.getloadavg()}
    # the plain loop at each precision the hardware runs natively (bf16 only with AMX/AVX512-BF16 or CUDA)
    precisions = ("fp32", "bf16") if native else ("fp32",)
    if "gatys" not in skip:
        for prec in precisions:
            rows = [subprocess_variant(v, args.size, args.evals, prec, args.device)
                    for v in ("artengine", "plain", "plain-cached")]
            report[f"gatys_{prec}"] = rows
            ours = rows[0]["s_per_eval"]
            report[f"speedup_vs_plain_{prec}"] = round(rows[1]["s_per_eval"] / ours, 2)
            report[f"speedup_vs_plain_cached_{prec}"] = round(rows[2]["s_per_eval"] / ours, 2)
    if "bf16" not in skip:
        size = args.size if native else args.bf16_size  # emulated bf16 is slow: a smaller size without AMX
        rows = [subprocess_variant("artengine", size, args.evals, prec, args.device) for prec in ("fp32", "bf16")]
        report["bf16_vs_fp32"] = rows
        report["bf16_speedup"] = round(rows[0]["s_per_eval"] / rows[1]["s_per_eval"], 2)
        if not native:
            report["bf16_note"] = "no native bf16 here: bf16 is emulated, so this row says nothing about AMX"
    if "quality" not in skip:
        report["bf16_quality"] = bf16_quality(args.quality_size, args.quality_steps, args.pictures)
    if "fast" not in skip:
        report["fast_style_onnxruntime"] = [fast_style_onnx(args.size if args.quick else 512, args.fast_runs, w)
                                            for w in (16, 32)]
    report["load_avg_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
