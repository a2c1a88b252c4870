"""A training run's page: the timeline of sample grids, the exported model, the evaluation in words,
the curves, the dataset credit, and the config folded at the bottom."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import ArtengineError
from . import html as h
from . import words
from .entries import Builder, Entry, Work, as_dict, flatten
from .eval_section import checkpoint_curve, closest_pairs
from .model_page import model_section
from .svg import charts
from .transparency import alpha_class

MAX_TIMELINE_FRAMES = 48
MAX_ANIMATION_FRAMES = 24


def run_page(b: Builder, src: Path, slug: str) -> Entry:
    """The page of the run folder ``src``; its pictures go under ``slug/``."""
    from ..rundir import RunDir

    run = RunDir(src)
    config = run.read_config()
    if not isinstance(config, dict):
        raise ArtengineError(f"{run.config_path} is not a JSON object")
    metrics = [r for r in run.read_metrics() if isinstance(r, dict)]
    dataset = str(as_dict(config.get("dataset")).get("name", ""))
    recipe = str(config.get("recipe", "run"))
    title = f"{recipe} on {dataset}: {src.name}" if dataset else f"{recipe}: {src.name}"
    frames, steps = _sample_grids(b, src, run.samples_dir, slug)
    works: list[Work] = []
    parts: list[str] = []
    facts = _run_facts(config, metrics)
    parent = _parent(config, run.checkpoints_dir)
    latents = f"the run's fixed latents (seed {config.get('seed', 0)})"
    alpha = alpha_class(any(f in b.transparent for f in frames))
    if parent:
        parts.append(f'<p class="parent">{h.esc(parent)}</p>')
    if frames:
        animation = _animation(b, frames, f"{slug}/training.gif", keep_alpha=bool(alpha))
        parts.append(h.timeline(frames, steps, animation=animation, cls=alpha))
        works.append(Work(h.image(frames[-1], f"{title}: samples at step {steps[-1]}",
                                  caption=f"{title}\nsamples at step {steps[-1]} from {latents} · {facts}",
                                  cls=alpha), f"samples at step {steps[-1]}"))
        if animation:
            works.append(Work(h.image(animation, f"{title}: training", caption=f"{title}\nthe same latents "
                                      f"over training, step {steps[0]} to {steps[-1]}", cls=alpha),
                              f"training, step {steps[0]} to {steps[-1]}"))
    else:
        parts.append("<p>(no sample grids yet: they appear in samples/ every sample_every steps)</p>")
    model_bottom: list[str] = []
    for model in sorted(src.glob("*.onnx"))[:1]:
        model_parts, model_works, model_bottom = model_section(b, model, f"{slug}/model", title)
        model_bottom = [p for p in model_bottom if p.startswith("<details")]  # the run credits its data
        parts += ["<h2>The exported model</h2>"] + model_parts
        works += model_works
    ev = as_dict(run.read_json("eval.json")) or next(
        (r for r in reversed(metrics) if r.get("event") == "eval"), {})
    if ev:
        parts += ["<h2>How good is it?</h2>", h.bullets(words.describe_eval(ev, dataset))]
        parts += closest_pairs(b, src, ev, slug)
    parts += checkpoint_curve(src)
    parts += ["<h2>Training curves</h2>", charts(metrics)]
    credit = h.credit(_dataset_credit(config))
    parts += ["<h2>Dataset</h2>", credit or "<p>(no dataset information)</p>"]
    if ev:
        parts.append(h.folded("All evaluation numbers", h.table(flatten(ev))))
    parts += model_bottom
    parts.append(h.folded("Versions", h.table(as_dict(config.get("versions")))))
    parts.append(h.folded("Config", h.json_block({k: v for k, v in config.items() if k != "versions"})))
    b.put(f"{slug}.html", h.page(title, "".join(parts), lede=facts))
    head = words.headline(ev, dataset) if ev else ""
    column = ""
    if frames:
        column = (f'<div class="col">{h.image(frames[-1], title, caption=f"{title}: step {steps[-1]}", cls=alpha)}'
                  f'<b><a href="{h.esc(slug)}.html">{h.esc(title)}</a></b><dl>'
                  + "".join(f"<dt>{h.esc(k)}</dt><dd>{h.esc(v)}</dd>"
                            for k, v in _run_table(config, metrics, head, parent)) + "</dl></div>")
    return Entry(title, "training run", f"{slug}.html", "; ".join(s for s in (facts, head) if s), works, column)


def _sample_grids(b: Builder, run_dir: Path, folder: Path, slug: str) -> tuple[list[str], list[int]]:
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
        rel = b.copy_image(run_dir, str(path.absolute()), f"{slug}/step-{step:09d}",  # RUN may be relative
                           what=f"sample grid {path.name}")
        if rel:
            frames.append(rel)
            steps.append(step)
    return frames, steps


def _animation(b: Builder, frames: list[str], rel: str, *, keep_alpha: bool = False) -> str | None:
    """A looping GIF of the sample grids (the last one held longer); ``keep_alpha``: transparent
    pixels stay transparent (GIF has one transparent colour, so semi-transparent ones turn opaque)."""
    if len(frames) < 2:
        return None
    chosen = frames[:: max(1, len(frames) // MAX_ANIMATION_FRAMES)][:MAX_ANIMATION_FRAMES - 1] + [frames[-1]]
    images = []
    for frame in dict.fromkeys(chosen):
        with Image.open(b.site.path(frame)) as img:
            images.append(img.convert("RGBA" if keep_alpha else "RGB"))
    size = images[-1].size
    images = [im if im.size == size else im.resize(size, Image.NEAREST) for im in images]
    buf = io.BytesIO()
    durations = [300] * (len(images) - 1) + [1500]
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0,
                   disposal=2 if keep_alpha else 0)  # 2: each frame replaces the last, holes included
    return b.put(rel, buf.getvalue())


def _dataset_credit(config: dict[str, Any]) -> dict[str, Any]:
    info = dict(as_dict(config.get("dataset_info")))
    info.setdefault("name", as_dict(config.get("dataset")).get("name", ""))
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


def _parent(config: dict[str, Any], checkpoints: Path) -> str:
    """"fine-tuned from RUN (checkpoint)" for a run started with ``--init-from``, else ""."""
    value = as_dict(config.get("trainer")).get("init_from")
    if not isinstance(value, str) or not value.strip():
        return ""
    match = re.fullmatch(r"(.+):(step-\d+)", value)
    run, checkpoint = (match.group(1), match.group(2)) if match else (value, "")
    step = _parent_step(checkpoints)
    which = checkpoint or (f"its checkpoint at step {step}" if step is not None else "its latest checkpoint")
    return f"fine-tuned from {run} ({which})"


def _parent_step(checkpoints: Path) -> int | None:
    """The parent's step, as the run's newest checkpoint recorded it (trainer.init_from.step)."""
    names = sorted(checkpoints.glob("step-*.json")) if checkpoints.is_dir() else []
    try:
        meta = json.loads(names[-1].read_text(encoding="utf-8")) if names else {}
    except (OSError, ValueError):
        return None
    step = as_dict(as_dict(as_dict(meta).get("trainer")).get("init_from")).get("step")
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _run_table(config: dict[str, Any], metrics: list[dict[str, Any]], head: str,
               parent: str = "") -> list[tuple[str, str]]:
    rows = _training_rows(metrics)
    last = rows[-1] if rows else {}
    out = [("dataset", str(as_dict(config.get("dataset")).get("name", ""))), ("size", f"{config.get('image_size')} px"),
           ("steps", str(last.get("step", "?")))]
    for key in ("loss_g", "loss_d", "aug_p"):
        if isinstance(last.get(key), (int, float)):
            out.append((key.replace("_", " "), f"{last[key]:.3g}"))
    if parent:
        out.append(("started", parent))
    if head:
        out.append(("quality", head))
    return out
