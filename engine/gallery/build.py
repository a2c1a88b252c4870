"""Build the site: one page per source, then index.html linking them all."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import atomic
from ..errors import ArtengineError
from . import html as h
from .sources import Source, collect
from .svg import charts

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}


@dataclass
class Entry:
    """One card on the index page."""

    title: str
    kind: str
    page: str
    thumb: str | None
    summary: str


@dataclass
class Options:
    n: int = 36
    seed: int = 0
    interpolate: int = 4
    frames: int = 12
    photos: Path | None = None
    provider: str = "cpu"


def slugify(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "item"
    slug, i = base, 2
    while slug in taken or slug == "index":
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def copy_asset(src: Path, out: Path, rel: str) -> str | None:
    """Copy ``src`` to ``out/rel`` (inside the site); returns ``rel``, or None if ``src`` is missing."""
    if not src.is_file():
        return None
    dest = (out / rel).resolve()
    if out.resolve() not in dest.parents:
        raise ArtengineError(f"refusing to write outside the gallery: {rel!r}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(dest, src.read_bytes(), durable=False)  # a copy: the original stays
    return rel


def _safe_name(name: str) -> str:
    stem, dot, suffix = Path(name).name.rpartition(".")
    clean = re.sub(r"[^A-Za-z0-9_-]+", "-", stem if dot else name).strip("-") or "file"
    return f"{clean}.{suffix.lower()}" if dot else clean


def _flatten(obj: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in obj.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


# -- runs ---------------------------------------------------------------------
def _dataset_credit(config: dict[str, Any]) -> dict[str, Any]:
    info = dict(config.get("dataset_info") or {})
    info.setdefault("name", (config.get("dataset") or {}).get("name", ""))
    if not any(info.get(k) for k in ("source", "license", "credit")):
        from ..export.metadata import dataset_credit

        info.update(dataset_credit(config))
    return info


def run_page(src: Path, out: Path, slug: str, opts: Options) -> Entry:
    from ..rundir import RunDir

    run = RunDir(src)
    config = run.read_config()
    parts = [f"<p>Run folder <code>{h.esc(src.name)}</code>, recipe <b>{h.esc(config.get('recipe', ''))}</b>, "
             f"dataset <b>{h.esc((config.get('dataset') or {}).get('name', ''))}</b>.</p>"]
    samples = sorted(p for p in run.samples_dir.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    thumb = None
    if samples:
        parts.append("<h2>Samples</h2>")
        latest = samples[-1]
        thumb = copy_asset(latest, out, f"{slug}/{_safe_name(latest.name)}")
        parts.append(h.figure(thumb, f"latest samples ({latest.stem})", width=480))
        for earlier in samples[:-1][-4:]:
            rel = copy_asset(earlier, out, f"{slug}/{_safe_name(earlier.name)}")
            parts.append(h.figure(rel, earlier.stem, width=160))
    models = sorted(src.glob("*.onnx"))
    for model in models[:1]:
        entry_parts, grid = _model_section(model, out, f"{slug}/render", opts)
        parts += ["<h2>Exported model</h2>"] + entry_parts
        thumb = thumb or grid
    parts += ["<h2>Training curves</h2>", charts(run.read_metrics())]
    evals = run.read_json("eval.json")
    if isinstance(evals, dict):
        parts += ["<h2>Evaluation</h2>", h.table(_flatten(evals))]
    parts += ["<h2>Dataset</h2>", h.credit(_dataset_credit(config)) or "<p>(no dataset information)</p>"]
    parts += ["<h2>Versions</h2>", h.table(config.get("versions") or {})]
    parts += ["<h2>Config</h2>", h.json_block({k: v for k, v in config.items() if k != "versions"})]
    title = f"{config.get('recipe', 'run')}: {src.name}"
    atomic.write_text(out / f"{slug}.html", h.page(title, "".join(parts)))
    steps = [r.get("step") for r in run.read_metrics() if isinstance(r.get("step"), int)]
    summary = f"{(config.get('dataset') or {}).get('name', '')}, {config.get('image_size', '?')}px"
    if steps:
        summary += f", {max(steps)} steps"
    return Entry(title, "training run", f"{slug}.html", thumb, summary)


# -- models -------------------------------------------------------------------
def _model_section(path: Path, out: Path, folder: str, opts: Options) -> tuple[list[str], str | None]:
    from ..render import render
    from ..runtime import load_model

    model = load_model(path, provider=opts.provider)
    meta = dict(model.metadata)
    parts: list[str] = []
    grid = None
    if model.kind == "generator":
        result = render(path, out / folder, n=opts.n, seed=opts.seed, interpolate=opts.interpolate,
                        frames=opts.frames, provider=opts.provider, formats=("gif", "webp"))
        grid = f"{folder}/{result.grid}"
        parts.append(h.figure(grid, f"{opts.n} samples, seed {opts.seed} (each PNG in {folder}/images records "
                                    f"model, seed and index)", width=480))
        for anim in result.animations:
            if anim.endswith(".gif"):
                parts.append(h.figure(f"{folder}/{anim}", f"spherical interpolation through {opts.interpolate} "
                                                          f"seeds from {opts.seed}", width=256))
        (out / folder / "render.json").unlink(missing_ok=True)  # holds absolute paths; the page says it all
    elif opts.photos is not None:
        result = render(path, out / folder, source=opts.photos, provider=opts.provider)
        grid = f"{folder}/{result.grid}"
        parts.append(h.figure(grid, "inputs (left) and results (right)", width=480))
        (out / folder / "render.json").unlink(missing_ok=True)
    else:
        parts.append("<p>Image-to-image model: pass <code>--photos FOLDER</code> to show results.</p>")
    config = meta.pop("config", None)
    credit = {k[len("dataset_"):]: v for k, v in meta.items() if k.startswith("dataset_")}
    if credit:
        parts += ["<h3>Dataset</h3>", h.credit({"name": meta.get("dataset", ""), **credit})]
    style = _json_or_none(meta.get("style_source"))
    if isinstance(style, dict):
        parts += ["<h3>Style image</h3>", h.credit(style)]
    parts += ["<h3>Model metadata</h3>", h.table(dict(sorted(meta.items())))]
    if config:
        try:
            parts += ["<h3>Training config</h3>", h.json_block(json.loads(config))]
        except json.JSONDecodeError:
            parts += ["<h3>Training config</h3>", f"<pre>{h.esc(config)}</pre>"]
    return parts, grid


def _json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def model_page(src: Path, out: Path, slug: str, opts: Options) -> Entry:
    parts, grid = _model_section(src, out, slug, opts)
    title = f"model: {src.name}"
    intro = f"<p>Exported model <code>{h.esc(src.name)}</code>; render it with " \
            f"<code>artengine render {h.esc(src.name)} --out DIR --seed {opts.seed}</code>.</p>"
    atomic.write_text(out / f"{slug}.html", h.page(title, intro + "".join(parts)))
    return Entry(title, "exported model", f"{slug}.html", grid, "ONNX, rendered with onnxruntime")


# -- style results -------------------------------------------------------------
def style_page(src: Path, out: Path, slug: str, opts: Options) -> Entry:
    data = json.loads(src.read_text(encoding="utf-8"))
    base = src.parent
    image = copy_asset(base / str(data.get("image", "")), out, f"{slug}/result.png")
    parts = []
    if image:
        parts.append(h.figure(image, f"result {data.get('width', '?')}x{data.get('height', '?')}"))
    else:
        parts.append("<p>(result image missing)</p>")
    content = data.get("content") or {}
    styles = data.get("styles") or []
    sources = [("content", content)] + [(f"style {i + 1}", s) for i, s in enumerate(styles) if isinstance(s, dict)]
    figures, credits = [], []
    for i, (label, ref) in enumerate(sources):
        if not isinstance(ref, dict):
            continue
        path = Path(str(ref.get("path", "")))
        rel = copy_asset(path if path.is_absolute() else base / path, out,
                         f"{slug}/source-{i}{path.suffix.lower() if path.suffix.lower() in IMAGE_SUFFIXES else '.png'}")
        caption = f"{label}: {ref.get('title') or ref.get('name') or path.name}"
        if ref.get("weight") not in (None, 1, 1.0):
            caption += f" (weight {ref['weight']})"
        if rel:
            figures.append(h.figure(rel, caption, width=240))
        credits.append(h.credit({"name": label, **{k: ref.get(k) for k in ("title", "source", "license")}}))
    if figures:
        parts += ["<h2>Sources</h2>"] + figures
    animation = data.get("animation")
    if animation:
        rel = copy_asset(base / str(animation), out, f"{slug}/optimization{Path(str(animation)).suffix.lower()}")
        if rel:
            parts += ["<h2>Optimization</h2>", h.figure(rel, "the image during optimization")]
    snaps = [s for s in data.get("snapshots") or [] if isinstance(s, dict) and s.get("path")]
    for snap in snaps[-6:]:
        rel = copy_asset(base / str(snap["path"]), out, f"{slug}/snapshot-{int(snap.get('step', 0)):05d}.png")
        if rel:
            parts.append(h.figure(rel, f"step {snap.get('step')}", width=160))
    if data.get("loss_history"):
        parts += ["<h2>Loss curves</h2>", charts(list(data["loss_history"]))]
    if data.get("losses"):
        parts += ["<h2>Final losses</h2>", h.table(data["losses"])]
    if credits:
        parts += ["<h2>Credits</h2>"] + credits
    if data.get("settings"):
        parts += ["<h2>Settings</h2>", h.table(data["settings"])]
    for key, label in (("timings", "Timings"), ("features", "Feature network"), ("versions", "Versions")):
        if isinstance(data.get(key), dict):
            parts += [f"<h2>{label}</h2>", h.table(_flatten(data[key]))]
    title = f"style: {src.stem}"
    atomic.write_text(out / f"{slug}.html", h.page(title, "".join(parts)))
    summary = f"{content.get('title') or content.get('name') or 'content'} in the style of " + \
        ", ".join(str(s.get("title") or s.get("name") or "?") for s in styles if isinstance(s, dict))
    return Entry(title, "style transfer", f"{slug}.html", image, summary)


BUILDERS = {"run": run_page, "model": model_page, "style": style_page}


def build_gallery(sources: list[str | Path], out: str | Path, *, n: int = 36, seed: int = 0, interpolate: int = 4,
                  frames: int = 12, photos: str | Path | None = None, provider: str = "cpu",
                  title: str = "artengine gallery") -> Path:
    """Build the site into ``out``; returns the path of ``index.html``."""
    out = Path(out)
    found: list[Source] = collect([Path(s) for s in sources])
    out.mkdir(parents=True, exist_ok=True)
    rebuilding = (out / "index.html").is_file()  # only an earlier gallery's page folders are replaced
    opts = Options(n=n, seed=seed, interpolate=interpolate, frames=frames,
                   photos=Path(photos) if photos else None, provider=provider)
    taken: set[str] = set()
    entries = []
    for src in found:
        slug = slugify(f"{src.kind}-{src.path.stem if src.kind != 'run' else src.path.name}", taken)
        if (out / slug).exists():
            if not (rebuilding and (out / slug).is_dir()):
                raise ArtengineError(f"{str(out / slug)!r} already exists and was not made by a gallery build",
                                     hint="pick another --out folder")
            shutil.rmtree(out / slug)
        entries.append(BUILDERS[src.kind](src.path, out, slug, opts))
    cards = []
    for e in entries:
        smooth = ' class="photo"' if e.kind == "style transfer" else ""
        img = f'<img src="{h.esc(e.thumb)}" alt="{h.esc(e.title)}"{smooth}>' if e.thumb else ""
        cards.append(f'<a class="card" href="{h.esc(e.page)}">{img}<div><b>{h.esc(e.title)}</b></div>'
                     f'<div class="kind">{h.esc(e.kind)}</div><div>{h.esc(e.summary)}</div></a>')
    from .. import __version__

    body = (f'<p>{len(entries)} item(s), built by artengine {h.esc(__version__)}. Opens from the file system; '
            f'no server needed.</p><div class="cards">{"".join(cards)}</div>')
    index = out / "index.html"
    atomic.write_text(index, h.page(title, body, home=None))
    return index
