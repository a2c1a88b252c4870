"""Export a training run: rebuild its trainer, take its network, hand it to a registered exporter."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import ExportError
from .metadata import build_metadata


def trainer_model(trainer: Any, *, ema: bool = True) -> tuple[Any, dict[str, Any]]:
    """``trainer.export_model()``; ``ema=False`` asks for the raw generator where the trainer offers it."""
    if ema:
        return trainer.export_model()
    if not getattr(trainer, "exports_raw", False):
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


def part_path(out: str | Path, role: str) -> Path:
    """Where the part ``role`` of the model ``out`` goes: ``model.onnx`` -> ``model.mapping.onnx``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.{role}{out.suffix}")


def trainer_parts(trainer: Any, *, ema: bool = True) -> dict[str, tuple[Any, dict[str, Any]]]:
    """``trainer.export_parts(ema=...)``: the networks a trainer offers as separate models beside its
    main one (a style-based generator: ``mapping`` and ``synthesis``), by role."""
    offer = getattr(trainer, "export_parts", None)
    if offer is None:
        raise ExportError(f"trainer {type(trainer).__name__} exports one model, no parts",
                          hint="export without --parts")
    return offer(ema=ema)


def export_run(run_dir: str | Path, out: str | Path, *, exporter: str = "onnx", ema: bool = True,
               options: dict[str, Any] | None = None, checkpoint: str | None = None, registry: Any = None,
               parts: bool = False):
    """Export the run in ``run_dir`` to ``out``; returns the exporter's report.

    ``parts``: also export the trainer's parts (:func:`trainer_parts`) beside it, named by
    :func:`part_path` and listed in the main model's ``artengine.parts`` metadata. Every file is
    written to a scratch folder first and moved into place only when all of them passed."""
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
    common = {"exporter": exporter, "options": options, "config": config, "config_file": run.config_path,
              "registry": registry}
    if not parts:
        return export_module(module, meta, out, extra=extra, **common)
    offered = trainer_parts(trainer, ema=ema)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        names = {role: part_path(out, role).name for role in offered}
        for role, (part, part_meta) in offered.items():
            export_module(part, part_meta, scratch / names[role], extra={**extra, "part_of": out.name}, **common)
        report = export_module(module, meta, scratch / out.name, extra={**extra, "parts": json.dumps(names)},
                               **common)
        for name in [*names.values(), out.name]:
            os.replace(scratch / name, out.parent / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report.path = out
    return report
