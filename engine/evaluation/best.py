"""The best checkpoint of a run: the lowest KID measured for a checkpoint that still exists.

KID comes from ``eval --all-checkpoints`` (``eval/curve.json``) or from the ``eval`` lines that
``eval_every`` and ``artengine eval`` append to metrics.jsonl; when both measured a step, the
curve's value wins (it used the same latents for every checkpoint).
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import checkpoint as ckpt
from ..errors import CheckpointError
from ..rundir import RunDir
from .evaluate import EVAL_DIR, checkpoint_names


def best_checkpoint(run_dir: str | Path) -> tuple[str, float]:
    """(checkpoint name, its KID) with the lowest KID; a clear error when none was measured."""
    run = RunDir(run_dir)
    kept = set(checkpoint_names(run_dir))
    kids: dict[int, float] = {}
    for row in run.read_metrics():
        if row.get("event") == "eval" and isinstance(row.get("kid"), (int, float)):
            kids[int(row["step"])] = float(row["kid"])
    curve_path = run.path / EVAL_DIR / "curve.json"
    if curve_path.is_file():
        try:
            for point in json.loads(curve_path.read_text(encoding="utf-8")).get("points", []):
                if "kid" in point:
                    kids[int(point["step"])] = float(point["kid"])
        except (json.JSONDecodeError, TypeError, ValueError, KeyError):
            raise CheckpointError(f"{curve_path} is damaged", hint="rerun `artengine eval RUN_DIR "
                                                                   "--all-checkpoints`") from None
    measured = {step: kid for step, kid in kids.items() if ckpt.checkpoint_name(step) in kept}
    if not measured:
        raise CheckpointError(
            f"no KID was measured for a checkpoint {str(run_dir)!r} still has ({len(kept)} kept)",
            hint=f"run `artengine eval {run_dir} --all-checkpoints` first (or train with --set eval_every=N and "
                 "--set keep_checkpoints=K so the measured checkpoints are kept)")
    step = min(measured, key=lambda s: (measured[s], -s))
    return ckpt.checkpoint_name(step), measured[step]
