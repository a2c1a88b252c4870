"""Resolve a training run's full config from a recipe, a TOML file, CLI options and --set.

Precedence, lowest first: component defaults < recipe settings < config file <
CLI options < ``--set``. The result is a frozen, typed :class:`RunConfig`: the
run settings plus one typed section per component. ``RunConfig.to_json()`` is
the plain dict written to ``config.json`` and ``RunConfig.from_json`` reads it
back (old runs' files included), so a run can always be rebuilt from its
directory alone. This module must not import torch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import config as cfg
from .config import option
from .errors import ConfigError
from .recipe import Recipe
from .registry import Registry

SECTIONS = ("trainer", "generator", "discriminator", "loss", "dataset")
SECTION_KIND = {
    "trainer": "trainers",
    "generator": "generators",
    "discriminator": "discriminators",
    "loss": "losses",
    "dataset": "datasets",
}


@dataclass(frozen=True)
class RunSettings:
    """Settings every training run has, whatever the trainer."""

    recipe: str = option("dcgan", help="recipe: a trainer plus default components")
    data: str = option("digits", help="dataset name, folder path, or torchvision:NAME")
    out: str = option("runs/latest", help="run directory")
    image_size: int = option(32, min=4, max=1024, help="square image size in pixels")
    channels: int = option(0, choices=(0, 1, 3, 4), help="1, 3 or 4 (RGBA); 0 keeps the dataset's own "
                           "(a folder with real transparency is 4)")
    batch_size: int = option(64, min=1, max=65536, help="images per step")
    steps: int = option(0, min=0, help="optimization steps (0: use epochs or minutes)")
    epochs: float = option(0.0, min=0, help="passes over the data (0: use steps or minutes)")
    minutes: float = option(0.0, min=0, help="wall-clock budget (0: use steps or epochs)")
    seed: int = option(0, min=0, help="seed for weights, data order and latents")
    device: str = option("auto", choices=("auto", "cpu", "cuda"), help="where to train")
    precision: str = option("auto", choices=("fp32", "bf16", "fp16", "auto"),
                            help="autocast precision; auto: bf16 where the hardware runs it natively "
                                 "(AMX/AVX512-BF16 CPUs, CUDA), fp32 elsewhere, channels-last either way")
    channels_last: bool = option(False, help="use channels-last memory format (faster with bf16, and with fp32 "
                                             "on AVX2 CPUs; always on with precision auto)")
    matmul_convs: bool = option(True, help="on a CPU (fp32, or bf16 where it is native), run GAN networks' widest "
                                "4x4 convolutions as one matmul each (a 64 px DCGAN step 1.27x faster in bf16 on "
                                "AMX, 1.12x in fp32); false: oneDNN's convolution everywhere")
    compile: bool = option(False, help="torch.compile the training step's networks (eager again, with a "
                                       "message, where the compiler fails); off by default: not yet measured "
                                       "faster (bench/gpu.sh, bench/bench_dcgan_throughput.py --compile)")
    sample_every: int = option(500, min=0, help="write a sample grid every N steps (0: only at the end)")
    checkpoint_every: int = option(500, min=0, help="checkpoint every N steps (0: only at the end)")
    eval_every: int = option(-1, min=-1, help="measure KID, precision/recall, near-copies (and mode coverage for "
                             "digits) every N steps into metrics.jsonl; -1 (auto): every 1,000 steps for datasets "
                             "under 1,000 images; 0: off (`artengine eval` measures after training)")
    eval_samples: int = option(5000, min=100, help="generated images per evaluation during training")
    eval_feature_samples: int = option(500, min=0, help="of those, how many are compared with the training "
                                       "images in VGG16 features (KID, precision/recall, near-copies; 0: off)")
    log_every: int = option(10, min=1, help="append to metrics.jsonl every N steps")
    log: str = option("none", choices=("none", "tensorboard"),
                      help="also log scalars and sample grids to RUN/tensorboard (needs artengine[tensorboard])")
    keep_checkpoints: int = option(2, min=1, help="how many recent checkpoints to keep")
    progress_seconds: float = option(30.0, min=0.0, help="seconds between plain progress lines when stderr "
                                     "is not a terminal (a log file, CI); 0: a line every step")

    def budget_given(self) -> bool:
        return bool(self.steps or self.epochs or self.minutes)


TOP_LEVEL = {f for f in RunSettings.__dataclass_fields__}
#: what resolving adds beyond the settings and sections (config.json keys)
FACTS = ("plugins", "dataset_info", "versions", "resolved_device", "resolved_precision")


@dataclass(frozen=True)
class Section:
    """One component of a run: its registered name and its typed config (None: it has no settings)."""

    name: str
    options: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, **cfg.to_dict(self.options)}


@dataclass(frozen=True)
class RunConfig:
    """A resolved run: typed settings, typed component sections and the facts resolving found
    (device, precision, library versions, the dataset's description). Frozen: a trainer reads it,
    never edits it; :func:`dataclasses.replace` makes a changed copy."""

    settings: RunSettings
    sections: Mapping[str, Section]
    plugins: tuple[str, ...] = ()
    dataset_info: Mapping[str, Any] | None = None
    versions: Mapping[str, Any] | None = None
    resolved_device: str | None = None
    resolved_precision: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys of newer/other writers, kept as they are

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", MappingProxyType(dict(self.sections)))

    def section(self, name: str) -> Section:
        if name not in self.sections:
            raise ConfigError(f"this run has no [{name}] section", hint=f"set one with --set {name}=NAME")
        return self.sections[name]

    @property
    def trainer(self) -> Section:
        return self.section("trainer")

    @property
    def resolved(self) -> bool:
        """True once the trainer build has filled in device, precision, versions and channels."""
        return self.resolved_precision is not None

    def to_json(self) -> dict[str, Any]:
        """The plain JSON dict of ``config.json`` (settings at the top, one object per section)."""
        out: dict[str, Any] = {**dict(self.extra), **cfg.to_dict(self.settings)}
        for name in SECTIONS:
            if name in self.sections:
                out[name] = self.sections[name].to_json()
        out["plugins"] = list(self.plugins)
        for key in FACTS[1:]:
            value = getattr(self, key)
            if value is not None:
                out[key] = dict(value) if isinstance(value, Mapping) else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], registry: Registry) -> RunConfig:
        """Type a ``config.json`` dict again, upgrading settings that have moved since it was written."""
        data = upgrade_saved(data, registry)
        top = {k: v for k, v in data.items() if k in TOP_LEVEL}
        settings = cfg.build(RunSettings, top, where="config.json: ")
        sections = {}
        for name in SECTIONS:
            if isinstance(data.get(name), Mapping):
                values = dict(data[name])
                comp = registry.get(SECTION_KIND[name], values.pop("name"))
                sections[name] = Section(comp.name, comp.make_config(values))
        known = TOP_LEVEL | set(SECTIONS) | set(FACTS)
        return cls(settings, sections, plugins=tuple(data.get("plugins") or ()),
                   dataset_info=data.get("dataset_info"), versions=data.get("versions"),
                   resolved_device=data.get("resolved_device"), resolved_precision=data.get("resolved_precision"),
                   extra={k: v for k, v in data.items() if k not in known})


def upgrade_saved(data: Mapping[str, Any], registry: Registry) -> dict[str, Any]:
    """A saved config with the settings its components have since renamed or moved applied.

    A component's config class lists them in a ``legacy`` class attribute: ``{"old": ("new", ...)}``
    renames within the section; ``{"old": ("section.key",)}`` moves the value to another section,
    where it is added (the two settings used to add up).
    """
    data = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()}
    for name in SECTIONS:
        values = data.get(name)
        if not isinstance(values, dict) or not registry.has(SECTION_KIND[name], values.get("name", "")):
            continue
        legacy = getattr(registry.get(SECTION_KIND[name], values["name"]).config, "legacy", None) or {}
        for old, targets in legacy.items():
            if old not in values:
                continue
            value = values.pop(old)
            for target in targets:
                if "." in target:
                    section, key = target.split(".", 1)
                    if isinstance(data.get(section), dict):
                        data[section][key] = data[section].get(key, 0) + value
                else:
                    values.setdefault(target, value)
    return data


def resolve_data(registry: Registry, data: str) -> tuple[str, dict[str, Any]]:
    """Map the ``--data`` string to (dataset component, its config values)."""
    if registry.has("datasets", data):
        return data, {}
    if data.startswith("torchvision:"):
        return "torchvision", {"dataset": data.split(":", 1)[1]}  # not "name": that key is the component
    looks_like_path = any(ch in data for ch in "/\\.~") or Path(data).exists()
    if looks_like_path:
        return "folder", {"path": str(Path(data).expanduser().resolve())}  # absolute: runs work from any folder
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
    field name of exactly one section (one that several sections have is an error naming them)."""
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
    if len(owners) > 1:
        raise ConfigError(
            f"--set {key}={value}: {key!r} is a setting of several sections: "
            f"{', '.join(f'{s}.{key}' for s in owners)}",
            hint=f"say which one, e.g. --set {owners[0]}.{key}={value}",
        )
    sections[owners[0]][key] = value


def recipe_of(registry: Registry, name: str) -> Recipe:
    """The registered :class:`Recipe` (one registered the older keyword way is converted)."""
    comp = registry.get("recipes", name)
    if isinstance(comp.extra.get("recipe"), Recipe):
        return comp.extra["recipe"]
    fields = {f.name for f in dataclasses.fields(Recipe)} - {"name", "description"}
    return Recipe(name=comp.name, description=comp.description,
                  **{k: v for k, v in comp.extra.items() if k in fields})


def resolve(recipe_name: str, *, registry: Registry, file_values: dict[str, Any] | None = None,
            cli_values: dict[str, Any] | None = None, set_values: dict[str, str] | None = None) -> RunConfig:
    """The run config of ``recipe_name`` with the file, CLI and ``--set`` layers applied, every value
    typed and range-checked. Device, precision and library versions are filled in when the trainer
    is built (:func:`artengine.training.build.build_trainer`), which needs torch."""
    recipe = recipe_of(registry, recipe_name)
    top: dict[str, Any] = {"recipe": recipe_name}
    sections: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        if recipe.component(section):
            sections[section] = {"name": recipe.component(section)}
    # recipe settings, then file, then CLI, then --set
    layers = [recipe.settings, file_values or {}]
    for layer in layers:
        for key, value in layer.items():
            if key in SECTIONS and isinstance(value, Mapping):
                if "name" in value:
                    _set_section_name(sections, key, value["name"])
                sections.setdefault(key, {}).update(value)
            elif key in SECTIONS:
                if not isinstance(value, str):
                    raise ConfigError(f"config {key} = {value!r}: a section is a table [{key}] or a component "
                                      f"name such as {key} = \"NAME\"")
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

    typed: dict[str, Section] = {}
    for section in SECTIONS:
        if section not in sections:
            continue
        values = dict(sections[section])
        name = values.pop("name", None)
        if not name:
            raise ConfigError(f"[{section}] needs a name (e.g. --set {section}=NAME)")
        comp = registry.get(SECTION_KIND[section], name)
        typed[section] = Section(name, comp.make_config(values))
    plugins = sorted({registry.get(SECTION_KIND[s], typed[s].name).plugin for s in typed})
    return RunConfig(settings, typed, plugins=tuple(plugins))
