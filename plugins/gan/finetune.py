"""Fine-tuning: start a run from another run's networks (``--init-from``) and freeze D's first blocks.

A GAN trained on a few hundred images from scratch spends most of its budget learning edges and
colours that any larger dataset teaches too. Starting from a model trained on more data (the
4,009 emoji, say) and training on the small folder reaches a better generator sooner; freezing
the discriminator's lowest blocks (FreezeD, Mo et al. 2020) keeps its general low-level
features while the upper blocks adapt, which also slows D's memorizing of the small set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from artengine import checkpoint as ckpt
from artengine.errors import CheckpointError, ConfigError
from artengine.rundir import RunDir

from .config import FINETUNE_R1_GAMMA, GanTrainerConfig

#: run settings that must agree for the weights to fit (besides the network sections)
SHAPE_SETTINGS = ("image_size", "channels")
#: trainer settings that change the networks' shapes
SHAPE_TRAINER_SETTINGS = ("pack",)


@dataclass(frozen=True)
class Parent:
    run_dir: Path
    checkpoint: str
    config: dict[str, Any]


def parse_init_from(value: str) -> Parent:
    """``RUN_DIR`` or ``RUN_DIR:step-N`` -> the parent run and the checkpoint to start from."""
    path, checkpoint = value, None
    match = re.fullmatch(r"(.+):(step-\d+)", value)
    if match:
        path, checkpoint = match.group(1), match.group(2)
    run = RunDir(Path(path).expanduser())
    config = run.read_config()  # a clear error when it is not a run directory
    name = checkpoint or ckpt.latest_checkpoint(run.checkpoints_dir)
    if name is None or not (run.checkpoints_dir / f"{name}.safetensors").is_file():
        raise CheckpointError(f"--init-from {value!r}: no checkpoint {name or ''} in {str(run.checkpoints_dir)!r}",
                              hint="train the parent run first, or name one of its checkpoints (RUN_DIR:step-N)")
    return Parent(run.path, name, config)


def _sections(config: dict[str, Any]) -> dict[str, Any]:
    out = {f"{section}.{k}": v for section in ("generator", "discriminator")
           for k, v in (config.get(section) or {}).items()}
    out.update({k: config.get(k) for k in SHAPE_SETTINGS})
    trainer = config.get("trainer") or {}
    out.update({f"trainer.{k}": trainer.get(k) for k in SHAPE_TRAINER_SETTINGS})
    return out


def architecture_differences(parent: dict[str, Any], child: dict[str, Any]) -> list[str]:
    """``"key: parent -> this run"`` for every setting that changes the networks' shapes."""
    a, b = _sections(parent), _sections(child)
    diffs = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            diffs.append(f"{key}: {a.get(key)!r} -> {b.get(key)!r}")
    return diffs


@dataclass(frozen=True)
class ParentState:
    """What a fine-tuned run takes from its parent's checkpoint besides the weights."""

    step: int
    #: the augmentation probability the parent ended with (None: it did not augment). Its D learned to
    #: score images augmented that often; a child starting from p = 0 shows it clean images at once and
    #: it overfits the small folder before ADA's p can climb back
    augment_p: float | None


def load_parent_weights(parent: Parent, child_config: dict[str, Any],
                        modules: dict[str, nn.Module]) -> ParentState:
    """Copy the parent's tensors into ``modules`` ({"G": ..., "D": ..., "G_ema": ...}); one clear
    error naming the differing settings when the architectures differ."""
    diffs = architecture_differences(parent.config, child_config)
    if diffs:
        raise ConfigError(f"--init-from {str(parent.run_dir)!r}: its networks differ from this run's in "
                          f"{len(diffs)} setting(s): " + "; ".join(diffs),
                          hint="use the parent's settings (e.g. the same --image-size and --set generator.*), "
                               "or train from scratch")
    tensors, meta = ckpt.load_checkpoint(parent.run_dir / "checkpoints", parent.checkpoint)
    for prefix, module in modules.items():
        source = prefix if any(k.startswith(f"{prefix}.") for k in tensors) else "G"  # no EMA: start it from G
        try:
            ckpt.load_module(source, module, tensors)
        except (RuntimeError, KeyError) as exc:
            raise ConfigError(f"--init-from {str(parent.run_dir)!r}: its {source} weights do not fit this run's "
                              f"{prefix}: {str(exc).splitlines()[0]}",
                              hint="both runs must use the same generator and discriminator") from None
    augment = (meta.get("trainer") or {}).get("augment") or {}
    return ParentState(int(meta["step"]), float(augment["p"]) if "p" in augment else None)


def resolve_r1_gamma(cfg: GanTrainerConfig) -> float:
    """``trainer.r1_gamma`` as the step applies it: ``-1`` (auto) is ``FINETUNE_R1_GAMMA`` for a run that
    starts from a parent (``init_from``; a resumed one too, so resuming changes nothing) and 0 otherwise."""
    if cfg.r1_gamma >= 0:
        return cfg.r1_gamma
    return FINETUNE_R1_GAMMA if cfg.init_from else 0.0


def learning_rates(cfg: GanTrainerConfig) -> tuple[float, float]:
    """(lr_g, lr_d) as the optimizers use them: ``finetune_lr_scale`` times the configured rates for a run
    that starts from a parent (a resumed one too, so resuming changes nothing), the rates as they are
    otherwise."""
    scale = cfg.finetune_lr_scale if cfg.init_from else 1.0
    return cfg.lr_g * scale, cfg.lr_d * scale


def discriminator_blocks(D: nn.Module) -> list[list[nn.Parameter]]:
    """D's blocks from the input side: its ``blocks`` attribute where it has one, else each
    convolution or linear layer with the normalization layers that follow it."""
    blocks = getattr(D, "blocks", None)
    if isinstance(blocks, (nn.ModuleList, nn.Sequential)):
        return [list(b.parameters()) for b in blocks if any(True for _ in b.parameters())]
    out: list[list[nn.Parameter]] = []
    for module in D.modules():
        own = list(module.parameters(recurse=False))
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            out.append(own)
        elif own and out:
            # a normalization layer (or spectral norm's parametrized weight) belongs to the layer before it
            out[-1].extend(own)
        elif own:
            out.append(own)
    return out


def freeze_blocks(D: nn.Module, k: int) -> list[nn.Parameter]:
    """Stop the first ``k`` blocks of D from training; returns their parameters. Their batch-norm layers
    still normalize with each batch's statistics (D trains in train mode) but no longer update their
    running averages, so a frozen block's whole state stays the parent's."""
    blocks = discriminator_blocks(D)
    if k > len(blocks) - 1:
        raise ConfigError(f"trainer.freeze_d={k}, but this discriminator has {len(blocks)} blocks and at least "
                          "the last one must train", hint=f"choose freeze_d between 0 and {len(blocks) - 1}")
    frozen = [p for block in blocks[:k] for p in block]
    for p in frozen:
        p.requires_grad_(False)
    ids = {id(p) for p in frozen}
    for module in D.modules():  # a frozen block's batch norm keeps the parent's running statistics too
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and any(id(p) in ids for p in module.parameters()):
            module.momentum = 0.0
    return frozen
