"""Build any recipe's real trainer in-process and time its steps: shared by bench_gpu.py and bench_scaling.py.

The trainer comes from the same path `artengine train` takes (recipe -> resolved config -> TrainContext ->
the registered trainer), with in-memory data and periodic upkeep (logs, samples, checkpoints) off, so a
timed step is the training step itself.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

#: per recipe: the dataset it trains on here and the --set values that make a step comparable across sizes and
#: over time: augmentation off, since on 256 images ADA's p climbs during the timed steps and the step's cost with it;
#: dcgan's lazy R1 off, since one step in four (the R1 step) costs about twice the others, and a few timed steps
#: would land unevenly
RECIPES: dict[str, tuple[str, dict[str, str]]] = {
    "dcgan": ("shapes", {"dataset.size": "256", "trainer.balance_threshold": "0", "trainer.augment": "none",
                         "trainer.r1_gamma": "0"}),
    # ProGAN at its final resolution (no growing), every stage's batch the one asked for
    "progan": ("shapes", {"dataset.size": "256", "trainer.augment": "none"}),
    "stylegan": ("shapes", {"dataset.size": "256", "trainer.augment": "none"}),
    "fast-style": ("shapes", {"dataset.size": "64"}),
}


def available_recipes() -> list[str]:
    from artengine.pluginhost import get_registry

    registry = get_registry()
    return [r for r in RECIPES if registry.has("recipes", r)]


def build_trainer(recipe: str, out: Path, *, image_size: int, batch_size: int, device: str = "cpu",
                  precision: str = "fp32", extra: dict[str, str] | None = None, compile: bool = False):
    """The recipe's trainer, set up and ready for ``train_step()``."""
    from artengine.pluginhost import get_registry
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer as build
    from artengine.training.trainer import seed_everything

    registry = get_registry()
    data, values = RECIPES.get(recipe, ("shapes", {}))
    values = {**values, "log_every": "1000000", **(extra or {})}
    if recipe == "progan":
        values.setdefault("trainer.start_resolution", str(image_size))
        values.setdefault("trainer.batch_sizes", ",".join([str(batch_size)] * 7))
    if precision != "fp32":
        values.setdefault("channels_last", "true")
    cli = {"data": data, "out": str(out), "steps": 1, "image_size": image_size, "batch_size": batch_size,
           "seed": 0, "device": device, "precision": precision}
    if compile:
        cli["compile"] = True
    config = resolve(recipe, registry=registry, cli_values=cli, set_values=values)
    trainer = build(config, registry=registry)
    seed_everything(0)
    trainer.setup()
    return trainer


def counted_step(trainer):
    """``trainer.train_step`` counted as ``artengine train`` counts it: lazy regularizers (R1 every
    ``r1_every`` steps, path length) and other step-keyed upkeep run on the steps they would in training, not
    on every timed call."""

    def step():
        trainer.train_step()
        trainer.step += 1

    return step


def sync_for(device: str):
    return torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)


def time_steps(step, steps: int, device: str = "cpu", warmup: int = 1) -> float:
    """Seconds per step (after ``warmup`` untimed steps)."""
    sync = sync_for(device)
    for _ in range(warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return (time.perf_counter() - t0) / max(1, steps)


def step_flops(step) -> float:
    """FLOPs of one call of ``step`` (forward and backward of every network), counted by torch; NaN where
    the counter cannot follow the step (double backward: gradient penalties, R1)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    try:
        with counter:
            step()
    except (RuntimeError, AssertionError):  # torch's counter hooks reject double backward
        return float("nan")
    return float(counter.get_total_flops())
