"""A style result's page: the content photo and the result under a before/after slider, the style
images and their credits, the optimization, snapshots, curves and settings."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ArtengineError
from . import html as h
from .entries import Builder, Entry, Work, as_dict, as_list, flatten
from .safety import UnsafeSourceError
from .svg import charts


def style_page(b: Builder, src: Path, slug: str) -> Entry:
    """The page of a style sidecar; every path in it is checked (:mod:`.safety`)."""
    data = json.loads(src.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ArtengineError(f"{src} is not a style result (not a JSON object)")
    base = src.parent
    image = b.copy_image(base, data.get("image"), f"{slug}/result", what=f"{src.name}: image")
    if image is None:
        raise UnsafeSourceError(f"{src.name}: its result image cannot be shown")
    content = as_dict(data.get("content"))
    styles = [s for s in as_list(data.get("styles")) if isinstance(s, dict)]
    content_name = str(content.get("title") or content.get("name") or "content")
    style_names = ", ".join(str(s.get("title") or s.get("name") or "?") for s in styles)
    title = f"style: {src.stem}"
    summary = f"{content_name} in the style of {style_names}" if style_names else content_name
    before = None
    if content.get("path"):
        before = b.copy_image(base, content.get("path"), f"{slug}/content", what=f"{src.name}: content.path",
                                 builtin_ok=True)
    size = f"{data.get('width', '?')}x{data.get('height', '?')}"
    if before:
        hero = h.compare(before, image, before_label="photo", after_label="result")
        work = Work(hero, f"{summary} (drag to compare)")
    else:
        hero = h.image(image, summary, caption=f"{summary}\n{size}", pixelated=False)
        work = Work(h.image(image, summary, caption=f"{summary}\n{size}", pixelated=False), summary)
    parts = [f'<div class="hero">{hero}</div>',
             f'<p class="note">{h.esc(summary)}, {h.esc(size)}. <a href="{h.esc(image)}">Full-size result</a>'
             '</p>']
    figures, credits = [], []
    for i, ref in enumerate(styles):
        label = f"style {i + 1}: {ref.get('title') or ref.get('name') or '?'}"
        if ref.get("weight") not in (None, 1, 1.0):
            label += f" (weight {ref['weight']})"
        rel = b.copy_image(base, ref.get("path"), f"{slug}/style-{i}", what=f"{src.name}: styles[{i}].path",
                              builtin_ok=True) if ref.get("path") else None
        if rel:
            figures.append(h.figure(rel, label, pixelated=False))
        credits.append(h.credit({"name": f"style {i + 1}", **{k: ref.get(k) for k in ("title", "source",
                                                                                      "license")}}))
    credits.insert(0, h.credit({"name": "content", **{k: content.get(k) for k in ("title", "source",
                                                                                    "license")}}))
    if figures:
        parts += ["<h2>Style images</h2>"] + figures
    animation = data.get("animation")
    if animation:
        rel = b.copy_image(base, animation, f"{slug}/optimization", what=f"{src.name}: animation")
        if rel:
            parts += ["<h2>The optimization</h2>", h.figure(rel, "the image during optimization",
                                                            pixelated=False)]
    snaps = [s for s in as_list(data.get("snapshots")) if isinstance(s, dict) and s.get("path")]
    strip = []
    for snap in snaps[-8:]:
        step = snap.get("step") if isinstance(snap.get("step"), int) else 0
        rel = b.copy_image(base, snap["path"], f"{slug}/snapshot-{step:05d}",
                              what=f"{src.name}: snapshot {step}")
        if rel:
            strip.append(h.figure(rel, f"step {step}", pixelated=False))
    if strip:
        parts += ["<h2>Snapshots</h2>", f'<div class="strip">{"".join(strip)}</div>']
    if isinstance(data.get("loss_history"), list):
        parts += ["<h2>Loss curves</h2>", charts([r for r in data["loss_history"] if isinstance(r, dict)])]
    parts += ["<h2>Credits</h2>"] + [c for c in credits if c]
    if isinstance(data.get("losses"), dict):
        parts.append(h.folded("Final losses", h.table(data["losses"])))
    if isinstance(data.get("settings"), dict):
        parts.append(h.folded("Settings", h.table(data["settings"])))
    for key, label in (("timings", "Timings"), ("features", "Feature network"), ("versions", "Versions")):
        if isinstance(data.get(key), dict):
            parts.append(h.folded(label, h.table(flatten(data[key]))))
    b.put(f"{slug}.html", h.page(title, "".join(parts), lede=summary))
    return Entry(title, "style transfer", f"{slug}.html", summary, [work])
