"""ProGAN benchmarks: mode coverage against the DCGAN recipe, and memory across stage changes.

    .venv/bin/python bench/bench_progan.py coverage --minutes 20   # stacked-mnist 32x32, progan vs dcgan
    .venv/bin/python bench/bench_progan.py coverage --epochs 3     # the same, at equal images instead of time
    .venv/bin/python bench/bench_progan.py memory                  # peak RSS per resolution, shapes 32x32

``coverage`` trains both recipes for the same wall-clock budget, each in its own
process, then scores both runs with the engine's evaluator (modes covered of
1,000, KL of the mode histogram from uniform, Frechet distance in the digit
classifier's feature space) and prints them side by side. ``memory`` trains one
growing run in this process and records the resident set size after every step,
grouped by resolution. Results are also written as JSON under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from artengine.hookspecs import hookimpl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine_info  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def seconds_per_image(resolution: int, image_size: int, extra: list[str], steps: int = 3) -> float:
    """One stage's training cost on this machine: a few progan steps with ``resolution`` as the first
    (and only) stage, through the same build the CLI uses."""
    import tempfile

    import trainers

    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer

    sets = dict(item.split("=", 1) for item in extra[1::2])
    config = resolve("progan", registry=get_registry(), cli_values={
        "data": "stacked-mnist", "image_size": image_size, "steps": steps + 1,
        "out": tempfile.mkdtemp(prefix="progan-calibrate-")},
        set_values={**sets, "start_resolution": str(resolution), "sample_every": "0", "checkpoint_every": "0",
                    "dataset.size": "1024"})
    trainer = build_trainer(config)
    trainer.setup()
    step = trainers.counted_step(trainer)  # a lazy R1 (--set r1_every=16) lands on the steps it would in training
    step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / (steps * trainer.stream.batch_size)


def growth_schedule(minutes: float, extra: list[str], image_size: int = 32, growth_share: float = 0.4) -> list[str]:
    """Fade and stabilization lengths (images) that finish growing after ``growth_share`` of the budget,
    from this machine's measured cost per image at each resolution: a fixed image count would spend
    most of a CPU budget growing and leave the target resolution almost untrained."""
    resolutions = [4 * 2**k for k in range(int(image_size).bit_length() - 2)]
    cost = {r: seconds_per_image(r, image_size, extra) for r in resolutions}
    # first stage: one phase; middle stages: fade + stabilize; the last stage: its fade
    phases = cost[resolutions[0]] + sum(2 * cost[r] for r in resolutions[1:-1]) + cost[resolutions[-1]]
    per_phase = max(200, int(growth_share * minutes * 60 / phases))
    print("seconds per image by resolution: " + ", ".join(f"{r}: {c:.4f}" for r, c in cost.items())
          + f" -> {per_phase} images per phase")
    return ["--set", f"fade_images={per_phase}", "--set", f"stabilize_images={per_phase}"]


def train(recipe: str, out: Path, budget: list[str], extra: list[str]) -> float:
    """One recipe on stacked-mnist at 32 px for ``budget`` (``["--minutes", "15"]`` or ``["--epochs", "3"]``)."""
    cmd = [sys.executable, "-m", "artengine", "train", recipe, "--data", "stacked-mnist", "--image-size", "32",
           *budget, "--out", str(out), "--quiet", "--set", "sample_every=0", *extra]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - t0


def coverage(args: argparse.Namespace) -> dict:
    from artengine.evaluation import evaluate_run

    results = {}
    for recipe in args.recipes:
        run = args.out / f"{recipe}-stacked-mnist"
        if run.exists() and not args.reuse:
            raise SystemExit(f"{run} exists: remove it or pass --reuse")
        extra = [x for item in args.set_items for x in ("--set", item)]
        if recipe == "progan" and not args.epochs:  # equal images: the recipe's own schedule
            extra = growth_schedule(args.minutes, extra) + extra
        budget = ["--epochs", str(args.epochs)] if args.epochs else ["--minutes", str(args.minutes)]
        wall = 0.0 if (args.reuse and run.exists()) else train(recipe, run, budget, extra)
        metrics = evaluate_run(run, samples=args.samples)
        config = json.loads((run / "config.json").read_text())
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
        steps = [r for r in rows if "images_per_s" in r]
        results[recipe] = {"wall_s": round(wall, 1), "steps": rows[-1]["step"] if rows else 0,
                           "images_per_s": round(sum(r["images_per_s"] for r in steps) / len(steps), 1)
                           if steps else None,
                           "precision": config.get("resolved_precision"), **_plain(metrics)}
    spent = f"{args.epochs} epochs ({args.epochs * 25_600:,} images)" if args.epochs else f"{args.minutes:g} min"
    print(f"\nstacked-mnist 32x32, {spent} each, {args.samples} samples scored")
    first = ("modes_covered", "kl", "fid_classifier", "steps", "wall_s", "images_per_s")
    keys = [k for k in first if any(k in r for r in results.values())]
    keys += sorted({k for r in results.values() for k in r} - set(keys) - {"precision"})
    print(f"{'':<28}" + "".join(f"{r:>14}" for r in results))
    for key in keys:
        print(f"{key:<28}" + "".join(f"{_fmt(results[r].get(key)):>14}" for r in results))
    return results


def _plain(metrics) -> dict:
    if hasattr(metrics, "__dataclass_fields__"):
        import dataclasses

        metrics = dataclasses.asdict(metrics)
    return {k: v for k, v in dict(metrics).items() if isinstance(v, (int, float, str, bool))}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class RssProbe:
    """A training-event listener: resident memory after every step, by resolution."""

    def __init__(self):
        self.by_stage: dict[int, list[float]] = {}

    @hookimpl
    def on_step_end(self, trainer, step, metrics):
        self.by_stage.setdefault(int(metrics["stage"]), []).append(rss_mib())


def memory(args: argparse.Namespace) -> dict:
    from artengine.pluginhost import get_host, get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer

    probe = RssProbe()
    host = get_host()
    host.pm.register(probe, name="rss-probe")
    out = args.out / "memory-run"
    phase = str(args.phase_images)
    config = resolve("progan", registry=get_registry(), cli_values={
        "data": "shapes", "image_size": args.image_size, "steps": args.steps, "out": str(out)},
        set_values={"first_stage_images": phase, "fade_images": phase, "stabilize_images": phase,
                    "sample_every": "0", "checkpoint_every": "0", "batch_sizes": args.batch_sizes,
                    **dict(item.split("=", 1) for item in args.set_items)})
    trainer = build_trainer(config)
    start = rss_mib()
    trainer.fit()
    report = {"rss_before_mib": round(start, 1), "batch_sizes": list(trainer.schedule.batch_sizes),
              "per_resolution": {}}
    print(f"\npeak resident memory per resolution (MiB), before training: {start:.0f}")
    print(f"{'res':>5} {'batch':>6} {'steps':>6} {'first':>8} {'middle':>8} {'last':>8} {'peak':>8}")
    for (res, values), batch in zip(sorted(probe.by_stage.items()), trainer.schedule.batch_sizes, strict=False):
        row = {"batch": batch, "steps": len(values), "first": round(values[0], 1),
               "middle": round(values[len(values) // 2], 1), "last": round(values[-1], 1),
               "peak": round(max(values), 1)}
        report["per_resolution"][res] = row
        print(f"{res:>5} {batch:>6} {row['steps']:>6} {row['first']:>8} {row['middle']:>8} {row['last']:>8} "
              f"{row['peak']:>8}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("coverage", "memory"))
    parser.add_argument("--minutes", type=float, default=20.0, help="coverage: budget per recipe")
    parser.add_argument("--epochs", type=int, default=0,
                        help="coverage: train each recipe on this many passes over the 25,600 images instead of "
                             "--minutes (equal images, not equal time; progan keeps its recipe's schedule)")
    parser.add_argument("--samples", type=int, default=26000, help="coverage: samples scored per run")
    parser.add_argument("--recipes", nargs="+", default=["progan", "dcgan"])
    parser.add_argument("--reuse", action="store_true", help="coverage: score existing runs instead of training")
    parser.add_argument("--image-size", type=int, default=32, help="memory: target resolution")
    parser.add_argument("--steps", type=int, default=120, help="memory: steps in all")
    parser.add_argument("--phase-images", type=int, default=256, help="memory: images per phase")
    parser.add_argument("--batch-sizes", default="64,64,32,32", help="memory: batch per resolution")
    parser.add_argument("--set", dest="set_items", action="append", default=[], metavar="KEY=VALUE",
                        help="extra setting for every recipe's run, as artengine train --set")
    parser.add_argument("--out", type=Path, default=Path("bench/results/progan"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(machine_info.line(), flush=True)
    result = coverage(args) if args.what == "coverage" else memory(args)
    path = args.out / f"{args.what}.json"
    result = {"machine": machine_info.describe(), **result}
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
