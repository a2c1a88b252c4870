"""The trainer base class: the loop every trainer shares.

A subclass builds its networks in :meth:`Trainer.setup` and does one
optimization step in :meth:`Trainer.train_step`; the base class owns the
budget (steps, epochs or minutes), the training events that the built-in
services (progress bar, metrics, samples, checkpoints) implement, exact resume,
and the divergence guard. Readable top to bottom, in the spirit of
pytorch/examples.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import checkpoint as ckpt
from ..errors import CheckpointError, DivergenceError
from ..registry import Registry
from ..runconfig import SECTION_KIND
from ..rundir import RunDir
from . import distributed
from .precision import pick_device, resolve_precision
from .stream import BatchStream


@dataclass
class TrainContext:
    """Everything a trainer needs from the engine, and nothing global."""

    config: dict[str, Any]
    registry: Registry
    host: Any
    run: RunDir
    device: torch.device
    precision: str
    rank: int = 0
    world_size: int = 1
    quiet: bool = False
    resume: bool = False
    _dataset: Any = field(default=None, repr=False)

    @classmethod
    def create(cls, config: dict[str, Any], *, registry: Registry, host: Any, quiet: bool = False,
               resume: bool = False, device: str | None = None) -> TrainContext:
        dev = pick_device(device or config.get("device", "auto"))
        if dev.type == "cuda" and distributed.world_size() > 1:
            dev = torch.device("cuda", distributed.local_rank())
            torch.cuda.set_device(dev)
        distributed.init_if_launched(dev.type)
        return cls(config=config, registry=registry, host=host,
                   run=RunDir(config["out"], writer=distributed.is_main()), device=dev,
                   precision=resolve_precision(config.get("precision", "fp32"), dev),
                   rank=distributed.rank(), world_size=distributed.world_size(), quiet=quiet, resume=resume)

    def section(self, name: str) -> tuple[str, dict[str, Any]]:
        values = dict(self.config[name])
        return values.pop("name"), values

    def build(self, section: str, **kwargs: Any) -> Any:
        """Build the component configured in ``section`` (generator, discriminator, loss, ...)."""
        name, values = self.section(section)
        return self.registry.get(SECTION_KIND[section], name).build(values, **kwargs)

    @property
    def channels(self) -> int:
        """Image channels: the config's (config.json always has them resolved), else the dataset's."""
        return int(self.config.get("channels") or self.dataset.channels)

    @property
    def dataset(self):
        """The training dataset, loaded on first use (export and sampling never need it)."""
        if self._dataset is None:
            self._dataset = self.build("dataset", image_size=self.config["image_size"],
                                       channels=self.config.get("channels", 0), seed=self.config["seed"])
        return self._dataset


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer:
    """Base class of every trainer. Subclasses set ``Config`` and implement the hooks below."""

    def __init__(self, cfg: Any, ctx: TrainContext):
        self.cfg = cfg
        self.ctx = ctx
        self.config = ctx.config
        self.device = ctx.device
        self.precision = ctx.precision
        self.run = ctx.run
        self.step = 0
        self.elapsed = 0.0  # seconds of training, summed over resumes
        self.stream: BatchStream | None = None
        self.generators: dict[str, torch.Generator] = {}  # checkpointed RNGs
        self.stop_reason: str | None = None
        self.inference = False  # set by load_trainer: build networks only, no data stream
        self._broken_listeners: set[str] = set()

    # -- what a subclass implements ----------------------------------------
    def setup(self) -> None:
        """Build networks, optimizers and (unless ``self.inference``) the batch stream,
        deterministically from the seed."""
        raise TypeError(f"{type(self).__name__} must implement setup()")

    def train_step(self) -> dict[str, float]:
        """One optimization step; returns its metrics (losses first)."""
        raise TypeError(f"{type(self).__name__} must implement train_step()")

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor needed to resume exactly (weights, optimizer and EMA states)."""
        return {}

    def state_meta(self) -> dict[str, Any]:
        """Every non-tensor value needed to resume exactly."""
        return {}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Restore what :meth:`state_tensors` and :meth:`state_meta` saved."""

    def save_samples(self) -> Path | None:
        """Write a sample grid for the current step into ``samples/``; return its path."""
        return None

    def export_model(self) -> tuple[torch.nn.Module, dict[str, Any]]:
        """The network to export and its contract metadata (see artengine.export)."""
        raise TypeError(f"{type(self).__name__} has nothing to export")

    # -- helpers for subclasses --------------------------------------------
    def make_stream(self, batch_size: int | None = None) -> BatchStream:
        return BatchStream(self.ctx.dataset, batch_size or self.config["batch_size"],
                           seed=self.config["seed"], device=self.device, rank=self.ctx.rank,
                           world_size=self.ctx.world_size,
                           channels_last=bool(self.config.get("channels_last")))

    def generator_rng(self, name: str, offset: int = 0) -> torch.Generator:
        """A named RNG on the training device, seeded from the run seed and checkpointed."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(self.config["seed"] * 7919 + offset)
        self.generators[name] = gen
        return gen

    @property
    def epoch(self) -> int:
        return self.stream.epoch if self.stream else 0

    # -- checkpoints ---------------------------------------------------------
    def save_checkpoint(self) -> Path | None:
        if not self.run.writer:
            return None
        tensors = dict(self.state_tensors())
        rng_tensors, rng_meta = ckpt.rng_state(self.generators)
        tensors.update(rng_tensors)
        meta = {
            "epoch": self.epoch,
            "elapsed": self.elapsed,
            "stream": self.stream.state() if self.stream else None,
            "rng": rng_meta,
            "trainer": self.state_meta(),
        }
        return ckpt.save_checkpoint(self.run.checkpoints_dir, self.step, tensors, meta,
                                    keep=int(self.config.get("keep_checkpoints", 2)))

    def restore(self, name: str | None = None) -> bool:
        """Load the latest (or named) checkpoint; False when the run has none."""
        if ckpt.latest_checkpoint(self.run.checkpoints_dir) is None and name is None:
            return False
        tensors, meta = ckpt.load_checkpoint(self.run.checkpoints_dir, name, device=self.device)
        self.step = int(meta["step"])
        self.elapsed = float(meta.get("elapsed", 0.0))
        if self.stream is not None and meta.get("stream"):
            self.stream.load_state(meta["stream"])
        self.load_state(tensors, meta.get("trainer", {}))
        ckpt.set_rng_state({k: v.cpu() for k, v in tensors.items() if k.startswith("rng.")}, meta["rng"],
                           self.generators)
        return True

    # -- the loop ------------------------------------------------------------
    def _emit(self, event: str, **kwargs: Any) -> None:
        """Send a training event: built-in listeners' errors propagate, a third-party
        listener that fails is reported once and skipped from then on."""
        host = self.ctx.host
        for impl in getattr(host.hook, event).get_hookimpls():  # built-ins first
            if impl.plugin_name in self._broken_listeners:
                continue
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:
                info = host.infos.get(impl.plugin_name)
                if info is not None and info.builtin:
                    raise
                self._broken_listeners.add(impl.plugin_name)
                host.report_error(impl.plugin_name, exc)

    def progress(self) -> float | None:
        """How much of the training budget is spent, 0..1 (the furthest of steps, epochs and
        minutes); None when the run has no budget. Schedules (e.g. learning-rate decay) use it."""
        c = self.config
        parts = []
        if c.get("steps"):
            parts.append(self.step / c["steps"])
        if c.get("epochs") and self.stream is not None:
            done = self.stream.epoch + self.stream.position / max(1, len(self.stream) * self.stream.batch_size)
            parts.append(done / c["epochs"])
        if c.get("minutes"):
            parts.append(self.elapsed / (60.0 * c["minutes"]))
        return min(1.0, max(parts)) if parts else None

    def budget_done(self) -> bool:
        done = self.progress()
        return done is not None and done >= 1.0

    def fit(self) -> str:
        """Train until the budget is spent; returns why it stopped."""
        seed_everything(self.config["seed"])
        self.run.create()
        self.setup()
        if self.ctx.resume:
            if not self.restore():
                raise CheckpointError(f"--resume: no checkpoint in {str(self.run.checkpoints_dir)!r}",
                                      hint="start without --resume")
            self.run.truncate_metrics(self.step)
        self._emit("on_train_start", trainer=self)
        reason = "error"
        last_epoch = self.epoch
        try:
            while not self.budget_done():
                t0 = time.perf_counter()
                metrics = self.train_step()
                self.step += 1
                dt = time.perf_counter() - t0
                self.elapsed += dt
                bad = [k for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)]
                if bad:
                    raise DivergenceError(
                        f"training diverged at step {self.step}: {', '.join(f'{k}={metrics[k]}' for k in bad)}",
                        hint="the last good checkpoint is kept in "
                             f"{self.run.checkpoints_dir}; lower the learning rates "
                             "(e.g. --set trainer.lr_d=1e-4) or try --set loss=hinge, then --resume",
                    )
                batch = self.stream.batch_size * self.ctx.world_size if self.stream else 0
                metrics.setdefault("images_per_s", batch / dt if dt > 0 else 0.0)
                self._emit("on_step_end", trainer=self, step=self.step, metrics=metrics)
                if self.epoch != last_epoch:
                    last_epoch = self.epoch
                    self._emit("on_epoch_end", trainer=self, epoch=last_epoch)
            reason = "done"
        except KeyboardInterrupt:
            reason = "interrupted"
        except DivergenceError:
            reason = "diverged"
            raise
        finally:
            self.stop_reason = reason
            self._emit("on_train_end", trainer=self, reason=reason)
        return reason


def load_trainer(run_dir: str | Path, *, device: str = "cpu", registry: Registry | None = None,
                 checkpoint: str | None = None) -> Trainer:
    """Rebuild a finished (or running) run's trainer from its directory, weights loaded.

    Used by export, sample and eval: the run's config.json says what to build.
    """
    from ..pluginhost import get_host, get_registry

    registry = registry or get_registry()
    config = RunDir(run_dir).read_config()
    config = {**config, "out": str(run_dir)}
    ctx = TrainContext.create(config, registry=registry, host=get_host(), quiet=True, device=device)
    ctx.run.writer = False
    name, values = ctx.section("trainer")
    trainer = registry.get("trainers", name).build(values, ctx=ctx)
    seed_everything(config["seed"])
    trainer.inference = True
    trainer.setup()
    if not trainer.restore(checkpoint):
        raise CheckpointError(f"run {str(run_dir)!r} has no checkpoint yet",
                              hint="wait for the first checkpoint or train longer")
    return trainer
