"""Export a training run: rebuild its trainer, take its network, hand it to a registered exporter."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .errors import ExportError
from .metadata import build_metadata


def trainer_model(trainer: Any, *, ema: bool = True) -> tuple[Any, dict[str, Any]]:
    """``trainer.export_model()``; ``ema=False`` asks for the raw generator where the trainer offers it."""
    if ema:
        return trainer.export_model()
    params = inspect.signature(trainer.export_model).parameters
    if "ema" not in params:
        raise ExportError(f"trainer {type(trainer).__name__} keeps no separate EMA generator",
                          hint="export without --no-ema")
    return trainer.export_model(ema=False)


def export_module(module: Any, meta: dict[str, Any], out: str | Path, *, exporter: str = "onnx",
                  options: dict[str, Any] | None = None, config: dict[str, Any] | None = None,
                  config_file: Path | None = None, extra: dict[str, Any] | None = None, registry: Any = None):
    """Export an in-memory network with the registered exporter ``exporter``."""
    from ..pluginhost import get_registry

    registry = registry or get_registry()
    comp = registry.get("exporters", exporter)
    instance = comp.build(options or {})
    props = build_metadata(meta, config=config, config_file=config_file, extra=extra)
    return instance.export(module, meta, out, metadata=props)


def export_run(run_dir: str | Path, out: str | Path, *, exporter: str = "onnx", ema: bool = True,
               options: dict[str, Any] | None = None, checkpoint: str | None = None, registry: Any = None):
    """Export the run in ``run_dir`` to ``out``; returns the exporter's report."""
    from ..rundir import RunDir
    from ..training.build import load_trainer

    run = RunDir(run_dir)
    config = run.read_config()
    trainer = load_trainer(run_dir, registry=registry, checkpoint=checkpoint)
    if trainer.model_kind is None:
        raise ExportError(f"run {str(run_dir)!r} cannot be exported: its trainer "
                          f"{type(trainer).__name__} makes no model to export")
    module, meta = trainer_model(trainer, ema=ema)
    extra = {"ema": str(bool(ema)).lower(), "run": Path(run_dir).name}
    return export_module(module, meta, out, exporter=exporter, options=options, config=config,
                         config_file=run.config_path, extra=extra, registry=registry)
