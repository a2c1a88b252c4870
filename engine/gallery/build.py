"""Build the site: one page per source, then a front page that shows the work first.

Each source is built into a staging folder (:mod:`.site`); a source that cannot be read is
skipped with a warning and the rest is built. Every file copied from a source goes through
:mod:`.safety` first.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from ..errors import ArtengineError
from . import html as h
from . import words
from .safety import UnsafeSourceError, checked_image
from .site import StagedSite
from .sources import Source, collect
from .svg import charts

ASSET_DIR = Path(__file__).resolve().parent / "assets"
MAX_TIMELINE_FRAMES = 48
MAX_ANIMATION_FRAMES = 24
MAX_MODEL_BYTES = 200 * 1024 * 1024
#: errors that mean "this source cannot be read", not "artengine has a bug"
SOURCE_ERRORS = (ArtengineError, OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError,
                 UnidentifiedImageError)


@dataclass
class Work:
    """One piece on the front page: a picture, an animation or a before/after slider."""

    media: str
    caption: str


@dataclass
class Entry:
    """What one source contributes to the front page."""

    title: str
    kind: str
    page: str
    summary: str
    works: list[Work] = field(default_factory=list)
    column: str = ""  # the run's column when several runs are shown side by side


@dataclass
class Options:
    n: int = 36
    seed: int = 0
    interpolate: int = 4
    frames: int = 12
    photos: Path | None = None
    provider: str = "cpu"
    warn: Callable[[str], None] = print


def slugify(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "item"
    slug, i = base, 2
    while slug in taken or slug in ("index", "assets"):
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _flatten(obj: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in obj.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Builder:
    """Builds pages into a staged site; one instance per ``gallery build``."""

    def __init__(self, site: StagedSite, opts: Options):
        self.site = site
        self.opts = opts

    def put(self, rel: str, data: bytes | str) -> str:
        path = self.site.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return rel

    def copy_image(self, base: Path, ref: object, rel_stem: str, *, what: str, builtin_ok: bool = False) -> str | None:
        """Copy a checked source image to ``rel_stem`` + its real suffix; a refusal is a warning."""
        try:
            data, suffix = checked_image(base, ref, what=what, builtin_ok=builtin_ok)
        except UnsafeSourceError as exc:
            self.opts.warn(f"warning: {exc}")
            return None
        return self.put(rel_stem + suffix, data)

    # -- runs -----------------------------------------------------------------
    def run(self, src: Path, slug: str) -> Entry:
        from ..rundir import RunDir

        run = RunDir(src)
        config = run.read_config()
        if not isinstance(config, dict):
            raise ArtengineError(f"{run.config_path} is not a JSON object")
        metrics = [r for r in run.read_metrics() if isinstance(r, dict)]
        dataset = str(_dict(config.get("dataset")).get("name", ""))
        recipe = str(config.get("recipe", "run"))
        title = f"{recipe} on {dataset}: {src.name}" if dataset else f"{recipe}: {src.name}"
        frames, steps = self._sample_grids(src, run.samples_dir, slug)
        works: list[Work] = []
        parts: list[str] = []
        facts = _run_facts(config, metrics)
        latents = f"the run's fixed latents (seed {config.get('seed', 0)})"
        if frames:
            animation = self._animation(frames, f"{slug}/training.gif")
            parts.append(h.timeline(frames, steps, animation=animation))
            works.append(Work(h.image(frames[-1], f"{title}: samples at step {steps[-1]}",
                                      caption=f"{title}\nsamples at step {steps[-1]} from {latents} · {facts}"),
                              f"samples at step {steps[-1]}"))
            if animation:
                works.append(Work(h.image(animation, f"{title}: training", caption=f"{title}\nthe same latents "
                                          f"over training, step {steps[0]} to {steps[-1]}"),
                                  f"training, step {steps[0]} to {steps[-1]}"))
        else:
            parts.append("<p>(no sample grids yet: they appear in samples/ every sample_every steps)</p>")
        model_bottom: list[str] = []
        for model in sorted(src.glob("*.onnx"))[:1]:
            model_parts, model_works, model_bottom = self._model_section(model, f"{slug}/model", title)
            model_bottom = [p for p in model_bottom if p.startswith("<details")]  # the run credits its data
            parts += ["<h2>The exported model</h2>"] + model_parts
            works += model_works
        ev = _dict(run.read_json("eval.json")) or next(
            (r for r in reversed(metrics) if r.get("event") == "eval"), {})
        if ev:
            parts += ["<h2>How good is it?</h2>", h.bullets(words.describe_eval(ev, dataset))]
        parts += ["<h2>Training curves</h2>", charts(metrics)]
        credit = h.credit(_dataset_credit(config))
        parts += ["<h2>Dataset</h2>", credit or "<p>(no dataset information)</p>"]
        if ev:
            parts.append(h.folded("All evaluation numbers", h.table(_flatten(ev))))
        parts += model_bottom
        parts.append(h.folded("Versions", h.table(_dict(config.get("versions")))))
        parts.append(h.folded("Config", h.json_block({k: v for k, v in config.items() if k != "versions"})))
        self.put(f"{slug}.html", h.page(title, "".join(parts), lede=facts))
        head = words.headline(ev, dataset) if ev else ""
        column = ""
        if frames:
            column = (f'<div class="col">{h.image(frames[-1], title, caption=f"{title}: step {steps[-1]}")}'
                      f'<b><a href="{h.esc(slug)}.html">{h.esc(title)}</a></b><dl>'
                      + "".join(f"<dt>{h.esc(k)}</dt><dd>{h.esc(v)}</dd>"
                                for k, v in _run_table(config, metrics, head)) + "</dl></div>")
        return Entry(title, "training run", f"{slug}.html", "; ".join(s for s in (facts, head) if s), works, column)

    def _sample_grids(self, run_dir: Path, folder: Path, slug: str) -> tuple[list[str], list[int]]:
        found = []
        for path in folder.glob("*") if folder.is_dir() else []:
            match = re.search(r"(\d+)", path.stem)
            if match and path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
                found.append((int(match.group(1)), path))
        found.sort()
        if len(found) > MAX_TIMELINE_FRAMES:  # evenly spaced, always with the last
            pick = {round(i * (len(found) - 1) / (MAX_TIMELINE_FRAMES - 1)) for i in range(MAX_TIMELINE_FRAMES)}
            found = [found[i] for i in sorted(pick)]
        frames, steps = [], []
        for step, path in found:
            rel = self.copy_image(run_dir, str(path), f"{slug}/step-{step:09d}", what=f"sample grid {path.name}")
            if rel:
                frames.append(rel)
                steps.append(step)
        return frames, steps

    def _animation(self, frames: list[str], rel: str) -> str | None:
        """A looping GIF of the sample grids (the last one held longer)."""
        if len(frames) < 2:
            return None
        chosen = frames[:: max(1, len(frames) // MAX_ANIMATION_FRAMES)][:MAX_ANIMATION_FRAMES - 1] + [frames[-1]]
        images = []
        for frame in dict.fromkeys(chosen):
            with Image.open(self.site.path(frame)) as img:
                images.append(img.convert("RGB"))
        size = images[-1].size
        images = [im if im.size == size else im.resize(size, Image.NEAREST) for im in images]
        buf = io.BytesIO()
        durations = [300] * (len(images) - 1) + [1500]
        images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
        return self.put(rel, buf.getvalue())

    # -- models ---------------------------------------------------------------
    def _model_section(self, path: Path, folder: str, owner: str) -> tuple[list[str], list[Work], list[str]]:
        """The model's pictures and download (shown), and its metadata and config (for the bottom)."""
        from ..render import render
        from ..runtime import load_model

        opts = self.opts
        model = load_model(path, provider=opts.provider)
        meta = dict(model.metadata)
        parts: list[str] = []
        works: list[Work] = []
        settings = " · ".join(f"{k} {meta[k]}" for k in ("recipe", "dataset", "step", "image_size") if meta.get(k))
        if model.kind == "generator":
            result = render(path, self.site.path(folder), n=opts.n, seed=opts.seed, interpolate=opts.interpolate,
                            frames=opts.frames, provider=opts.provider, formats=("gif",), singles=False)
            self.site.path(f"{folder}/render.json").unlink(missing_ok=True)  # absolute paths; the page says it
            grid = f"{folder}/{result.grid}"
            details = (f"model {path.name} · seed {opts.seed} · {opts.n} samples · {settings}\n"
                       f"regenerate: artengine render {path.name} --seed {opts.seed} --n {opts.n}")
            parts.append('<div class="hero">' + h.figure(grid, f"{opts.n} new samples, seed {opts.seed}",
                                                         details=details))
            works.append(Work(h.image(grid, f"{owner}: samples", caption=f"{owner}\n{details}"),
                              f"{opts.n} samples from the exported model, seed {opts.seed}"))
            for anim in result.animations:
                walk = f"{folder}/{anim}"
                about = (f"a latent walk through {opts.interpolate} seeds from {opts.seed}, {opts.frames} frames "
                         f"between each (spherical interpolation)")
                parts.append(h.figure(walk, about, details=f"model {path.name} · {settings}"))
                works.append(Work(h.image(walk, f"{owner}: latent walk", caption=f"{owner}\n{about}"), about))
            parts.append("</div>")
        elif opts.photos is not None:
            result = render(path, self.site.path(folder), source=opts.photos, provider=opts.provider)
            self.site.path(f"{folder}/render.json").unlink(missing_ok=True)
            grid = f"{folder}/{result.grid}"
            parts.append(h.figure(grid, "photos (left) and the model's results (right)", pixelated=False))
            works.append(Work(h.image(grid, f"{owner}: results", pixelated=False), "photos and results"))
        else:
            parts.append("<p>An image-to-image model: pass <code>--photos FOLDER</code> to show results here, "
                         f"or try it live with <code>artengine serve {h.esc(path.name)}</code>.</p>")
        size = path.stat().st_size
        if size <= MAX_MODEL_BYTES:
            rel = self.put(f"{folder}/{_safe_name(path.name)}", path.read_bytes())
            parts.append(f'<p>Download <a href="{h.esc(rel)}" download>{h.esc(path.name)}</a> '
                         f"({size / 1e6:.1f} MB, ONNX; runs with onnxruntime alone). Explore it live: "
                         f"<code>artengine serve {h.esc(path.name)}</code>, or <code>artengine serve</code> on this "
                         "gallery's folder.</p>")
        config = meta.pop("config", None)
        credit = {k[len("dataset_"):]: v for k, v in meta.items() if k.startswith("dataset_")}
        style = _json_or_none(meta.get("style_source"))
        credits = [h.credit({"name": meta.get("dataset", ""), **credit})] if credit else []
        if isinstance(style, dict):
            credits.append(h.credit({"name": "style image", **style}))
        bottom = [h.folded("Model metadata", h.table(dict(sorted(meta.items()))))]
        if config:
            parsed = _json_or_none(config)
            bottom.append(h.folded("Training config", h.json_block(parsed) if parsed is not None
                                   else f"<pre>{h.esc(config)}</pre>"))
        return parts, works, (["<h2>Credits</h2>"] + credits if credits else []) + bottom

    def model(self, src: Path, slug: str) -> Entry:
        title = f"model: {src.name}"
        parts, works, bottom = self._model_section(src, slug, title)
        parts += bottom
        intro = (f"<p>Exported model <code>{h.esc(src.name)}</code>; render it with "
                 f"<code>artengine render {h.esc(src.name)} --out DIR --seed {self.opts.seed}</code>.</p>")
        self.put(f"{slug}.html", h.page(title, intro + "".join(parts)))
        return Entry(title, "exported model", f"{slug}.html", "ONNX, rendered with onnxruntime", works)

    # -- style results ----------------------------------------------------------
    def style(self, src: Path, slug: str) -> Entry:
        data = json.loads(src.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ArtengineError(f"{src} is not a style result (not a JSON object)")
        base = src.parent
        image = self.copy_image(base, data.get("image"), f"{slug}/result", what=f"{src.name}: image")
        if image is None:
            raise UnsafeSourceError(f"{src.name}: its result image cannot be shown")
        content = _dict(data.get("content"))
        styles = [s for s in data.get("styles") or [] if isinstance(s, dict)]
        content_name = str(content.get("title") or content.get("name") or "content")
        style_names = ", ".join(str(s.get("title") or s.get("name") or "?") for s in styles)
        title = f"style: {src.stem}"
        summary = f"{content_name} in the style of {style_names}" if style_names else content_name
        before = None
        if content.get("path"):
            before = self.copy_image(base, content.get("path"), f"{slug}/content", what=f"{src.name}: content.path",
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
            rel = self.copy_image(base, ref.get("path"), f"{slug}/style-{i}", what=f"{src.name}: styles[{i}].path",
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
            rel = self.copy_image(base, animation, f"{slug}/optimization", what=f"{src.name}: animation")
            if rel:
                parts += ["<h2>The optimization</h2>", h.figure(rel, "the image during optimization",
                                                                pixelated=False)]
        snaps = [s for s in data.get("snapshots") or [] if isinstance(s, dict) and s.get("path")]
        strip = []
        for snap in snaps[-8:]:
            step = snap.get("step") if isinstance(snap.get("step"), int) else 0
            rel = self.copy_image(base, snap["path"], f"{slug}/snapshot-{step:05d}",
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
                parts.append(h.folded(label, h.table(_flatten(data[key]))))
        self.put(f"{slug}.html", h.page(title, "".join(parts), lede=summary))
        return Entry(title, "style transfer", f"{slug}.html", summary, [work])

    def build(self, src: Source, slug: str) -> Entry:
        return {"run": self.run, "model": self.model, "style": self.style}[src.kind](src.path, slug)


# -- helpers ---------------------------------------------------------------------
def _safe_name(name: str) -> str:
    stem, dot, suffix = Path(name).name.rpartition(".")
    clean = re.sub(r"[^A-Za-z0-9_-]+", "-", stem if dot else name).strip("-") or "file"
    return f"{clean}.{suffix.lower()}" if dot else clean


def _json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def _dataset_credit(config: dict[str, Any]) -> dict[str, Any]:
    info = dict(_dict(config.get("dataset_info")))
    info.setdefault("name", _dict(config.get("dataset")).get("name", ""))
    if not any(info.get(k) for k in ("source", "license", "credit")):
        from ..export.metadata import dataset_credit

        info.update(dataset_credit(config))
    return info


def _training_rows(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in metrics if "event" not in r and isinstance(r.get("step"), int)]


def _run_facts(config: dict[str, Any], metrics: list[dict[str, Any]]) -> str:
    rows = _training_rows(metrics)
    parts = [f"{config.get('image_size', '?')} px"]
    if rows:
        parts.append(f"{rows[-1]['step']} steps")
        elapsed = rows[-1].get("elapsed")
        if isinstance(elapsed, (int, float)):
            parts.append(f"{elapsed / 60:.1f} min of training")
    return " · ".join(parts)


def _run_table(config: dict[str, Any], metrics: list[dict[str, Any]], head: str) -> list[tuple[str, str]]:
    rows = _training_rows(metrics)
    last = rows[-1] if rows else {}
    out = [("dataset", str(_dict(config.get("dataset")).get("name", ""))), ("size", f"{config.get('image_size')} px"),
           ("steps", str(last.get("step", "?")))]
    for key in ("loss_g", "loss_d", "aug_p"):
        if isinstance(last.get(key), (int, float)):
            out.append((key.replace("_", " "), f"{last[key]:.3g}"))
    if head:
        out.append(("quality", head))
    return out


def _front_page(entries: list[Entry], skipped: list[str], title: str) -> str:
    from .. import __version__

    tiles = []
    for e in entries:
        for w in e.works:
            media_cls = "media compare-media" if 'class="compare"' in w.media else "media"
            tiles.append(f'<article class="work"><div class="{media_cls}">{w.media}</div><div class="about">'
                         f'<div class="kind">{h.esc(e.kind)}</div><b><a href="{h.esc(e.page)}">{h.esc(e.title)}</a>'
                         f'</b><div class="summary">{h.esc(w.caption)}</div></div></article>')
        if not e.works:
            tiles.append(f'<article class="work"><div class="about"><div class="kind">{h.esc(e.kind)}</div>'
                         f'<b><a href="{h.esc(e.page)}">{h.esc(e.title)}</a></b><div class="summary">'
                         f'{h.esc(e.summary)}</div></div></article>')
    body = f'<section class="works">{"".join(tiles)}</section>'
    columns = [e.column for e in entries if e.column]
    if len(columns) > 1:
        body += f'<h2>Runs side by side</h2><section class="side">{"".join(columns)}</section>'
    body += "<h2>Everything here</h2><ul>" + "".join(
        f'<li><a href="{h.esc(e.page)}">{h.esc(e.title)}</a> <span class="note">({h.esc(e.kind)}: '
        f"{h.esc(e.summary)})</span></li>" for e in entries) + "</ul>"
    if skipped:
        body += ('<p class="skipped">Skipped (could not be read): '
                 + "; ".join(h.esc(s) for s in skipped) + "</p>")
    body += (f'<p class="note">Built by artengine {h.esc(__version__)}. This folder opens from the file system, '
             "offline. Explore the models live: <code>artengine serve</code> with this folder.</p>")
    kinds = {}
    for e in entries:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    lede = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in kinds.items())
    return h.page(title, body, home=None, lede=lede)


def build_gallery(sources: list[str | Path], out: str | Path, *, n: int = 36, seed: int = 0, interpolate: int = 4,
                  frames: int = 12, photos: str | Path | None = None, provider: str = "cpu",
                  title: str = "artengine gallery", warn: Callable[[str], None] | None = None) -> Path:
    """Build the site into ``out``; returns the path of ``index.html``.

    A source that cannot be read is skipped with a warning; when none can be, nothing is written."""
    import sys

    warn = warn or (lambda text: print(text, file=sys.stderr))
    out = Path(out)
    found: list[Source] = collect([Path(s) for s in sources])
    opts = Options(n=n, seed=seed, interpolate=interpolate, frames=frames,
                   photos=Path(photos) if photos else None, provider=provider, warn=warn)
    site = StagedSite(out)
    try:
        builder = Builder(site, opts)
        taken: set[str] = set()
        entries, skipped, reasons = [], [], []
        for src in found:
            slug = slugify(f"{src.kind}-{src.path.stem if src.kind != 'run' else src.path.name}", taken)
            try:
                entries.append(builder.build(src, slug))
            except SOURCE_ERRORS as exc:
                site.remove(f"{slug}.html")
                site.remove(slug)
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                warn(f"warning: skipped {src.path}: {reason}")
                skipped.append(src.path.name)
                reasons.append(f"{src.path}: {reason}")
        if not entries:
            raise ArtengineError("no gallery source could be read: " + "; ".join(reasons),
                                 hint="see the warnings above; nothing was written")
        for asset in h.ASSETS:
            builder.put(f"assets/{asset}", (ASSET_DIR / asset).read_bytes())
        builder.put("index.html", _front_page(entries, skipped, title))
        site.commit()
    finally:
        site.discard()
    return out / "index.html"

