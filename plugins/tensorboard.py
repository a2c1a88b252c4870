"""`--log tensorboard`: the run's scalars and sample grids, also written for TensorBoard.

A plugin on the public training events, as a third-party logger would be: it follows what the
run already records (every line appended to metrics.jsonl, training and evaluation alike, and
every grid saved in samples/) and writes the same into ``RUN/tensorboard`` through
``torch.utils.tensorboard``. Only the process that writes the run directory (rank 0) logs.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from artengine.errors import ConfigError
from artengine.hookspecs import hookimpl

EXTRA_HINT = "pip install 'artengine[tensorboard]' (or pip install tensorboard), or drop --log tensorboard"
_loggers: dict = {}  # trainer -> its log, from on_train_start to on_train_end


def require_tensorboard() -> None:
    """A clear message naming the extra when the tensorboard package is missing."""
    try:
        import tensorboard  # noqa: F401  (torch.utils.tensorboard needs it)
    except ImportError:
        raise ConfigError("--log tensorboard needs the tensorboard package, which is not installed",
                          hint=EXTRA_HINT) from None


class TensorBoardLog:
    """Follows metrics.jsonl and samples/ of one run into a SummaryWriter."""

    def __init__(self, run_path: Path, samples_dir: Path, start_step: int):
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        self.metrics_path = run_path / "metrics.jsonl"
        self.samples_dir = samples_dir
        self.writer = SummaryWriter(log_dir=str(run_path / "tensorboard"), purge_step=start_step or None)
        # On a resume, what is already in the files was logged by the earlier session.
        self.offset = self.metrics_path.stat().st_size if self.metrics_path.is_file() else 0
        self.seen = set(samples_dir.glob("*.png")) if samples_dir.is_dir() else set()

    def follow(self) -> None:
        self._scalars()
        self._grids()
        self.writer.flush()

    def _scalars(self) -> None:
        if not self.metrics_path.is_file():
            return
        with open(self.metrics_path, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits for next time
        self.offset += len(complete)
        for line in complete.splitlines():
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            step = row.get("step") if isinstance(row, dict) else None
            if not isinstance(step, int):
                continue
            group = "eval" if row.get("event") == "eval" else "train"
            for key, value in row.items():
                if key in ("step", "event") or isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                if math.isfinite(value):
                    self.writer.add_scalar(f"{group}/{key}", value, step)

    def _grids(self) -> None:
        import numpy as np
        from PIL import Image

        if not self.samples_dir.is_dir():
            return
        for path in sorted(set(self.samples_dir.glob("*.png")) - self.seen):
            self.seen.add(path)
            match = re.search(r"(\d+)", path.stem)
            try:
                with Image.open(path) as img:
                    pixels = np.asarray(img.convert("RGB"))
            except OSError:
                continue
            self.writer.add_image("samples", pixels, int(match.group(1)) if match else 0, dataformats="HWC")

    def close(self) -> None:
        self.follow()
        self.writer.close()


def _writes(trainer) -> bool:
    return trainer.settings.log == "tensorboard" and trainer.ctx.rank == 0 and trainer.run.writer


@hookimpl
def on_train_start(trainer):
    if _writes(trainer):
        _loggers[trainer] = TensorBoardLog(trainer.run.path, trainer.run.samples_dir, trainer.step)


@hookimpl
def on_step_end(trainer, step, metrics):
    log = _loggers.get(trainer)
    if log is not None and step % trainer.settings.log_every == 0:
        log.follow()


@hookimpl
def on_train_end(trainer, reason):
    log = _loggers.pop(trainer, None)
    if log is not None:
        log.close()
