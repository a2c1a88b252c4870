"""A run directory: config.json, metrics.jsonl, samples/ and checkpoints/.

Only the main process (rank 0) writes; other ranks get a RunDir whose writes
are no-ops, so trainers never need to check the rank themselves. The first write
takes the run's lock (:mod:`artengine.runlock`) for the life of the process, so a
run has one writer at a time.
This module must not import torch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from . import atomic, runlock
from .errors import CheckpointError, ConfigError, OutputError

#: what artengine itself writes into a run folder: all that ``--overwrite`` ever removes
RUN_FILES = ("config.json", "metrics.jsonl", "eval.json", runlock.LOCK_NAME)
RUN_FOLDERS = ("samples", "checkpoints")

#: keys config.json must hold to rebuild its run, and their JSON types
CONFIG_SCHEMA: dict[str, tuple[type, ...]] = {
    "recipe": (str,), "seed": (int,), "image_size": (int,), "batch_size": (int,), "trainer": (dict,),
}
CONFIG_OPTIONAL: dict[str, tuple[type, ...]] = {
    "steps": (int,), "epochs": (int, float), "minutes": (int, float), "channels": (int,),
    "generator": (dict,), "discriminator": (dict,), "loss": (dict,), "dataset": (dict,),
}


def config_problem(config: Any) -> str | None:
    """What is wrong with a parsed config.json (None: nothing), in words a user can check."""
    if not isinstance(config, dict):
        return f"it holds a JSON {type(config).__name__}, not an object"
    for key in CONFIG_SCHEMA:
        if key not in config:
            return f"{key!r} is missing"
    for key, types in {**CONFIG_SCHEMA, **CONFIG_OPTIONAL}.items():
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, types):
            want = " or ".join("object" if t is dict else t.__name__ for t in types)
            return f"{key!r} must be {want}, got {json.dumps(value)[:60]}"
        if isinstance(value, dict) and not isinstance(value.get("name"), str):
            return f"{key!r} needs a component name (\"name\": \"...\")"
        if isinstance(value, (int, float)) and value < 0:
            return f"{key!r} must not be negative, got {value}"
    return None


def _step_of(record: dict[str, Any]) -> int:
    step = record.get("step", 0)
    return step if isinstance(step, int) and not isinstance(step, bool) else 0


class RunDir:
    """Paths and file writes of one training run."""

    def __init__(self, path: str | Path, *, writer: bool = True):
        self.path = Path(path)
        self.writer = writer

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def has_checkpoint(self) -> bool:
        return self.checkpoints_dir.is_dir() and any(self.checkpoints_dir.glob("step-*.json"))

    # -- one writer at a time ------------------------------------------------
    def check_free(self) -> None:
        """Refuse early (writing nothing) when another process is writing this run."""
        if self.writer:
            runlock.check_free(self.path)

    def lock(self) -> None:
        """Hold the run's lock from now until this process exits (rank 0 only); on taking it,
        clear the temp files a killed writer left behind."""
        if self.writer and not runlock.held(self.path):
            runlock.acquire(self.path)
            atomic.remove_stale_temps(self.path)

    def create(self) -> None:
        if self.writer:
            self.lock()
            self.samples_dir.mkdir(parents=True, exist_ok=True)
            self.checkpoints_dir.mkdir(parents=True, exist_ok=True)

    # -- a new run into an existing folder -----------------------------------
    def contents(self) -> list[str]:
        """Names in the folder (the lock file left out: it is not data)."""
        if not self.path.is_dir():
            return []
        return sorted(p.name + ("/" if p.is_dir() else "") for p in self.path.iterdir()
                      if p.name != runlock.LOCK_NAME)

    def check_new_run(self, *, overwrite: bool = False) -> None:
        """A new run goes into an empty (or missing) folder, never merged into an old one.

        With ``overwrite`` an old run's own files may be cleared (:meth:`clear`, called once
        every other check has passed); a folder artengine did not make is refused either way."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"--out {str(self.path)!r} is a file, not a folder",
                              hint="choose a folder path for the run")
        found = self.contents()
        if not found:
            return
        shown = ", ".join(found[:6]) + (f" and {len(found) - 6} more" if len(found) > 6 else "")
        if not self.exists():
            raise ConfigError(f"--out {str(self.path)!r} already holds files that are not an artengine run "
                              f"({shown})", hint="choose a new or empty folder (nothing was changed)")
        if overwrite:
            return
        if self.has_checkpoint():
            raise ConfigError(f"{str(self.path)!r} already holds a run with checkpoints",
                              hint="add --resume to continue it, --overwrite to start it over, "
                                   "or choose another --out (nothing was changed)")
        raise ConfigError(f"{str(self.path)!r} holds an unfinished run without a checkpoint ({shown})",
                          hint="add --overwrite to clear it and start over, or choose another --out "
                               "(nothing was changed)")

    def clear(self) -> None:
        """Remove what artengine wrote into this run (see RUN_FILES); other files stay."""
        if not self.writer:
            return
        self.lock()
        for name in RUN_FILES:
            if name != runlock.LOCK_NAME:
                (self.path / name).unlink(missing_ok=True)
        for name in RUN_FOLDERS:
            if (self.path / name).is_dir():
                shutil.rmtree(self.path / name)

    # -- config ------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        if self.writer:
            self.lock()
            atomic.write_json(self.config_path, config)

    def read_config(self) -> dict[str, Any]:
        """config.json, checked to hold what rebuilding the run needs."""
        if not self.config_path.is_file():
            raise CheckpointError(
                f"{str(self.path)!r} is not a run directory (no config.json)",
                hint="pass the --out folder of an `artengine train` run",
            )
        try:
            config = json.loads(self.config_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problem: str | None = f"it is not valid JSON ({exc})"
        else:
            problem = config_problem(config)
        if problem:
            from .checkpoint import intact_hint

            raise CheckpointError(f"{self.config_path} is damaged: {problem}",
                                  hint=intact_hint(self.checkpoints_dir, "restore config.json from a backup; "))
        return config

    # -- metrics -----------------------------------------------------------
    def log_metrics(self, record: dict[str, Any]) -> None:
        """Append one JSON object as a line (a torn last line is skipped by readers)."""
        if not self.writer:
            return
        self.lock()
        try:
            with open(self.metrics_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, default=float) + "\n")
        except OSError as exc:
            raise OutputError(f"cannot append to {str(self.metrics_path)!r}: {exc.strerror or exc}",
                              hint="free some space, then --resume (checkpoints are kept)") from None

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_path.is_file():
            return []
        rows = []
        for line in self.metrics_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a kill
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def truncate_metrics(self, after_step: int) -> None:
        """Drop metric lines newer than a checkpoint we resume from (atomic rewrite)."""
        if not self.writer or not self.metrics_path.is_file():
            return
        self.lock()
        keep = [r for r in self.read_metrics() if _step_of(r) <= after_step]
        atomic.write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in keep))

    # -- other outputs -----------------------------------------------------
    def write_json(self, name: str, obj: Any) -> Path:
        path = self.path / name
        if self.writer:
            self.lock()
            atomic.write_json(path, obj)
        return path

    def read_json(self, name: str) -> Any | None:
        path = self.path / name
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
