"""Rendering throughput: onnxruntime (fp32, int8, fp16 exports) against PyTorch eager, side by side.

Same network for all: the real 64x64 DCGAN generator (plugins/dcgan, default width) wrapped
exactly as the GAN trainer exports it, random weights (speed does not depend on training).
Also measures `artengine render` cold start (process start to first PNG) in a fresh process.

    .venv/bin/python bench/bench_render.py [--repeats 5] [--threads 2]
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


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--peak", type=float, default=270.0, help="CPU fp32 peak in GFLOP/s")
    parser.add_argument("--eval", metavar="RUN_DIR", help="compare eval numbers of the run's fp32/int8/fp16 exports")
    parser.add_argument("--samples", type=int, default=5000, help="--eval: images drawn per variant")
    args = parser.parse_args()
    if args.eval:
        compare_variants_eval(args.eval, args.samples)
        return

    import onnxruntime as ort
    import torch

    from artengine.export.api import export_module
    from artengine.plugins.dcgan.config import DcganGeneratorConfig
    from artengine.plugins.dcgan.networks import DcganGenerator
    from artengine.plugins.gan.trainer import GeneratorExport

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = GeneratorExport(DcganGenerator(DcganGeneratorConfig(), image_size=64, channels=3)).eval()
    latent_dim = DcganGeneratorConfig().latent_dim
    meta = {"kind": "generator", "latent_dim": latent_dim, "image_size": 64, "channels": 3, "recipe": "dcgan",
            "dataset": "bench", "step": 0}
    tmp = Path(tempfile.mkdtemp(prefix="bench-render-"))
    paths = {}
    for variant in ("none", "int8", "fp16"):
        paths[variant] = tmp / f"dcgan64-{variant}.onnx"
        report = export_module(net, meta, paths[variant], options={"quantize": variant})
        extra = f", max diff vs fp32 {report.quantized_max_diff:.3g} mean {report.quantized_mean_diff:.3g}" \
            if variant != "none" else f", parity {report.max_abs_diff:.2g} ({report.exporter})"
        print(f"exported {variant}{extra}")

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    sessions = {v: ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"]) for v, p in paths.items()}
    print(f"\n{'batch':>5} {'engine':<22} {'ms/image':>9} {'GFLOP/s':>8} {'% peak':>7} {'vs eager':>8}")
    for batch in (1, 64):
        z = np.random.default_rng(0).standard_normal((batch, latent_dim)).astype(np.float32)
        zt = torch.from_numpy(z)

        def eager(zt=zt):
            with torch.inference_mode():
                net(zt)

        rows = [("pytorch eager fp32", _time(eager, args.repeats))]
        for variant, sess in sessions.items():
            label = f"onnxruntime {'fp32' if variant == 'none' else variant}"
            rows.append((label, _time(lambda s=sess, z=z: s.run(["image"], {"z": z}), args.repeats)))
        eager_s = rows[0][1]
        for label, seconds in rows:
            per = seconds / batch
            gflops = GFLOP_PER_IMAGE / per
            print(f"{batch:>5} {label:<22} {per * 1e3:>9.2f} {gflops:>8.1f} {100 * gflops / args.peak:>6.1f}% "
                  f"{eager_s / seconds:>7.2f}x")

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
    print(f"\nartengine render cold start (64 images, 64x64, CPU): first PNG after {first_png:.2f} s, "
          f"process done after {total:.2f} s")


if __name__ == "__main__":
    main()
