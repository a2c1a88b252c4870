"""Mode coverage of the dcgan recipe and its ablations, side by side in one run.

Trains each variant with the real CLI for the same wall-clock budget, then evaluates it with the built-in
evaluator (modes covered and KL over N samples, the PacGAN/VEEGAN protocol uses 26,000) and prints a table.

    .venv/bin/python bench/bench_mode_coverage.py --data digits --minutes 2 --samples 10000
    .venv/bin/python bench/bench_mode_coverage.py --data stacked-mnist --minutes 15 --variants default
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

#: what each ablation changes relative to the recipe (``--set`` items)
VARIANTS: dict[str, list[str]] = {
    "default": [],
    "no-balance": ["trainer.balance_threshold=0"],
    "no-ema": ["trainer.ema_beta=0"],
    "mbstd": ["discriminator.minibatch_stddev=true"],
    "hinge": ["loss=hinge"],
    "lsgan": ["loss=lsgan"],
    "pack2": ["trainer.pack=2"],
    "pack4": ["trainer.pack=4"],
}


def train(variant: str, args: argparse.Namespace, out: Path) -> float:
    budget = ["--steps", str(args.steps)] if args.steps else ["--minutes", str(args.minutes)]
    cmd = [str(Path(sys.executable).with_name("artengine")), "train", "dcgan", "--data", args.data, *budget,
           "--out", str(out), "--image-size", str(args.image_size), "--seed", str(args.seed), "--quiet",
           "--set", "sample_every=0"]
    for item in VARIANTS[variant]:
        cmd += ["--set", item]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="digits", choices=["digits", "mnist", "stacked-mnist"])
    parser.add_argument("--minutes", type=float, default=2.0, help="training budget per variant")
    parser.add_argument("--steps", type=int, default=0, help="train a fixed number of steps instead of minutes "
                        "(fairer than minutes on a loaded machine)")
    parser.add_argument("--samples", type=int, default=26000)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default="default,no-balance,no-ema,mbstd,hinge,pack2")
    parser.add_argument("--out", default="runs/bench-modes")
    args = parser.parse_args()

    from artengine.evaluation import evaluate_run

    rows = []
    for variant in args.variants.split(","):
        out = Path(args.out) / f"{args.data}-{variant}-{int(time.time())}"
        train(variant, args, out)
        result = evaluate_run(out, samples=args.samples)
        steps = result["step"]
        rows.append((variant, steps, result))
        print(json.dumps({"variant": variant, **result}), flush=True)
    budget = f"{args.steps} steps" if args.steps else f"{args.minutes:g} min"
    print(f"\nmode coverage on {args.data} ({args.image_size}px, {budget} of training each, {args.samples} samples)")
    head = f"{'variant':<12}{'steps':>7}{'modes':>11}{'KL':>9}{'FD(clf)':>10}{'conf':>7}{'div ratio':>11}"
    print(head)
    print("-" * len(head))
    for variant, steps, r in rows:
        print(f"{variant:<12}{steps:>7}{r['modes_covered']:>6}/{r['num_modes']:<4}{r['kl']:>9.4f}"
              f"{r['fid_classifier']:>10.2f}{r['classifier_confidence']:>7.3f}{r['diversity_ratio']:>11.3f}")


if __name__ == "__main__":
    main()
