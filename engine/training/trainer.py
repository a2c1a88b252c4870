"""The trainer base class: the loop every trainer shares, and its periodic upkeep.

A subclass builds its networks in :meth:`Trainer.setup` and does one
optimization step in :meth:`Trainer.train_step`. :meth:`Trainer.fit` owns
everything around the step, readable in one place: the budget (steps, epochs
or minutes), the divergence guard, metrics.jsonl, the progress display, sample
grids, checkpoints and in-training evaluation at their cadences, the final
checkpoint, exact resume, and the training events for listening plugins.
"""

from __future__ import annotations

import abc
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import checkpoint as ckpt
from .. import interrupts
from ..errors import CheckpointError, DivergenceError
from .context import TrainContext
from .progress import ProgressDisplay
from .stream import BatchStream

#: eval_every = -1 (auto): datasets under this many images are evaluated every AUTO_EVAL_EVERY steps
AUTO_EVAL_BELOW = 1000
AUTO_EVAL_EVERY = 1000


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer(abc.ABC):
    """Base class of every trainer; a plugin registers its subclass with ``register_trainers``."""

    #: what :meth:`export_model` hands out: ``"generator"`` (latents -> images, what eval measures),
    #: ``"image-to-image"``, or None when this trainer has nothing to export
    model_kind: str | None = None
    #: True when the trainer keeps a raw network beside the one it exports by default (a GAN's
    #: generator beside its EMA copy): ``export_model(ema=False)`` hands that out (``export --no-ema``)
    exports_raw: bool = False

    def __init__(self, cfg: Any, ctx: TrainContext):
        self.cfg = cfg  # this trainer's own typed settings (the run config's trainer section)
        self.ctx = ctx
        self.settings = ctx.config.settings  # the run's typed settings (RunSettings)
        self.device = ctx.device
        self.precision = ctx.precision
        self.run = ctx.run
        self.step = 0
        self.elapsed = 0.0  # seconds of training, summed over resumes
        self.stream: BatchStream | None = None
        self.generators: dict[str, torch.Generator] = {}  # checkpointed RNGs
        self.stop_reason: str | None = None
        self.inference = False  # set by load_trainer: build networks only, no data stream
        self.prepared = False  # set by prepare(): seeded, set up and (on resume) restored
        self.stop: interrupts.StopRequest | None = None  # set by fit(): which signal stopped it, if any

    # -- what a subclass implements ----------------------------------------
    @abc.abstractmethod
    def setup(self) -> None:
        """Build networks, optimizers and (unless ``self.inference``) the batch stream,
        deterministically from the seed."""

    @abc.abstractmethod
    def train_step(self) -> dict[str, float]:
        """One optimization step; returns its metrics (losses first)."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor needed to resume exactly (weights, optimizer and EMA states)."""
        return {}

    def state_meta(self) -> dict[str, Any]:
        """Every non-tensor value needed to resume exactly."""
        return {}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Restore what :meth:`state_tensors` and :meth:`state_meta` saved (nothing, by default)."""
        return None

    def save_samples(self) -> Path | None:
        """Write a sample grid for the current step into ``samples/``; return its path."""
        return None

    def export_model(self, ema: bool = True) -> tuple[torch.nn.Module, dict[str, Any]] | None:
        """The network to export and its contract metadata (see artengine.export), or None when
        :attr:`model_kind` is None. ``ema=False`` matters only where :attr:`exports_raw` is true."""
        return None

    # -- helpers for subclasses --------------------------------------------
    def make_stream(self, batch_size: int | None = None) -> BatchStream:
        s = self.settings
        return BatchStream(self.ctx.dataset, batch_size or s.batch_size, seed=s.seed, device=self.device,
                           rank=self.ctx.rank, world_size=self.ctx.world_size, channels_last=s.channels_last)

    def generator_rng(self, name: str, offset: int = 0) -> torch.Generator:
        """A named RNG on the training device, seeded from the run seed and checkpointed."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(self.settings.seed * 7919 + offset)
        self.generators[name] = gen
        return gen

    @property
    def epoch(self) -> int:
        return self.stream.epoch if self.stream else 0

    @property
    def images_seen(self) -> int:
        return self.stream.images_seen if self.stream else 0

    def progress(self) -> float | None:
        """How much of the training budget is spent, 0..1 (the furthest of steps, epochs and
        minutes); None when the run has no budget. Schedules (e.g. learning-rate decay) use it."""
        s = self.settings
        parts = []
        if s.steps:
            parts.append(self.step / s.steps)
        if s.epochs and self.stream is not None:
            done = self.stream.epoch + self.stream.position / max(1, len(self.stream) * self.stream.batch_size)
            parts.append(done / s.epochs)
        if s.minutes:
            parts.append(self.elapsed / (60.0 * s.minutes))
        return min(1.0, max(parts)) if parts else None

    def budget_done(self) -> bool:
        done = self.progress()
        return done is not None and done >= 1.0

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
                                    keep=self.settings.keep_checkpoints)

    def restore(self, name: str | None = None) -> bool:
        """Load the latest (or named) checkpoint; False when the run has none."""
        if ckpt.latest_checkpoint(self.run.checkpoints_dir) is None and name is None:
            return False
        tensors, meta = ckpt.load_checkpoint(self.run.checkpoints_dir, name, device=self.device,
                                             required=ckpt.TRAINER_KEYS)
        self.step = int(meta["step"])
        self.elapsed = float(meta.get("elapsed", 0.0))
        try:
            if self.stream is not None and meta.get("stream"):
                self.stream.load_state(meta["stream"])
            self.load_state(tensors, meta.get("trainer", {}))
            ckpt.set_rng_state({k: v.cpu() for k, v in tensors.items() if k.startswith("rng.")}, meta["rng"],
                               self.generators)
        except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as exc:  # a trainer's own state
            which = name or ckpt.latest_checkpoint(self.run.checkpoints_dir)
            raise CheckpointError(f"checkpoint {which} in {str(self.run.checkpoints_dir)!r} does not fit this "
                                  f"run's {type(self).__name__}: {type(exc).__name__}: {exc}",
                                  hint=ckpt.intact_hint(self.run.checkpoints_dir, skip=which)) from None
        return True

    def prepare(self, checkpoint: str | None = None) -> None:
        """Seed, build the networks and data stream and, when resuming, load the checkpoint: all that can
        fail on bad settings or a run's own files, so it runs before anything is written."""
        seed_everything(self.settings.seed)
        self.setup()
        if self.ctx.resume and not self.restore(checkpoint):
            raise CheckpointError(f"--resume: no checkpoint in {str(self.run.checkpoints_dir)!r}",
                                  hint="start without --resume (add --overwrite to clear what is there)")
        self.prepared = True

    # -- events for listening plugins ------------------------------------------
    def emit(self, event: str, **kwargs: Any) -> None:
        """Send a training event through the plugin host (a failing third-party listener is
        reported once and skipped; a built-in's error propagates)."""
        self.ctx.host.emit(event, **kwargs)

    # -- the loop ------------------------------------------------------------
    def timed_step(self) -> dict[str, float]:
        """One :meth:`train_step`, timed, counted and checked for divergence."""
        t0 = time.perf_counter()
        metrics = self.train_step()
        self.step += 1
        dt = time.perf_counter() - t0
        self.elapsed += dt
        bad = [k for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            raise DivergenceError(
                f"training diverged at step {self.step}: {', '.join(f'{k}={metrics[k]}' for k in bad)}",
                hint=self._divergence_hint(),
            )
        batch = self.stream.batch_size * self.ctx.world_size if self.stream else 0
        metrics.setdefault("images_per_s", batch / dt if dt > 0 else 0.0)
        return metrics

    def _divergence_hint(self) -> str:
        remedy = "lower the learning rates (e.g. --set trainer.lr_d=1e-4) or try --set loss=hinge"
        last = ckpt.latest_checkpoint(self.run.checkpoints_dir) if self.run.checkpoints_dir.is_dir() else None
        if last is None:
            return f"no checkpoint yet (it diverged before the first one): {remedy}, and start over with --overwrite"
        return f"the last good checkpoint ({last}) is kept in {self.run.checkpoints_dir}: {remedy}, then --resume"

    def evaluate(self) -> dict[str, Any]:
        """Mode coverage and diversity of the generator so far, appended to metrics.jsonl as an
        ``eval`` line: watching coverage climb (or fall) is how a user sees mode collapse happen."""
        from ..evaluation.evaluate import eval_record, evaluate_trainer
        from ..evaluation.quality import FeatureOptions

        n = self.settings.eval_feature_samples
        features = FeatureOptions(samples=n, inception="off") if n else None
        result = evaluate_trainer(self, samples=self.settings.eval_samples, real=self.ctx.dataset,
                                  features=features)
        self.run.log_metrics(eval_record(result))
        return result

    def eval_cadence(self) -> int:
        """Steps between evaluations: ``eval_every``, or for -1 (auto) every AUTO_EVAL_EVERY steps on a
        generator trained on fewer than AUTO_EVAL_BELOW in-memory images, where GANs copy their data:
        the near-copy share then shows while it happens."""
        every = self.settings.eval_every
        if every >= 0:
            return every
        data = self.ctx.dataset
        small = self.model_kind == "generator" and data.as_tensor() is not None and len(data) < AUTO_EVAL_BELOW
        return AUTO_EVAL_EVERY if small else 0

    def fit(self) -> str:
        """Train until the budget is spent; returns why it stopped ('done', 'interrupted')."""
        if not self.prepared:
            self.prepare()
        s = self.settings
        self.run.create()
        if self.ctx.resume:
            self.run.truncate_metrics(self.step)
        main = self.ctx.rank == 0
        display = ProgressDisplay(enabled=main and not self.ctx.quiet, title=s.recipe,
                                  total_steps=s.steps or None, every_seconds=s.progress_seconds)
        eval_every = self.eval_cadence()
        evaluating = bool(eval_every) and main
        if evaluating and self.model_kind != "generator":
            evaluating = False
            print(f"warning: eval_every is ignored: eval measures generators, and {s.recipe} trains "
                  f"an {self.model_kind or 'unexportable'} model", file=sys.stderr)
        display.start(self.step)
        self.emit("on_train_start", trainer=self)
        reason, epoch = "error", self.epoch
        stop = self.stop = interrupts.install(deferred=True)  # SIGINT/SIGTERM end the loop after a whole step
        try:
            while not self.budget_done():
                if stop.signum is not None:
                    raise KeyboardInterrupt
                metrics = self.timed_step()
                step = self.step

                # Log metrics and show progress.
                if step % s.log_every == 0:
                    self.run.log_metrics({"step": step, "epoch": self.epoch, "elapsed": round(self.elapsed, 3),
                                          **metrics})
                display.update(step, metrics, elapsed=self.elapsed, done=self.progress(), minutes=s.minutes)

                # Save image snapshot.
                if s.sample_every and step % s.sample_every == 0:
                    self.save_samples()

                # Save network snapshot.
                if s.checkpoint_every and step % s.checkpoint_every == 0:
                    self.save_checkpoint()

                # Evaluate metrics.
                if evaluating and step % eval_every == 0:
                    result = self.evaluate()
                    shown = ", ".join(f"{k} {result[k]}" for k in ("modes_covered", "kl", "diversity_ratio", "kid",
                                                                    "recall", "near_copy_share") if k in result)
                    display.write(f"eval at step {result['step']}: {shown}"
                                  + (" (collapse warning)" if result["collapse_warning"] else ""))

                # Tell listening plugins.
                self.emit("on_step_end", trainer=self, step=step, metrics=metrics)
                if self.epoch != epoch:
                    epoch = self.epoch
                    self.emit("on_epoch_end", trainer=self, epoch=epoch)
            reason = "done"
        except KeyboardInterrupt:
            reason = "interrupted"
        except DivergenceError:
            reason = "diverged"
            raise
        finally:
            self.stop_reason = reason
            # Save the final snapshot (a diverged run, or one forced to stop mid-step, keeps its last
            # good checkpoint instead).
            stop.protect = True
            if reason in ("done", "interrupted") and self.step > 0 and not stop.forced:
                self.save_checkpoint()
                self.save_samples()
            interrupts.uninstall(stop)
            display.close(reason=reason, step=self.step, elapsed=self.elapsed, images=self.images_seen,
                          where=str(self.run.path))
            self.emit("on_train_end", trainer=self, reason=reason)
        return reason
