"""Training curves as inline SVG (no JavaScript, no external files)."""

from __future__ import annotations

import math
from typing import Any

from .html import esc

SKIP = {"step", "epoch", "time", "elapsed", "wall", "images", "kimg", "lr", "timestamp"}


def series(rows: list[dict[str, Any]], limit: int = 8) -> dict[str, list[tuple[float, float]]]:
    """Numeric metrics by name -> [(step, value)], losses first, at most ``limit`` series."""
    found: dict[str, list[tuple[float, float]]] = {}
    for i, row in enumerate(rows):
        x = row.get("step", i)
        if not isinstance(x, (int, float)):
            continue
        for key, value in row.items():
            if key in SKIP or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                found.setdefault(key, []).append((float(x), float(value)))
    names = sorted(found, key=lambda k: (0 if "loss" in k else 1, k))
    return {k: found[k] for k in names[:limit] if len(found[k]) >= 2}


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
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(name)}">'
            f'<text x="{left}" y="14" font-size="12" font-family="sans-serif">{esc(name)} '
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
