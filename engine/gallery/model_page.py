"""An exported model's section and page: samples and a latent walk rendered with onnxruntime, the
model file to download, its metadata and config (folded)."""

from __future__ import annotations

from pathlib import Path

from . import html as h
from .controls_section import control_sections
from .entries import Builder, Entry, Work, json_or_none, safe_name
from .transparency import alpha_class

MAX_MODEL_BYTES = 200 * 1024 * 1024


def model_section(b: Builder, path: Path, folder: str, owner: str) -> tuple[list[str], list[Work], list[str]]:
    """The model's pictures and download (shown), and its metadata and config (for the bottom)."""
    from ..render import render
    from ..runtime import load_model

    opts = b.opts
    model = load_model(path, provider=opts.provider)
    meta = dict(model.metadata)
    parts: list[str] = []
    works: list[Work] = []
    settings = " · ".join(f"{k} {meta[k]}" for k in ("recipe", "dataset", "step", "image_size") if meta.get(k))
    alpha = alpha_class(meta.get("color_mode") == "RGBA" or model.channels == 4)  # transparent outputs
    if model.kind == "generator":
        result = render(path, b.site.path(folder), n=opts.n, seed=opts.seed, interpolate=opts.interpolate,
                        frames=opts.frames, provider=opts.provider, formats=("gif",), singles=False)
        b.site.path(f"{folder}/render.json").unlink(missing_ok=True)  # absolute paths; the page says it
        grid = f"{folder}/{result.grid}"
        details = (f"model {path.name} · seed {opts.seed} · {opts.n} samples · {settings}\n"
                   f"regenerate: artengine render {path.name} --seed {opts.seed} --n {opts.n}")
        parts.append('<div class="hero">' + h.figure(grid, f"{opts.n} new samples, seed {opts.seed}",
                                                     details=details, cls=alpha))
        works.append(Work(h.image(grid, f"{owner}: samples", caption=f"{owner}\n{details}", cls=alpha),
                          f"{opts.n} samples from the exported model, seed {opts.seed}"))
        for anim in result.animations:
            walk = f"{folder}/{anim}"
            about = (f"a latent walk through {opts.interpolate} seeds from {opts.seed}, {opts.frames} frames "
                     f"between each (spherical interpolation)")
            parts.append(h.figure(walk, about, details=f"model {path.name} · {settings}", cls=alpha))
            works.append(Work(h.image(walk, f"{owner}: latent walk", caption=f"{owner}\n{about}", cls=alpha),
                              about))
        parts.append("</div>")
        shown, shown_works = control_sections(b, model, folder, owner)  # controls, style mixing, tiling
        parts += shown
        works += shown_works
    elif opts.photos is not None:
        result = render(path, b.site.path(folder), source=opts.photos, provider=opts.provider)
        b.site.path(f"{folder}/render.json").unlink(missing_ok=True)
        grid = f"{folder}/{result.grid}"
        parts.append(h.figure(grid, "photos (left) and the model's results (right)", pixelated=False))
        works.append(Work(h.image(grid, f"{owner}: results", pixelated=False), "photos and results"))
    else:
        parts.append("<p>An image-to-image model: pass <code>--photos FOLDER</code> to show results here, "
                     f"or try it live with <code>artengine serve {h.esc(path.name)}</code>.</p>")
    size = path.stat().st_size
    if size <= MAX_MODEL_BYTES:
        rel = b.put(f"{folder}/{safe_name(path.name)}", path.read_bytes())
        parts.append(f'<p>Download <a href="{h.esc(rel)}" download>{h.esc(path.name)}</a> '
                     f"({size / 1e6:.1f} MB, ONNX; runs with onnxruntime alone). Explore it live: "
                     f"<code>artengine serve {h.esc(path.name)}</code>, or <code>artengine serve</code> on this "
                     "gallery's folder.</p>")
    config = meta.pop("config", None)
    credit = {k[len("dataset_"):]: v for k, v in meta.items() if k.startswith("dataset_")}
    style = json_or_none(meta.get("style_source"))
    credits = [h.credit({"name": meta.get("dataset", ""), **credit})] if credit else []
    if isinstance(style, dict):
        credits.append(h.credit({"name": "style image", **style}))
    bottom = [h.folded("Model metadata", h.table(dict(sorted(meta.items()))))]
    if config:
        parsed = json_or_none(config)
        bottom.append(h.folded("Training config", h.json_block(parsed) if parsed is not None
                               else f"<pre>{h.esc(config)}</pre>"))
    return parts, works, (["<h2>Credits</h2>"] + credits if credits else []) + bottom


def model_page(b: Builder, src: Path, slug: str) -> Entry:
    """The page of an exported model given on its own."""
    title = f"model: {src.name}"
    parts, works, bottom = model_section(b, src, slug, title)
    parts += bottom
    intro = (f"<p>Exported model <code>{h.esc(src.name)}</code>; render it with "
             f"<code>artengine render {h.esc(src.name)} --out DIR --seed {b.opts.seed}</code>.</p>")
    b.put(f"{slug}.html", h.page(title, intro + "".join(parts)))
    return Entry(title, "exported model", f"{slug}.html", "ONNX, rendered with onnxruntime", works)
