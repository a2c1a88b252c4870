"""Making a trainer from a run config: the one path the CLI, the tests, bench/ and Python users take.

:func:`build_trainer` finishes resolving (device, precision, the dataset's channels and
description, library versions) and writes config.json, so a run built from Python is the
run `artengine train` would start. :func:`load_trainer` rebuilds a run from its directory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

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
    if config.settings.precision == "auto" and ctx.precision != "fp32":
        settings = dataclasses.replace(settings, channels_last=True)  # auto's bf16 comes with channels-last
    return dataclasses.replace(config, settings=settings, dataset_info=dataset.describe(),
                               versions=library_versions(ctx.registry, list(config.plugins)),
                               resolved_device=str(ctx.device), resolved_precision=ctx.precision)


def build_trainer(config: RunConfig, *, resume: bool = False, quiet: bool = True, device: str | None = None,
                  registry: Registry | None = None, host: Any = None, overwrite: bool = False) -> Trainer:
    """A trainer ready for :meth:`Trainer.fit`, with the completed config written to config.json.

    ``overwrite``: clear an earlier run's own files from the folder first (after every check passed)."""
    default_registry, default_host = _plugins()
    registry, host = registry or default_registry, host or default_host
    ctx = TrainContext.create(config, registry=registry, host=host, quiet=quiet, resume=resume, device=device)
    ctx.config = complete(config, ctx)
    ctx.run.lock()  # one writer from here on; nothing was written before this line
    if overwrite:
        ctx.run.clear()
    ctx.run.write_config(ctx.config.to_json())
    return make_trainer(ctx)


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
