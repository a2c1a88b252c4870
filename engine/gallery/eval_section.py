"""A run's evaluation pictures beyond the numbers: the closest sample/training pairs of
`artengine eval` (does the generator copy?) and the curve of `eval --all-checkpoints`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import html as h
from . import words
from .entries import Builder, as_dict, as_list
from .svg import charts
from .transparency import alpha_class

#: where `artengine eval` writes them inside a run folder (engine/evaluation/evaluate.py)
PAIRS_PNG = "eval/closest-pairs.png"
CURVE_JSON = "eval/curve.json"


def _pairs_ref(run_dir: Path, ev: dict[str, Any]) -> str | None:
    """eval.json's ``closest_pairs_png`` (absolute when written), else the usual place, if it is there."""
    for ref in (ev.get("closest_pairs_png"), PAIRS_PNG):
        if isinstance(ref, str) and ref.strip() and "\0" not in ref:
            path = Path(ref) if Path(ref).is_absolute() else run_dir / ref
            if path.exists() or path.is_symlink():
                return ref
    return None


def closest_pairs(b: Builder, run_dir: Path, ev: dict[str, Any], slug: str) -> list[str]:
    """The closest pairs image with what it says in words (near-copy share against the dataset's own)."""
    ref = _pairs_ref(run_dir, ev)
    rel = b.copy_image(run_dir, ref, f"{slug}/closest-pairs", what="closest pairs image") if ref else None
    if not rel:
        return []
    n = len(as_list(ev.get("closest_pairs"))) or None
    caption = words.closest_pairs_caption(ev, n)
    return ["<h2>Does it copy its training images?</h2>",
            h.figure(rel, caption, cls=alpha_class(rel in b.transparent))]


def _read_curve(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CURVE_JSON
    try:
        return as_dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}
    except (OSError, ValueError):  # damaged or not UTF-8: the page goes without it
        return {}


def checkpoint_curve(run_dir: Path) -> list[str]:
    """KID, precision, recall and near-copies per checkpoint, as charts, and the best checkpoint."""
    curve = _read_curve(run_dir)
    points = [p for p in as_list(curve.get("points")) if isinstance(p, dict)]
    if not points:
        return []
    parts = ["<h2>Quality over the checkpoints</h2>", charts(points)]
    best = as_dict(curve.get("best"))
    space = curve.get("feature_space")
    notes = []
    if best.get("checkpoint"):
        kid = best.get("kid")
        kid_text = f", KID {kid:.3g}" if isinstance(kid, (int, float)) and not isinstance(kid, bool) else ""
        notes.append(f"lowest KID at {best['checkpoint']}{kid_text} (what `artengine export --best` picks)")
    if space:
        notes.append(f"measured in {space} features, {len(points)} checkpoints")
    return parts + [h.bullets(notes)]
