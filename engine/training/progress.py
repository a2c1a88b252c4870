"""What a person watching a run sees on stderr.

On a terminal: a tqdm bar redrawn in place. Anywhere else (a log file, CI, a pipe): a plain
line every ``progress_seconds`` with the step, the losses, img/s and the ETA, never a redraw per
step. In both cases one summary line when training stops.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

SHOWN = ("loss", "stage", "alpha", "d_skip", "aug_p")


def _fmt_seconds(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class ProgressDisplay:
    """Owned by :meth:`Trainer.fit`; silent when ``enabled`` is False (``--quiet``, ranks other than 0)."""

    def __init__(self, *, enabled: bool, title: str, total_steps: int | None, every_seconds: float,
                 stream: TextIO | None = None, tty: bool | None = None):
        self.enabled = enabled
        self.title = title
        self.total_steps = total_steps
        self.every_seconds = every_seconds
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.bar = None
        self.last_line = float("-inf")
        self.last_metrics: dict[str, Any] = {}

    def start(self, step: int) -> None:
        if not (self.enabled and self.tty):
            return
        from tqdm import tqdm

        self.bar = tqdm(total=self.total_steps, initial=step, unit="step", dynamic_ncols=True, file=self.stream,
                        desc=self.title, mininterval=0.5)

    def shown(self, metrics: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in metrics.items() if k.startswith(SHOWN)}
        out["img/s"] = metrics.get("images_per_s", 0.0)
        return out

    def update(self, step: int, metrics: dict[str, Any], *, elapsed: float, done: float | None,
               minutes: float = 0.0) -> None:
        """After each step: ``done`` is the budget fraction spent (None: no budget known)."""
        self.last_metrics = metrics
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            self.bar.set_postfix({k: _fmt(v) for k, v in self.shown(metrics).items()}, refresh=False)
            if self.bar.total is None and minutes:
                self.bar.set_description(f"{self.title} {elapsed / 60:.1f}/{minutes:g} min")
            return
        now = time.monotonic()
        if now - self.last_line < self.every_seconds:
            return
        self.last_line = now
        total = f"/{self.total_steps}" if self.total_steps else ""
        parts = [f"{self.title} step {step}{total}"]
        parts += [f"{k} {_fmt(v)}" for k, v in self.shown(metrics).items()]
        parts.append(f"elapsed {_fmt_seconds(elapsed)}")
        if done:
            parts.append(f"ETA {_fmt_seconds(elapsed * (1.0 - done) / done)}")
        self.write(" | ".join(parts))

    def write(self, line: str) -> None:
        """A line that does not tear the bar (evaluation results, warnings)."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self, *, reason: str, step: int, elapsed: float, images: int, where: str) -> None:
        """The summary line: why it stopped, how far, how fast, the last losses, where the run is."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if not self.enabled:
            return
        losses = ", ".join(f"{k} {_fmt(v)}" for k, v in self.last_metrics.items() if k.startswith("loss"))
        speed = f", {images / elapsed:.1f} img/s" if elapsed > 0 and images else ""
        print(f"{reason}: {step} steps in {_fmt_seconds(elapsed)}{speed}" + (f", {losses}" if losses else "")
              + f"; run saved in {where}", file=self.stream, flush=True)
