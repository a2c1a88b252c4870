"""Built-in training services, implemented on the public training events like any plugin:
the progress bar, metrics.jsonl logging, sample grids and checkpoints."""

from __future__ import annotations

import sys
import time

from artengine.hookspecs import hookimpl

_bars: dict[int, object] = {}


def _total_steps(trainer) -> int | None:
    return int(trainer.config["steps"]) if trainer.config.get("steps") else None


@hookimpl
def on_train_start(trainer):
    trainer._last_log_time = time.perf_counter()
    if trainer.ctx.quiet or trainer.ctx.rank != 0:
        return
    from tqdm import tqdm

    _bars[id(trainer)] = tqdm(total=_total_steps(trainer), initial=trainer.step, unit="step",
                              dynamic_ncols=True, file=sys.stderr, desc=trainer.config.get("recipe", "train"),
                              mininterval=0.5)


@hookimpl
def on_step_end(trainer, step, metrics):
    cfg = trainer.config
    if step % int(cfg.get("log_every", 10)) == 0:
        trainer.run.log_metrics({"step": step, "epoch": trainer.epoch,
                                 "elapsed": round(trainer.elapsed, 3), **metrics})
    bar = _bars.get(id(trainer))
    if bar is not None:
        bar.update(step - bar.n)
        shown = {k: v for k, v in metrics.items() if k.startswith(("loss", "stage", "alpha", "d_skip"))}
        shown["img/s"] = metrics.get("images_per_s", 0.0)
        bar.set_postfix({k: (f"{v:.3g}" if isinstance(v, float) else v) for k, v in shown.items()},
                        refresh=False)
        if bar.total is None and cfg.get("minutes"):
            bar.set_description(f"{cfg.get('recipe')} {trainer.elapsed / 60:.1f}/{cfg['minutes']:g} min")
    every = int(cfg.get("sample_every", 0))
    if every and step % every == 0:
        trainer.save_samples()
    every = int(cfg.get("checkpoint_every", 0))
    if every and step % every == 0:
        trainer.save_checkpoint()
    every = int(cfg.get("eval_every", 0))
    if every and step % every == 0:
        _evaluate(trainer, bar)


def _evaluate(trainer, bar) -> None:
    """Mode coverage and diversity of the generator so far, as an ``eval`` line of metrics.jsonl:
    watching coverage climb (or fall) is how a user sees mode collapse while it happens."""
    if trainer.ctx.rank != 0 or getattr(trainer, "_eval_unsupported", False):
        return
    from artengine.errors import ArtengineError
    from artengine.evaluation.evaluate import eval_record, evaluate_trainer

    try:
        result = evaluate_trainer(trainer, samples=int(trainer.config.get("eval_samples", 5000)),
                                  real=trainer.ctx.dataset)
    except ArtengineError as exc:  # e.g. an image-to-image trainer: say it once, keep training
        trainer._eval_unsupported = True
        print(f"warning: eval_every is ignored: {exc}", file=sys.stderr)
        return
    trainer.run.log_metrics(eval_record(result))
    shown = ", ".join(f"{k} {result[k]}" for k in ("modes_covered", "kl", "diversity_ratio") if k in result)
    line = f"eval at step {result['step']}: {shown}" + (" (collapse warning)" if result["collapse_warning"] else "")
    if bar is not None:
        bar.write(line, file=sys.stderr)
    elif not trainer.ctx.quiet:
        print(line, file=sys.stderr)


@hookimpl
def on_train_end(trainer, reason):
    bar = _bars.pop(id(trainer), None)
    if bar is not None:
        bar.close()
    if reason in ("done", "interrupted") and trainer.step > 0:
        trainer.save_checkpoint()
        trainer.save_samples()
