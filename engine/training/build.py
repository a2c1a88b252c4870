"""Making a trainer from a run config: the one path the CLI, the tests, bench/ and Python users take.

:func:`build_trainer` finishes resolving (device, precision, the dataset's channels and
description, library versions) and writes config.json, so a run built from Python is the
run `artengine train` would start. :func:`load_trainer` rebuilds a run from its directory.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from ..checkpoint import supersede_newer
from ..errors import CheckpointError
from ..registry import Registry
from ..runconfig import RunConfig
from ..rundir import RunDir
from .context import TrainContext
from .trainer import Trainer, seed_everything


def _plugins():
    from ..pluginhost import get_host, get_registry

    return get_registry(), get_host()


def make_trainer(ctx: TrainContext) -> Trainer:
    """The registered trainer of ``ctx.config``'s trainer section, given its typed settings."""
    chosen = ctx.config.trainer
    return ctx.registry.get("trainers", chosen.name).build(chosen.options, ctx=ctx)


def complete(config: RunConfig, ctx: TrainContext) -> RunConfig:
    """The facts only a built context knows, added to ``config``: the dataset's channels and
    description, the device and precision chosen, and the versions of the libraries involved."""
    from ..provenance import library_versions

    dataset = ctx.dataset  # load (and validate) the data before anything is written
    settings = dataclasses.replace(config.settings, channels=dataset.channels)
    if config.settings.precision == "auto":
        # auto trains channels-last at either precision: with bf16 it is what the native kernels want,
        # and with fp32 on AVX2 CPUs oneDNN's convolutions run 1.2-1.3x faster in it (docs/benchmarks.md)
        settings = dataclasses.replace(settings, channels_last=True)
    return dataclasses.replace(config, settings=settings, dataset_info=dataset.describe(),
                               versions=library_versions(ctx.registry, list(config.plugins)),
                               resolved_device=str(ctx.device), resolved_precision=ctx.precision)


def build_trainer(config: RunConfig, *, resume: bool = False, quiet: bool = True, device: str | None = None,
                  registry: Registry | None = None, host: Any = None, overwrite: bool = False,
                  checkpoint: str | None = None, more_minutes: float | None = None) -> Trainer:
    """A trainer ready for :meth:`Trainer.fit`, with the completed config written to config.json.

    Everything that can fail (the data, the networks, on resume the checkpoint against the new
    config) is done before the first write, so a refused command leaves the run folder as it was.
    ``overwrite``: clear an earlier run's own files first. ``checkpoint``: resume from this one
    (newer ones are moved aside, never deleted). ``more_minutes``: on resume, train this many
    minutes more (the saved budget becomes elapsed + more_minutes)."""
    default_registry, default_host = _plugins()
    registry, host = registry or default_registry, host or default_host
    ctx = TrainContext.create(config, registry=registry, host=host, quiet=quiet, resume=resume, device=device)
    ctx.config = complete(config, ctx)
    trainer = make_trainer(ctx)
    try:
        trainer.prepare(checkpoint)
    except CheckpointError as exc:
        if not resume or "does not match" not in str(exc).split("\n")[0]:
            raise
        raise CheckpointError(str(exc).split("\n")[0], hint="--resume continues the run with its own networks: "
                              "drop the --set/--image-size options that change them, or start a new run "
                              "(nothing was written)") from None
    if resume and more_minutes is not None:
        settings = dataclasses.replace(ctx.config.settings, minutes=trainer.elapsed / 60.0 + more_minutes)
        ctx.config = dataclasses.replace(ctx.config, settings=settings)
        trainer.settings = settings
    ctx.run.lock()  # one writer from here on; nothing was written before this line
    if overwrite:
        ctx.run.clear()
    if resume and checkpoint is not None:
        moved = supersede_newer(ctx.run.checkpoints_dir, checkpoint) if ctx.run.writer else None
        if moved is not None and not quiet:
            print(f"note: resuming from {checkpoint}; the newer checkpoints were moved to {moved}", file=sys.stderr)
    ctx.run.write_config(ctx.config.to_json())
    return trainer


def load_trainer(run_dir: str | Path, *, device: str = "cpu", registry: Registry | None = None,
                 checkpoint: str | None = None) -> Trainer:
    """Rebuild a finished (or running) run's trainer from its directory, weights loaded.

    Used by export, sample and eval: the run's config.json says what to build.
    """
    default_registry, host = _plugins()
    registry = registry or default_registry
    config = RunConfig.from_json(RunDir(run_dir).read_config(), registry)
    config = dataclasses.replace(config, settings=dataclasses.replace(config.settings, out=str(run_dir)))
    ctx = TrainContext.create(config, registry=registry, host=host, quiet=True, device=device)
    ctx.run.writer = False
    trainer = make_trainer(ctx)
    seed_everything(config.settings.seed)
    trainer.inference = True
    trainer.setup()
    if not trainer.restore(checkpoint):
        raise CheckpointError(f"run {str(run_dir)!r} has no checkpoint yet",
                              hint="wait for the first checkpoint or train longer")
    return trainer
