"""Every benchmark on one device in one run, printed as one table (what bench/gpu.sh runs).

Sections (each against its reference, side by side in this run):

- dcgan: the engine's GAN step against the plain pytorch/examples DCGAN loop (same networks, in-memory
  data), 64 px, batch 128 and 512, fp32 and bf16, eager / torch.compile / compile with CUDA graphs
  (``reduce-overhead``); img/s, TFLOP/s and the fraction of the card's dense bf16 peak;
- progan, stylegan: the engine's trainer at its final resolution (no growing), img/s;
- gatys: the style plugin's objective against the plain hand-written loop at 512 and 1024 px;
- fast-style: the transformation network (width 16 and 32) at 512 px, PyTorch on the device;
- onnxruntime: the exported DCGAN generator and fast-style network with the CUDA provider (when
  onnxruntime-gpu is installed) or the CPU provider, against PyTorch eager on the same device.

    bench/gpu.sh                                   # CUDA, the full run (about 5 minutes on an H100)
    bench/gpu.sh --device cpu --quick              # the same code on a CPU at tiny sizes (CI smoke)

Compile rows are skipped on CPU with --quick (inductor needs minutes there); a compile failure is a row
saying so, never the end of the run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import traceback
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine_info  # noqa: E402
import trainers  # noqa: E402

#: dense (no sparsity) bf16 tensor TFLOP/s by card name, from the vendors' data sheets
BF16_PEAK_TFLOPS = {"H200": 989.0, "GH200": 989.0, "H100 SXM": 989.0, "H100 80GB HBM3": 989.0, "H100 NVL": 835.0,
                    "H100 PCIe": 756.0, "H100": 756.0, "B200": 2250.0, "A100": 312.0, "L40S": 362.0, "L40": 181.0,
                    "L4": 121.0, "A10": 125.0, "RTX 4090": 165.0, "RTX 3090": 71.0}


def bf16_peak(name: str, override: float) -> float:
    if override:
        return override
    for key, value in BF16_PEAK_TFLOPS.items():  # most specific names first
        if key in name:
            return value
    return float("nan")


class Table:
    """Rows of (section, contender, setting, value, unit, relative, tflops)."""

    def __init__(self, peak: float):
        self.rows: list[dict] = []
        self.peak = peak

    def add(self, section: str, contender: str, setting: str, value: float, unit: str, *, ref: float = math.nan,
            flops: float = math.nan, note: str = "") -> float:
        tflops = flops * value / 1e12 if unit == "img/s" and not math.isnan(flops) else math.nan
        row = {"section": section, "contender": contender, "setting": setting, "value": value, "unit": unit,
               "vs_reference": (value / ref if unit == "img/s" else ref / value) if ref == ref and value else math.nan,
               "tflops": tflops, "peak_fraction": tflops / self.peak if self.peak == self.peak else math.nan,
               "note": note}
        self.rows.append(row)
        print(f"  {section:<11} {contender:<34} {setting:<16} {value:>10.3g} {unit}"
              + (f"  {row['vs_reference']:.2f}x" if row["vs_reference"] == row["vs_reference"] else "")
              + (f"  {note}" if note else ""), flush=True)
        return value

    def failed(self, section: str, contender: str, setting: str, exc: BaseException) -> None:
        msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
        self.rows.append({"section": section, "contender": contender, "setting": setting, "value": math.nan,
                          "unit": "", "vs_reference": math.nan, "tflops": math.nan, "peak_fraction": math.nan,
                          "note": f"failed: {msg}"})
        print(f"  {section:<11} {contender:<34} {setting:<16} failed: {msg}", flush=True)

    def print(self, title: str) -> None:
        print(f"\n{title}")
        head = (f"{'section':<11} {'contender':<34} {'setting':<16} {'result':>14} {'vs ref':>7} {'TFLOP/s':>8} "
                f"{'% bf16 peak':>11}  note")
        print(head)
        print("-" * len(head))
        for r in self.rows:
            value = f"{r['value']:.4g} {r['unit']}" if r["value"] == r["value"] else "-"
            rel = f"{r['vs_reference']:.2f}x" if r["vs_reference"] == r["vs_reference"] else ""
            tf = f"{r['tflops']:.2f}" if r["tflops"] == r["tflops"] else ""
            pk = f"{100 * r['peak_fraction']:.1f}%" if r["peak_fraction"] == r["peak_fraction"] else ""
            print(f"{r['section']:<11} {r['contender']:<34} {r['setting']:<16} {value:>14} {rel:>7} {tf:>8} "
                  f"{pk:>11}  {r['note']}")


def _guard(table: Table, section: str, contender: str, setting: str, fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - one failing contender must not end the run
        if "--debug" in sys.argv:
            traceback.print_exc()
        table.failed(section, contender, setting, exc)
        return None


# ------------------------------------------------------------------ dcgan


def _rate(step, batch: int, steps: int, device: str, warmup: int = 1) -> float:
    return batch / trainers.time_steps(step, steps, device, warmup=warmup)


def _engine_rate(out: Path, batch: int, precision: str, compiled: bool, args) -> float:
    trainer = trainers.build_trainer(
        "dcgan", out, image_size=args.image_size, batch_size=batch, device=args.device, precision=precision,
        compile=compiled, extra={"generator.width": str(args.width), "discriminator.width": str(args.width),
                                 "trainer.ema_beta": "0", "trainer.r1_gamma": "0"})  # the plain loop's work
    return _rate(trainers.counted_step(trainer), batch, args.steps, args.device, warmup=3 if compiled else 1)


def _row(table: Table, section: str, contender: str, setting: str, unit: str, measure, **kw) -> float | None:
    """Measure one contender and add its row; a failure becomes a row saying so."""
    value = _guard(table, section, contender, setting, measure)
    return None if value is None else table.add(section, contender, setting, value, unit, **kw)


def dcgan(args, table: Table, tmp: Path) -> None:
    from bench_dcgan_throughput import plain_loop

    from artengine.plugins.dcgan.config import DcganDiscriminatorConfig, DcganGeneratorConfig
    from artengine.plugins.dcgan.networks import DcganDiscriminator, DcganGenerator

    device = torch.device(args.device)
    size, width = args.image_size, args.width
    compile_modes = [] if args.no_compile else ["default"] + (["reduce-overhead"] if device.type == "cuda" else [])
    for batch in args.batches:
        reference = math.nan
        for precision in args.precisions:
            torch.manual_seed(0)
            G = DcganGenerator(DcganGeneratorConfig(width=width), image_size=size, channels=3).to(device)
            D = DcganDiscriminator(DcganDiscriminatorConfig(width=width), image_size=size, channels=3).to(device)
            if precision != "fp32":
                G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
            data = torch.randint(0, 256, (max(batch * 2, 256), 3, size, size), dtype=torch.uint8, device=device)
            step = plain_loop(G, D, data, batch, G.latent_dim, precision, device)
            flops = trainers.step_flops(step) / batch
            setting = f"b{batch} {precision}"
            value = _row(table, "dcgan", "plain loop eager", setting, "img/s",
                         partial(_rate, step, batch, args.steps, args.device), ref=reference, flops=flops)
            if precision == "fp32" and value:
                reference = value
            for mode in compile_modes if batch == args.batches[0] else []:
                cstep = plain_loop(torch.compile(G, mode=mode), torch.compile(D, mode=mode), data, batch,
                                   G.latent_dim, precision, device)
                _row(table, "dcgan", f"plain loop compile {mode}", setting, "img/s",
                     partial(_rate, cstep, batch, args.steps, args.device, 3), ref=reference, flops=flops)
            for compiled in [False] + ([True] if compile_modes else []):
                out = tmp / f"dcgan-{batch}-{precision}-{compiled}"
                _row(table, "dcgan", "engine compile" if compiled else "engine eager", setting, "img/s",
                     partial(_engine_rate, out, batch, precision, compiled, args), ref=reference, flops=flops)


# ------------------------------------------------------------------ other trainers


def _trainer_rate(recipe: str, out: Path, precision: str, args) -> float:
    trainer = trainers.build_trainer(recipe, out, image_size=args.image_size, batch_size=args.batches[0],
                                     device=args.device, precision=precision)
    return _rate(trainers.counted_step(trainer), args.batches[0], args.steps, args.device)


def other_trainers(args, table: Table, tmp: Path) -> None:
    for recipe in ("progan", "stylegan"):
        if recipe not in trainers.available_recipes():
            continue
        for precision in args.precisions:
            _row(table, recipe, "engine trainer", f"{args.image_size}px b{args.batches[0]} {precision}", "img/s",
                 partial(_trainer_rate, recipe, tmp / f"{recipe}-{precision}", precision, args))


# ------------------------------------------------------------------ style


def gatys(args, table: Table) -> None:
    from bench_style import run_variant

    for size in args.style_sizes:
        for precision in args.precisions:
            setting = f"{size}px {precision}"
            plain = math.nan
            for variant in ("plain", "artengine"):
                result = _guard(table, "gatys", variant, setting,
                                partial(run_variant, variant, size, args.evals, precision, args.device))
                if not result:
                    continue
                if variant == "plain":
                    plain = result["s_per_eval"]
                table.add("gatys", "plain loop" if variant == "plain" else "artengine objective", setting,
                          result["s_per_eval"], "s/eval", ref=plain,
                          note=f"peak {result['peak_mem_mb']:.0f} MB" if args.device.startswith("cuda") else "")


def _photo_seconds(net, x: torch.Tensor, precision: str, args) -> float:
    from artengine.training.precision import autocast

    def once():
        with torch.inference_mode(), autocast(x.device, precision):
            net(x)

    return trainers.time_steps(once, args.runs, args.device)


def fast_style(args, table: Table, tmp: Path) -> None:
    from artengine.plugins.style.fast_trainer import StyleExport
    from artengine.plugins.style.transformer import TransformerNet

    x = torch.rand(1, 3, args.fast_size, args.fast_size, device=args.device)
    for width in (16, 32):
        net = StyleExport(TransformerNet(width, 5)).eval().to(args.device)
        for precision in args.precisions:
            _row(table, "fast-style", "pytorch eager", f"w{width} {args.fast_size}px {precision}", "s/photo",
                 partial(_photo_seconds, net, x, precision, args))


def onnxruntime_rows(args, table: Table, tmp: Path) -> None:
    import numpy as np
    import onnxruntime as ort

    from artengine.export.api import export_module
    from artengine.plugins.dcgan.config import DcganGeneratorConfig
    from artengine.plugins.dcgan.networks import DcganGenerator
    from artengine.plugins.gan.trainer import GeneratorExport
    from artengine.runtime import load_model

    provider = "cuda" if args.device.startswith("cuda") and "CUDAExecutionProvider" in \
        ort.get_available_providers() else "cpu"
    note = "" if provider == "cuda" or not args.device.startswith("cuda") else "no CUDA provider: CPU"
    torch.manual_seed(0)
    net = GeneratorExport(DcganGenerator(DcganGeneratorConfig(), image_size=args.image_size, channels=3)).eval()
    meta = {"kind": "generator", "latent_dim": 100, "image_size": args.image_size, "channels": 3,
            "recipe": "dcgan", "dataset": "bench", "step": 0}
    path = tmp / "dcgan.onnx"
    export_module(net, meta, path, options={"exporter": "torchscript"})
    model = load_model(path, provider=provider)
    batch = args.render_batch
    z = np.random.default_rng(0).standard_normal((batch, 100)).astype(np.float32)
    dev_net = net.to(args.device)
    zt = torch.from_numpy(z).to(args.device)

    def eager():
        with torch.inference_mode():
            dev_net(zt).cpu()

    eager_s = trainers.time_steps(eager, args.runs, args.device)
    table.add("onnxruntime", "pytorch eager (to host)", f"dcgan b{batch}", batch / eager_s, "img/s")
    seconds = trainers.time_steps(lambda: model.generate(z, batch_size=batch), args.runs, "cpu")
    table.add("onnxruntime", f"onnxruntime {provider}", f"dcgan b{batch}", batch / seconds, "img/s",
              ref=batch / eager_s, note=note)


# ------------------------------------------------------------------ main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1-2 steps: checks the script, not speed")
    p.add_argument("--sections", default="dcgan,trainers,gatys,fast-style,onnxruntime")
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile / CUDA graph rows")
    p.add_argument("--peak-tflops", type=float, default=0.0, help="dense bf16 peak (default: by card name)")
    p.add_argument("--json", type=Path, help="also write the table as JSON")
    p.add_argument("--debug", action="store_true", help="print tracebacks of failed rows")
    args = p.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("bench_gpu: no CUDA device here; run with --device cpu (add --quick for a smoke run)")
    if args.quick:
        args.image_size, args.width, args.batches, args.steps, args.evals, args.runs = 16, 8, [4], 1, 1, 1
        args.style_sizes, args.fast_size, args.render_batch = [32], 32, 8
        args.precisions = ["fp32", "bf16"]
        if args.device == "cpu":
            args.no_compile = True
    else:
        args.image_size, args.width, args.batches, args.steps, args.evals, args.runs = 64, 64, [128, 512], 20, 5, 10
        args.style_sizes, args.fast_size, args.render_batch = [512, 1024], 512, 256
        args.precisions = ["fp32", "bf16"]
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # fp32 means fp32

    card = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else machine_info.cpu_model()
    peak = bf16_peak(card, args.peak_tflops)
    print(machine_info.line(args.device))
    print(f"device {card}; dense bf16 peak {peak:g} TFLOP/s" if peak == peak else
          f"device {card}; bf16 peak unknown (pass --peak-tflops)")
    table = Table(peak)
    tmp = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    sections = {"dcgan": lambda: dcgan(args, table, tmp), "trainers": lambda: other_trainers(args, table, tmp),
                "gatys": lambda: gatys(args, table), "fast-style": lambda: fast_style(args, table, tmp),
                "onnxruntime": lambda: onnxruntime_rows(args, table, tmp)}
    start = time.perf_counter()
    for name in args.sections.split(","):
        t0 = time.perf_counter()
        _guard(table, name, "section", "", sections[name])
        print(f"[{name}: {time.perf_counter() - t0:.0f} s]", flush=True)
    total = time.perf_counter() - start
    table.print(f"artengine on {card} ({'quick smoke: sizes too small to mean anything' if args.quick else 'full'}"
                f"; {total:.0f} s in all)")
    if args.json:
        args.json.write_text(json.dumps({"device": card, "peak_bf16_tflops": peak, "machine":
                                         machine_info.describe(args.device), "rows": table.rows}, indent=2) + "\n")
    if any(r["note"].startswith("failed") and r["contender"] == "section" for r in table.rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
