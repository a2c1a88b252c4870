"""A run directory: config.json, metrics.jsonl, samples/ and checkpoints/.

Only the main process (rank 0) writes; other ranks get a RunDir whose writes
are no-ops, so trainers never need to check the rank themselves.
This module must not import torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import atomic
from .errors import CheckpointError


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

    def create(self) -> None:
        if self.writer:
            self.samples_dir.mkdir(parents=True, exist_ok=True)
            self.checkpoints_dir.mkdir(parents=True, exist_ok=True)

    # -- config ------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        if self.writer:
            atomic.write_json(self.config_path, config)

    def read_config(self) -> dict[str, Any]:
        if not self.config_path.is_file():
            raise CheckpointError(
                f"{str(self.path)!r} is not a run directory (no config.json)",
                hint="pass the --out folder of an `artengine train` run",
            )
        try:
            return json.loads(self.config_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CheckpointError(f"{self.config_path} is damaged: {exc}") from None

    # -- metrics -----------------------------------------------------------
    def log_metrics(self, record: dict[str, Any]) -> None:
        """Append one JSON object as a line (a torn last line is skipped by readers)."""
        if not self.writer:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.metrics_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=float) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_path.is_file():
            return []
        rows = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line torn by a kill
        return rows

    def truncate_metrics(self, after_step: int) -> None:
        """Drop metric lines newer than a checkpoint we resume from (atomic rewrite)."""
        if not self.writer or not self.metrics_path.is_file():
            return
        keep = [r for r in self.read_metrics() if int(r.get("step", 0)) <= after_step]
        atomic.write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in keep))

    # -- other outputs -----------------------------------------------------
    def write_json(self, name: str, obj: Any) -> Path:
        path = self.path / name
        if self.writer:
            atomic.write_json(path, obj)
        return path

    def read_json(self, name: str) -> Any | None:
        path = self.path / name
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
