"""Which precision trains each recipe fastest on this machine: the measurement behind ``--precision auto``.

``auto`` decides from capability (bf16 + channels-last where bf16 runs natively, fp32 + channels-last
elsewhere); this bench checks that decision per recipe. For every installed recipe, at its own image size
and batch size, the real trainer's step (the path ``artengine train`` takes, upkeep off) runs as

- ``fp32``: fp32, NCHW (the plain PyTorch default),
- ``fp32+cl``: fp32, channels-last (``auto`` on CPUs without native bf16),
- ``bf16+cl``: bf16 autocast, channels-last (``auto`` on AMX / AVX512-BF16 CPUs and CUDA),

in alternating rounds, so machine load hits all three alike. The table shows the median images/s, the
speed against fp32 NCHW, which one ``auto`` picks here and whether it is the fastest.

    .venv/bin/python bench/bench_precision.py                       # every recipe, 3 rounds
    .venv/bin/python bench/bench_precision.py --recipes dcgan --image-size 64 --batch-size 64
    .venv/bin/python bench/bench_precision.py --quick               # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine_info  # noqa: E402
import trainers  # noqa: E402

#: contender -> (precision, channels_last)
MODES: dict[str, tuple[str, bool]] = {"fp32": ("fp32", False), "fp32+cl": ("fp32", True), "bf16+cl": ("bf16", True)}


def recipe_shape(recipe: str) -> tuple[int, int]:
    """The recipe's own image size and batch size."""
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve

    config = resolve(recipe, registry=get_registry(), cli_values={"data": "shapes", "out": "unused"}, set_values={})
    return config.settings.image_size, config.settings.batch_size


def auto_mode(device: str) -> str:
    """The contender ``--precision auto`` trains as on ``device``."""
    import torch

    from artengine.training.precision import resolve_precision

    return "bf16+cl" if resolve_precision("auto", torch.device(device)) == "bf16" else "fp32+cl"


def measure(recipe: str, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    """Median images/s of each mode for one recipe, alternating rounds."""
    size, batch = recipe_shape(recipe)
    size, batch = args.image_size or size, args.batch_size or batch
    steps = {}
    for mode, (precision, channels_last) in MODES.items():
        trainer = trainers.build_trainer(recipe, tmp / f"{recipe}-{mode}", image_size=size, batch_size=batch,
                                         device=args.device, precision=precision,
                                         extra={"channels_last": str(channels_last).lower()})
        steps[mode] = trainers.counted_step(trainer)
        for _ in range(args.warmup):
            steps[mode]()
    rates: dict[str, list[float]] = {mode: [] for mode in steps}
    for _ in range(args.rounds):
        for mode, step in steps.items():
            rates[mode].append(batch / trainers.time_steps(step, args.steps, args.device, warmup=0))
    return {"image_size": size, "batch_size": batch, **{m: statistics.median(v) for m, v in rates.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default="", help="comma list (default: every installed recipe)")
    parser.add_argument("--image-size", type=int, default=0, help="0: each recipe's own")
    parser.add_argument("--batch-size", type=int, default=0, help="0: each recipe's own")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3, help="steps per round per contender")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke run: 16 px, batch 4, 1 round of 1 step")
    args = parser.parse_args()
    if args.quick:
        args.image_size, args.batch_size, args.rounds, args.steps, args.warmup = 16, 4, 1, 1, 1
    recipes = [r for r in args.recipes.split(",") if r] or trainers.available_recipes()
    print(machine_info.line(args.device))
    picked = auto_mode(args.device)
    tmp = Path(tempfile.mkdtemp(prefix="bench-precision-"))
    print(f"\ntraining step, median images/s over {args.rounds} alternating rounds of {args.steps} steps "
          f"({args.device}; auto picks {picked} here)")
    head = f"{'recipe':<11}{'size':>5}{'batch':>6}" + "".join(f"{m:>10}" for m in MODES)
    print(head + f"{'auto':>10}{'auto/fp32':>11}  fastest")
    print("-" * (len(head) + 30))
    for recipe in recipes:
        r = measure(recipe, args, tmp)
        fastest = max(MODES, key=lambda m: r[m])
        verdict = "auto" if fastest == picked else f"{fastest} (auto is {r[picked] / r[fastest]:.2f}x of it)"
        print(f"{recipe:<11}{r['image_size']:>5}{r['batch_size']:>6}" + "".join(f"{r[m]:>10.1f}" for m in MODES)
              + f"{picked:>10}{r[picked] / r['fp32']:>10.2f}x  {verdict}", flush=True)


if __name__ == "__main__":
    main()
