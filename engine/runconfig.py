"""Resolve a training run's full config from a recipe, a TOML file, CLI options and --set.

Precedence, lowest first: component defaults < recipe settings < config file <
CLI options < ``--set``. The result is a plain JSON-ready dict written to
``config.json``, so a run can always be rebuilt from its directory alone.
This module must not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config as cfg
from .config import option
from .errors import ConfigError
from .registry import Registry

SECTIONS = ("trainer", "generator", "discriminator", "loss", "dataset")
SECTION_KIND = {
    "trainer": "trainers",
    "generator": "generators",
    "discriminator": "discriminators",
    "loss": "losses",
    "dataset": "datasets",
}


@dataclass
class RunSettings:
    """Settings every training run has, whatever the trainer."""

    recipe: str = option("dcgan", help="recipe: a trainer plus default components")
    data: str = option("digits", help="dataset name, folder path, or torchvision:NAME")
    out: str = option("runs/latest", help="run directory")
    image_size: int = option(32, min=4, max=1024, help="square image size in pixels")
    channels: int = option(0, choices=(0, 1, 3), help="1 or 3; 0 keeps the dataset's own")
    batch_size: int = option(64, min=1, max=65536, help="images per step")
    steps: int = option(0, min=0, help="optimization steps (0: use epochs or minutes)")
    epochs: float = option(0.0, min=0, help="passes over the data (0: use steps or minutes)")
    minutes: float = option(0.0, min=0, help="wall-clock budget (0: use steps or epochs)")
    seed: int = option(0, min=0, help="seed for weights, data order and latents")
    device: str = option("auto", choices=("auto", "cpu", "cuda"), help="where to train")
    precision: str = option("fp32", choices=("fp32", "bf16", "fp16", "auto"),
                            help="autocast precision; auto picks bf16 where the hardware has it")
    channels_last: bool = option(False, help="use channels-last memory format (faster with bf16)")
    sample_every: int = option(500, min=0, help="write a sample grid every N steps (0: only at the end)")
    checkpoint_every: int = option(500, min=0, help="checkpoint every N steps (0: only at the end)")
    eval_every: int = option(0, min=0, help="measure mode coverage and diversity every N steps into "
                             "metrics.jsonl (0: off; `artengine eval` measures after training)")
    eval_samples: int = option(5000, min=100, help="generated images per evaluation during training")
    log_every: int = option(10, min=1, help="append to metrics.jsonl every N steps")
    log: str = option("none", choices=("none", "tensorboard"),
                      help="also log scalars and sample grids to RUN/tensorboard (needs artengine[tensorboard])")
    keep_checkpoints: int = option(2, min=1, help="how many recent checkpoints to keep")


TOP_LEVEL = {f for f in RunSettings.__dataclass_fields__}


def resolve_data(registry: Registry, data: str) -> tuple[str, dict[str, Any]]:
    """Map the ``--data`` string to (dataset component, its config values)."""
    if registry.has("datasets", data):
        return data, {}
    if data.startswith("torchvision:"):
        return "torchvision", {"dataset": data.split(":", 1)[1]}  # not "name": that key is the component
    looks_like_path = any(ch in data for ch in "/\\.~") or Path(data).exists()
    if looks_like_path:
        return "folder", {"path": str(Path(data).expanduser())}
    raise ConfigError(
        f"--data {data!r} is neither a dataset nor a folder",
        hint=f"datasets: {', '.join(registry.names('datasets'))}; or pass a folder of images",
    )


def _set_section_name(sections: dict[str, dict[str, Any]], section: str, name: str) -> None:
    """Choose the component of a section; settings meant for a different component are dropped
    (the recipe's ``generator.width`` means nothing to another generator)."""
    current = sections.get(section, {})
    if current.get("name") != name:
        sections[section] = {"name": name}


def _route_set(key: str, value: str, sections: dict[str, dict[str, Any]], top: dict[str, Any],
               registry: Registry) -> None:
    """Place one ``--set`` item: a top-level setting, ``section=name``, ``section.field`` or a bare
    field name of exactly one section (the trainer's first)."""
    if key in TOP_LEVEL:
        top[key] = value
        return
    if key in SECTIONS:
        _set_section_name(sections, key, value)
        return
    if "." in key:
        section, field = key.split(".", 1)
        if section not in SECTIONS:
            raise cfg.unknown_key_error(section, list(SECTIONS) + sorted(TOP_LEVEL), "--set ")
        sections.setdefault(section, {})[field] = value
        return
    owners = []
    for section in SECTIONS:
        name = sections.get(section, {}).get("name")
        if not name:
            continue
        comp = registry.get(SECTION_KIND[section], name)
        if comp.config is not None and key in comp.config.__dataclass_fields__:
            owners.append(section)
    if not owners:
        raise ConfigError(
            f"--set {key}={value}: no setting called {key!r}",
            hint="`artengine train RECIPE --dry-run` prints every setting; "
                 "use section.field (e.g. trainer.lr_g) or a top-level setting",
        )
    sections[owners[0]][key] = value


def resolve(recipe_name: str, *, registry: Registry, file_values: dict[str, Any] | None = None,
            cli_values: dict[str, Any] | None = None, set_values: dict[str, str] | None = None) -> dict:
    """Return the fully resolved run config (a JSON-ready dict)."""
    recipe = registry.get("recipes", recipe_name)
    extra = recipe.extra
    top: dict[str, Any] = {"recipe": recipe_name}
    sections: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        if extra.get(section):
            sections[section] = {"name": extra[section]}
    # recipe settings, then file, then CLI, then --set
    layers = [extra.get("settings") or {}, file_values or {}]
    for layer in layers:
        for key, value in layer.items():
            if key in SECTIONS and isinstance(value, dict):
                if "name" in value:
                    _set_section_name(sections, key, value["name"])
                sections.setdefault(key, {}).update(value)
            elif key in SECTIONS:
                _set_section_name(sections, key, value)
            elif key in TOP_LEVEL:
                top[key] = value
            else:
                raise cfg.unknown_key_error(key, list(SECTIONS) + sorted(TOP_LEVEL), "config ")
    for key, value in (cli_values or {}).items():
        if value is not None:
            top[key] = value
    set_values = set_values or {}
    for key in sorted(set_values, key=lambda k: k not in SECTIONS):  # component choices first
        _route_set(key, set_values[key], sections, top, registry)
    top["recipe"] = recipe_name

    settings = cfg.build(RunSettings, top, where="")
    dataset_name, data_values = resolve_data(registry, settings.data)
    ds = sections.setdefault("dataset", {})
    if ds.get("name") and ds["name"] != dataset_name and "data" not in top:
        dataset_name = ds["name"]
    ds["name"] = dataset_name
    for key, value in data_values.items():
        ds.setdefault(key, value)

    resolved: dict[str, Any] = cfg.to_dict(settings)
    for section in SECTIONS:
        if section not in sections:
            continue
        values = dict(sections[section])
        name = values.pop("name", None)
        if not name:
            raise ConfigError(f"[{section}] needs a name (e.g. --set {section}=NAME)")
        comp = registry.get(SECTION_KIND[section], name)
        instance = comp.make_config(values)
        resolved[section] = {"name": name, **cfg.to_dict(instance)}
    trainer = registry.get("trainers", resolved["trainer"]["name"])
    resolved["plugins"] = sorted({registry.get(SECTION_KIND[s], resolved[s]["name"]).plugin
                                  for s in SECTIONS if s in resolved} | {trainer.plugin})
    return resolved


def budget_given(resolved: dict[str, Any]) -> bool:
    return bool(resolved.get("steps") or resolved.get("epochs") or resolved.get("minutes"))
