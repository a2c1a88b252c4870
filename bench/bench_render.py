"""Rendering throughput: onnxruntime (fp32, int8, fp16 exports) against PyTorch eager, side by side.

Same network for all: the real 64x64 DCGAN generator (plugins/dcgan, default width) wrapped
exactly as the GAN trainer exports it, random weights (speed does not depend on training).
Also: artengine's onnxruntime session options against the alternatives (thread spinning, graph
optimization levels, memory arena, threads), run() against IO binding into a preallocated output,
and `artengine render` cold start (process start to first PNG) in a fresh process.

    .venv/bin/python bench/bench_render.py [--repeats 5] [--threads 2]
    .venv/bin/python bench/bench_render.py --quick                            # smoke run (seconds)
    .venv/bin/python bench/bench_render.py --eval RUN_DIR [--samples 5000]   # variants' eval numbers

``--eval`` exports a trained run as fp32, int8 and fp16 and runs artengine's evaluation (mode coverage,
KL, classifier Frechet distance, diversity) on images drawn from each ONNX file with the runtime, so a
speed variant can be checked to keep the fp32 model's mode coverage.

Reports ms per image and the fraction of the CPU's fp32 peak (default 270 GFLOP/s, 2 cores)
at 0.21 GFLOP per 64x64 image (a multiply-add counts as two FLOPs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GFLOP_PER_IMAGE = 0.21


def compare_variants_eval(run_dir: str, samples: int) -> None:
    """Evaluation numbers of the fp32, int8 and fp16 exports of one run, side by side."""
    import torch

    from artengine.evaluation import evaluate_generator
    from artengine.export import export_run
    from artengine.rundir import RunDir
    from artengine.runtime import load_model

    config = RunDir(run_dir).read_config()
    dataset = dict(config.get("dataset") or {})
    name = dataset.pop("name")
    tmp = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    keys = ("modes_covered", "num_modes", "kl", "fid_classifier", "diversity_ratio")
    print(f"{'variant':<8} " + " ".join(f"{k:>15}" for k in keys) + "  max|diff| vs fp32")
    for variant in ("none", "int8", "fp16"):
        path = tmp / f"{variant}.onnx"
        report = export_run(run_dir, path, options={"quantize": variant, "exporter": "torchscript"})
        model = load_model(path)
        rng = np.random.default_rng(0)  # the same latents for every variant

        def sample(n: int, model=model, rng=rng) -> torch.Tensor:
            z = rng.standard_normal((n, model.latent_dim)).astype(np.float32)
            return torch.from_numpy(model.generate(z))

        result = evaluate_generator(sample, name, samples=samples, image_size=model.image_size,
                                    channels=model.channels, dataset_values=dataset)
        diff = report.quantized_max_diff if variant != "none" else 0.0
        label = "fp32" if variant == "none" else variant
        print(f"{label:<8} " + " ".join(f"{result.get(k, float('nan')):>15}" for k in keys) + f"  {diff:.3g}")


def _rounds(fns: dict, repeats: int) -> dict[str, float]:
    """Best time of each contender over ``repeats`` alternating rounds (load hits all alike)."""
    for fn in fns.values():
        fn()  # warm-up
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[key] = min(best[key], time.perf_counter() - t)
    return best


def _session_variants(path: Path, threads: int) -> dict:
    """artengine's session options against the alternatives worth trying (same file)."""
    import onnxruntime as ort

    from artengine.runtime.model import session_options

    def alt(**changes):
        opts = session_options(threads)
        for key, value in changes.pop("config", {}).items():
            opts.add_session_config_entry(key, value)
        for key, value in changes.items():
            setattr(opts, key, value)
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    level = ort.GraphOptimizationLevel
    return {"artengine session_options": alt(), "onnxruntime defaults": ort.InferenceSession(
                str(path), providers=["CPUExecutionProvider"]),
            "no thread spinning": alt(config={"session.intra_op.allow_spinning": "0"}),
            "optimization: extended": alt(graph_optimization_level=level.ORT_ENABLE_EXTENDED),
            "optimization: basic": alt(graph_optimization_level=level.ORT_ENABLE_BASIC),
            "no memory arena": alt(enable_cpu_mem_arena=False, enable_mem_pattern=False),
            "denormals as zero": alt(config={"session.set_denormal_as_zero": "1"}),
            "1 thread": alt(intra_op_num_threads=1)}


def _io_binding(session, z: np.ndarray):
    """run_with_iobinding into a preallocated output (no output allocation per call)."""
    shape = [z.shape[0], *session.get_outputs()[0].shape[1:]]
    out = np.empty([int(d) for d in shape], dtype=np.float32)
    binding = session.io_binding()
    binding.bind_cpu_input("z", z)
    binding.bind_output("image", "cpu", 0, np.float32, out.shape, out.ctypes.data)

    def run():
        session.run_with_iobinding(binding)
        return out

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="0: artengine's default (usable cores)")
    parser.add_argument("--peak", type=float, default=270.0, help="CPU fp32 peak in GFLOP/s")
    parser.add_argument("--batches", default="1,64")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, batch 1 and 8")
    parser.add_argument("--eval", metavar="RUN_DIR", help="compare eval numbers of the run's fp32/int8/fp16 exports")
    parser.add_argument("--samples", type=int, default=5000, help="--eval: images drawn per variant")
    args = parser.parse_args()
    if args.eval:
        compare_variants_eval(args.eval, args.samples)
        return
    if args.quick:
        args.repeats, args.batches = 1, "1,8"

    import machine_info
    import onnxruntime as ort
    import torch

    from artengine.export.api import export_module
    from artengine.plugins.dcgan.config import DcganGeneratorConfig
    from artengine.plugins.dcgan.networks import DcganGenerator
    from artengine.plugins.gan.trainer import GeneratorExport
    from artengine.runtime.model import session_options, usable_cores

    threads = args.threads or usable_cores()
    torch.set_num_threads(threads)
    info = machine_info.describe()
    print(machine_info.line(info=info))
    print(f"onnxruntime {ort.__version__}, {threads} threads; int8 kernels with VNNI: "
          f"{'yes' if info['vnni'] else 'no (int8 runs without dot-product instructions)'}")
    torch.manual_seed(0)
    net = GeneratorExport(DcganGenerator(DcganGeneratorConfig(), image_size=64, channels=3)).eval()
    latent_dim = DcganGeneratorConfig().latent_dim
    meta = {"kind": "generator", "latent_dim": latent_dim, "image_size": 64, "channels": 3, "recipe": "dcgan",
            "dataset": "bench", "step": 0}
    tmp = Path(tempfile.mkdtemp(prefix="bench-render-"))
    paths, diffs = {}, {}
    for variant in ("none", "int8", "fp16"):
        paths[variant] = tmp / f"dcgan64-{variant}.onnx"
        report = export_module(net, meta, paths[variant], options={"quantize": variant})
        if variant != "none":
            diffs[variant] = (report.quantized_max_diff, report.quantized_mean_diff)
        extra = f", max diff vs fp32 {report.quantized_max_diff:.3g} mean {report.quantized_mean_diff:.3g}" \
            if variant != "none" else f", parity {report.max_abs_diff:.2g} ({report.exporter})"
        print(f"exported {variant}{extra}")

    opts = session_options(threads)
    sessions = {v: ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"]) for v, p in paths.items()}
    print(f"\n{'batch':>5} {'engine':<30} {'ms/image':>9} {'GFLOP/s':>8} {'% peak':>7} {'vs eager':>8}")
    speed: dict[tuple[int, str], float] = {}
    for batch in (int(b) for b in args.batches.split(",")):
        z = np.random.default_rng(0).standard_normal((batch, latent_dim)).astype(np.float32)
        zt = torch.from_numpy(z)

        def eager(zt=zt):
            with torch.inference_mode():
                net(zt)

        fns = {"pytorch eager fp32": eager}
        for variant, sess in sessions.items():
            fns[f"onnxruntime {'fp32' if variant == 'none' else variant}"] = \
                lambda s=sess, z=z: s.run(["image"], {"z": z})
        fns["onnxruntime fp32 + io binding"] = _io_binding(sessions["none"], z)
        best = _rounds(fns, args.repeats)
        eager_s = best["pytorch eager fp32"]
        for label, seconds in best.items():
            per = seconds / batch
            gflops = GFLOP_PER_IMAGE / per
            speed[(batch, label)] = eager_s / seconds
            print(f"{batch:>5} {label:<30} {per * 1e3:>9.2f} {gflops:>8.1f} {100 * gflops / args.peak:>6.1f}% "
                  f"{eager_s / seconds:>7.2f}x")

    big = max(int(b) for b in args.batches.split(","))
    z = np.random.default_rng(0).standard_normal((big, latent_dim)).astype(np.float32)
    variants = _session_variants(paths["none"], threads)
    best = _rounds({k: (lambda s=s: s.run(["image"], {"z": z})) for k, s in variants.items()}, args.repeats)
    ours = best["artengine session_options"]
    print(f"\nsession options, fp32, batch {big} (time relative to artengine's; > 1.00x: slower)")
    for label, seconds in best.items():
        print(f"  {label:<28} {seconds / big * 1e3:>8.2f} ms/image {seconds / ours:>6.2f}x")

    int8_faster = speed.get((big, "onnxruntime int8"), 0) > speed.get((big, "onnxruntime fp32"), 0)
    print(f"\nint8 at batch {big}: {'faster' if int8_faster else 'not faster'} than fp32 here; output "
          f"difference max {diffs['int8'][0]:.3g} / mean {diffs['int8'][1]:.3g} (the exporter's tolerance "
          "0.25 / 0.03). Export default stays fp32; check a trained run's quality with --eval RUN_DIR.")

    # Cold start: a fresh `artengine render` process until grid.png (the first PNG) exists.
    out = tmp / "render"
    t = time.perf_counter()
    script = str(Path(sys.executable).parent / "artengine")
    proc = subprocess.Popen([script, "render", str(paths["none"]), "--out", str(out),
                             "--n", "64"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while not (out / "grid.png").exists() and proc.poll() is None:
        time.sleep(0.002)
    first_png = time.perf_counter() - t
    proc.wait()
    total = time.perf_counter() - t
    print(f"\nartengine render cold start (64 images, 64x64, CPU): first PNG after {first_png:.2f} s "
          f"(target < 1 s), process done after {total:.2f} s")


if __name__ == "__main__":
    main()
