"""HTML pieces: the page template and the widgets (lightbox images, timeline, before/after, tables).

Every value goes through :func:`esc`; scripts and styles are files in ``assets/`` copied into the
site, so pages open from the file system with nothing fetched from anywhere.
"""

from __future__ import annotations

import html
import json
from typing import Any

ASSETS = ("gallery.css", "gallery.js")


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, *, home: str | None = "index.html", lede: str = "") -> str:
    nav = f'<nav><a href="{esc(home)}">&larr; all works</a></nav>' if home else ""
    lede_html = f'<p class="lede">{esc(lede)}</p>' if lede else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{esc(title)}</title>'
            f'<link rel="stylesheet" href="assets/gallery.css"></head><body>'
            f'<header>{nav}<h1>{esc(title)}</h1>{lede_html}</header><main>{body}'
            f'<div id="image-check" data-state="pending"></div></main>'
            f'<script src="assets/gallery.js"></script></body></html>\n')


def image(src: str, alt: str, *, caption: str = "", pixelated: bool = True, width: int | None = None,
          lightbox: bool = True, cls: str = "") -> str:
    """An ``<img>``; ``pixelated`` for generator outputs, ``lightbox`` opens it large with ``caption``."""
    classes = " ".join(c for c in ("px" if pixelated else "", cls) if c)
    attrs = f' class="{esc(classes)}"' if classes else ""
    if lightbox:
        attrs += f' data-lb="1" data-caption="{esc(caption or alt)}"'
    if width:
        attrs += f' width="{int(width)}"'
    return f'<img src="{esc(src)}" alt="{esc(alt)}" loading="eager"{attrs}>'


def figure(src: str, caption: str, *, pixelated: bool = True, details: str = "", width: int | None = None,
           cls: str = "") -> str:
    """A captioned image that opens in the lightbox with ``details`` (seed, model, settings)."""
    full = f"{caption}\n{details}" if details else caption
    return (f"<figure>{image(src, caption, caption=full, pixelated=pixelated, width=width, cls=cls)}"
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def compare(before: str, after: str, *, before_label: str, after_label: str) -> str:
    """A before/after slider: ``before`` under ``after``; dragging moves the seam."""
    return (f'<div class="compare"><img src="{esc(before)}" alt="{esc(before_label)}">'
            f'<img class="after" src="{esc(after)}" alt="{esc(after_label)}"><div class="bar"></div>'
            f'<span class="tag l">{esc(before_label)}</span><span class="tag r">{esc(after_label)}</span>'
            f'<input type="range" min="0" max="100" value="50" aria-label="before / after"></div>')


def timeline(frames: list[str], steps: list[int], *, animation: str | None = None, cls: str = "") -> str:
    """The sample grids over training steps: a slider to scrub, a button to play (``cls`` "alpha":
    transparent grids, on a checkerboard)."""
    last = len(frames) - 1
    first = image(frames[last], f"samples at step {steps[last]}",
                  caption=f"samples at step {steps[last]} (the same latents at every step)", cls=cls)
    anim = (f'<figure>{image(animation, "training animation", caption="the samples over training", cls=cls)}'
            f"<figcaption>the same latents over {len(frames)} sample grids</figcaption></figure>") if animation else ""
    return (f'<div class="hero"><div class="timeline" data-frames="{esc(json.dumps(frames))}" '
            f'data-steps="{esc(json.dumps(steps))}">{first}<div class="controls"><button type="button">play'
            f'</button><input type="range" min="0" max="{last}" value="{last}" aria-label="training step">'
            f'<span class="step">step {esc(steps[last])}</span></div></div>{anim}</div>')


def table(rows: dict[str, Any] | list[tuple[str, Any]], header: tuple[str, str] | None = None) -> str:
    items = rows.items() if isinstance(rows, dict) else rows
    head = f"<tr><th>{esc(header[0])}</th><th>{esc(header[1])}</th></tr>" if header else ""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(_fmt(v))}</td></tr>" for k, v in items)
    return f"<table>{head}{body}</table>" if body else "<p>(none)</p>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def json_block(obj: Any) -> str:
    return f"<pre>{esc(json.dumps(obj, indent=2, sort_keys=True, default=str))}</pre>"


def folded(title: str, body: str) -> str:
    """Reference material (configs, versions) kept out of the way at the bottom of a page."""
    return f"<details><summary>{esc(title)}</summary>{body}</details>"


def bullets(lines: list[str]) -> str:
    return "<ul class=\"words\">" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>" if lines else ""


def credit(info: dict[str, Any]) -> str:
    """Dataset / image source, license and credit (shown wherever a result uses others' work)."""
    rows = [(k, info[k]) for k in ("name", "title", "source", "license", "credit", "url") if info.get(k)]
    if not rows:
        return ""
    return '<div class="credit">' + table(rows) + "</div>"
