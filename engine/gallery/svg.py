"""Training and evaluation curves as inline SVG (no JavaScript, no external files)."""

from __future__ import annotations

import math
from typing import Any

from .html import esc

#: bookkeeping numbers that are not curves
SKIP = {"step", "epoch", "time", "elapsed", "wall", "images", "kimg", "timestamp", "samples", "num_modes",
        "eval_seconds", "classifier_heldout_accuracy", "classifier_confidence_real", "diversity_real", "kid_std",
        "kid_unit_std", "kl_real"}
#: readable names for the series artengine's trainers and evaluations log
LABELS = {"loss_g": "generator loss", "loss_d": "discriminator loss", "aug_p": "augmentation probability p",
          "kid": "KID (eval, lower is better)", "kid_unit": "KID on unit-length features (eval, lower is better)",
          "kl": "KL of the class mix (eval, lower is better)",
          "modes_covered": "modes covered (eval)", "diversity_ratio": "variety vs real data (eval)",
          "fid_classifier": "Fréchet distance, classifier features (eval)", "images_per_s": "images per second",
          "classifier_confidence": "classifier confidence (eval)", "d_real": "D score on real images",
          "d_fake": "D score on generated images", "precision": "precision (eval: samples that look real)",
          "recall": "recall (eval: how much of the real variety is drawn)", "fd": "Fréchet distance (eval)",
          "near_copy_share": "share of near-copies of training images (eval)"}


def series(rows: list[dict[str, Any]], limit: int = 16) -> dict[str, list[tuple[float, float]]]:
    """Every numeric series by name -> [(step, value)]: losses first, then the other training
    numbers (e.g. augmentation p), then evaluation lines (``event: eval``, e.g. KL, KID) as
    ``eval NAME``. Constant series are left out: a flat line says nothing."""
    found: dict[str, list[tuple[float, float]]] = {}
    for i, row in enumerate(rows):
        x = row.get("step", i)
        if not isinstance(x, (int, float)) or isinstance(x, bool):
            continue
        prefix = "eval " if row.get("event") == "eval" else ""
        if row.get("event") not in (None, "eval"):
            continue
        for key, value in row.items():
            if key in SKIP or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                found.setdefault(prefix + key, []).append((float(x), float(value)))
    useful = {k: v for k, v in found.items() if len(v) >= 2 and len({y for _, y in v}) > 1}
    names = sorted(useful, key=lambda k: (k.startswith("eval "), "loss" not in k, k))
    return {k: useful[k] for k in names[:limit]}


def label(name: str) -> str:
    key = name.removeprefix("eval ")
    return LABELS.get(key, name.replace("_", " "))


def _downsample(points: list[tuple[float, float]], n: int = 400) -> list[tuple[float, float]]:
    if len(points) <= n:
        return points
    step = len(points) / n
    return [points[int(i * step)] for i in range(n)] + [points[-1]]


def curve(name: str, points: list[tuple[float, float]], width: int = 360, height: int = 180) -> str:
    """One chart: a polyline with min/max labels and the first and last step."""
    pts = _downsample(points)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    left, right, top, bottom = 48, 8, 20, 24
    pw, ph = width - left - right, height - top - bottom
    coords = " ".join(f"{left + (x - x0) / (x1 - x0) * pw:.1f},{top + (1 - (y - y0) / (y1 - y0)) * ph:.1f}"
                      for x, y in pts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label(name))}">'
            f'<text x="{left}" y="14" font-size="12" font-family="sans-serif">{esc(label(name))} '
            f'(last {esc(f"{ys[-1]:.4g}")})</text>'
            f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>'
            f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end" font-family="sans-serif">'
            f"{esc(f'{y1:.3g}')}</text>"
            f'<text x="{left - 4}" y="{top + ph}" font-size="10" text-anchor="end" font-family="sans-serif">'
            f"{esc(f'{y0:.3g}')}</text>"
            f'<text x="{left}" y="{height - 8}" font-size="10" font-family="sans-serif">step {esc(f"{x0:g}")}</text>'
            f'<text x="{width - right}" y="{height - 8}" font-size="10" text-anchor="end" '
            f'font-family="sans-serif">{esc(f"{x1:g}")}</text>'
            f'<polyline fill="none" stroke="#2a6ad0" stroke-width="1.5" points="{coords}"/></svg>')


def charts(rows: list[dict[str, Any]]) -> str:
    found = series(rows)
    if not found:
        return "<p>(no metrics logged yet)</p>"
    return '<div class="charts">' + "".join(curve(k, v) for k, v in found.items()) + "</div>"
