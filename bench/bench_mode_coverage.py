"""Mode coverage of a GAN recipe (dcgan by default) and its ablations, side by side in one run.

Trains each variant with the real CLI for the same wall-clock budget, then evaluates it with the built-in
evaluator (modes covered and KL over N samples, the PacGAN/VEEGAN protocol uses 26,000) and prints a table.

    .venv/bin/python bench/bench_mode_coverage.py --data digits --minutes 2 --samples 10000
    .venv/bin/python bench/bench_mode_coverage.py --data stacked-mnist --minutes 15 --variants default
    .venv/bin/python bench/bench_mode_coverage.py --data stacked-mnist --steps 6000 --variants fp32,bf16 --seeds 0,1
    .venv/bin/python bench/bench_mode_coverage.py --recipe stylegan --data stacked-mnist --steps 1000 \
        --variants "default,trainer.r1_gamma=1,discriminator.mbstd_group=32+trainer.style_mixing=0"

A variant is a name from ``VARIANTS`` or ``--set`` items joined by ``+`` (``trainer.lr_g=1e-3+trainer.lr_d=1e-3``).

With ``--seeds 0,1`` each variant trains once per seed: the spread between seeds of one variant is the
noise a difference between variants (e.g. bf16 against fp32) has to exceed to mean anything.
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
    # precision: the quality side of `--precision auto` (same steps, same seeds; compare with seed noise)
    "fp32": ["precision=fp32"],
    "bf16": ["precision=bf16", "channels_last=true"],
}


def variant_settings(variant: str) -> list[str]:
    """The ``--set`` items of a named variant, or of an inline one (``key=value+key=value``)."""
    if variant in VARIANTS:
        return VARIANTS[variant]
    if "=" in variant:
        return variant.split("+")
    raise SystemExit(f"unknown variant {variant!r}: use one of {', '.join(VARIANTS)} or key=value[+key=value...]")


def train(variant: str, args: argparse.Namespace, out: Path, seed: int) -> float:
    budget = ["--steps", str(args.steps)] if args.steps else ["--minutes", str(args.minutes)]
    cmd = [str(Path(sys.executable).with_name("artengine")), "train", args.recipe, "--data", args.data, *budget,
           "--out", str(out), "--image-size", str(args.image_size), "--seed", str(seed), "--quiet",
           "--set", "sample_every=0"]
    for item in variant_settings(variant):
        cmd += ["--set", item]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="dcgan", help="the recipe every variant starts from")
    parser.add_argument("--data", default="digits", choices=["digits", "mnist", "stacked-mnist"])
    parser.add_argument("--minutes", type=float, default=2.0, help="training budget per variant")
    parser.add_argument("--steps", type=int, default=0, help="train a fixed number of steps instead of minutes "
                        "(fairer than minutes on a loaded machine)")
    parser.add_argument("--samples", type=int, default=26000)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seeds", default="0", help="comma list: each variant trains once per seed")
    parser.add_argument("--variants", default="default,no-balance,no-ema,mbstd,hinge,pack2")
    parser.add_argument("--out", default="runs/bench-modes")
    args = parser.parse_args()

    import machine_info

    from artengine.evaluation import evaluate_run

    print(machine_info.line())
    for variant in args.variants.split(","):
        variant_settings(variant)  # an unknown variant fails before any training
    rows = []
    for variant in args.variants.split(","):
        for seed in map(int, args.seeds.split(",")):
            tag = "".join(c if c.isalnum() or c in ".-" else "_" for c in variant)[:60]
            out = Path(args.out) / f"{args.recipe}-{args.data}-{tag}-s{seed}-{int(time.time())}"
            train(variant, args, out, seed)
            result = evaluate_run(out, samples=args.samples)
            rows.append((variant, seed, result["step"], result))
            print(json.dumps({"variant": variant, "seed": seed, **result}), flush=True)
    budget = f"{args.steps} steps" if args.steps else f"{args.minutes:g} min"
    print(f"\nmode coverage of {args.recipe} on {args.data} ({args.image_size}px, {budget} of training each, "
          f"{args.samples} samples)")
    width = max(12, *(len(v) + 2 for v, *_ in rows))
    head = (f"{'variant':<{width}}{'seed':>5}{'steps':>7}{'modes':>11}{'KL':>9}{'FD(clf)':>10}{'conf':>7}"
            f"{'div ratio':>11}")
    print(head)
    print("-" * len(head))
    for variant, seed, steps, r in rows:
        print(f"{variant:<{width}}{seed:>5}{steps:>7}{r['modes_covered']:>6}/{r['num_modes']:<4}{r['kl']:>9.4f}"
              f"{r['fid_classifier']:>10.2f}{r['classifier_confidence']:>7.3f}{r['diversity_ratio']:>11.3f}")


if __name__ == "__main__":
    main()
