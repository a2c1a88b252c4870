"""`artengine render`: contact sheets, single PNGs and interpolation animations from an ONNX model.

Uses :mod:`artengine.runtime` only (onnxruntime + numpy + Pillow), never torch, so a
render starts in well under a second. Every PNG records model, seed and latent index
in its text chunks; ``latent(seed, index)`` regenerates it exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import atomic
from .errors import ArtengineError
from .runtime import interpolation_path, latent, latents, load_model
from .runtime.controls import feeds_for
from .runtime.images import grid, load_image, save_animation, save_png, to_uint8, upscale
from .runtime.wspace import StyleSpace, w_path
from .writable import ensure_writable_dir

PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}
#: grid.png shows at most this many images (the first ones); every image still gets its own PNG
GRID_MAX = 256
#: float32 model output held at once while rendering (render memory does not grow with --n)
CHUNK_BYTES = 64 << 20


@dataclass
class RenderResult:
    """Files a render wrote (paths relative to its output folder) and the settings used."""

    out: Path
    grid: str | None = None
    images: list[str] = field(default_factory=list)
    animations: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # further contact sheets (e.g. style-mix.png)
    manifest: dict[str, Any] = field(default_factory=dict)


def _photos(source: Path) -> list[Path]:
    if source.is_dir():
        found = sorted(p for p in source.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    elif source.is_file():
        found = [source]
    else:
        raise ArtengineError(f"--input {str(source)!r} does not exist")
    if not found:
        raise ArtengineError(f"--input {str(source)!r} holds no images ({', '.join(sorted(PHOTO_SUFFIXES))})")
    return found


def _chunk_size(model) -> int:
    """Images per generate/write/drop round: at most CHUNK_BYTES of float32 output at a time."""
    side = model.image_size or 256
    return max(1, min(GRID_MAX, CHUNK_BYTES // (4 * model.channels * side * side)))


def _render_generator(model, out: Path, result: RenderResult, *, n: int, seed: int, truncation: float,
                      interpolate: int, frames: int, fps: int, formats: tuple[str, ...], singles: bool,
                      controls: dict[str, Any] | None = None, styles: StyleSpace | None = None) -> None:
    """The grid, single PNGs and the walk (in W through ``styles`` when given, else a z slerp).

    Streams: generate a chunk, write its PNGs, drop it; only the grid's first GRID_MAX images are
    kept, so memory does not grow with ``n``."""
    base = {"artengine.model": model.path.name, "artengine.seed": str(seed),
            "artengine.truncation": f"{truncation:g}", "artengine.config_hash": model.metadata.get("config_hash", "")}
    shown = min(n, GRID_MAX)
    sheet: list[np.ndarray] = []
    chunk = _chunk_size(model)
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        z = latents(seed, count, model.latent_dim, truncation, start=start)
        pixels = to_uint8(model.generate(z, controls=controls))
        if result.grid is None:
            sheet.extend(img.copy() for img in pixels[:shown - len(sheet)])  # copies: the chunk is dropped
            if len(sheet) == shown:
                # The contact sheet first: it is what a user looks at (and the cold-start target's "first PNG").
                save_png(out / "grid.png", grid(np.stack(sheet)),
                         {**base, "artengine.count": str(shown), "artengine.total": str(n)})
                result.grid = "grid.png"
                sheet.clear()
        if not singles:
            if result.grid is not None:
                break  # nothing more to write
            continue
        for i, img in enumerate(pixels, start=start):
            name = f"images/seed{seed}-{i:04d}.png"
            save_png(out / name, img, {**base, "artengine.index": str(i)})
            result.images.append(name)
    if interpolate >= 2:
        keys = np.stack([latent(seed + k, 0, model.latent_dim, truncation) for k in range(interpolate)])
        if styles is not None:
            pics = to_uint8(styles.images(w_path(styles.w(keys, controls), frames)))
        else:
            pics = to_uint8(model.generate(interpolation_path(keys, frames), controls=controls))
        big = [upscale(p, 128) for p in pics]
        for fmt in formats:
            name = f"interpolation-seed{seed}-k{interpolate}.{fmt}"
            save_animation(out / name, big, fps=fps)
            result.animations.append(name)
    result.manifest.update({"n": n, "seed": seed, "truncation": truncation, "interpolate": interpolate,
                            "frames": frames, "grid_count": shown,
                            "latent": "numpy default_rng([seed, index]).standard_normal",
                            "controls": {k: float(v) for k, v in (controls or {}).items()},
                            "interpolation_space": "w" if styles is not None else "z"})


def _render_style_mix(model, styles: StyleSpace, out: Path, result: RenderResult, *, rows: list[int],
                      cols: list[int], crossover: int, controls: dict[str, Any] | None) -> None:
    """style-mix.png: row seeds' coarse layers with column seeds' fine ones."""
    k = crossover
    images = to_uint8(styles.style_mix_grid(rows, cols, k, controls))
    save_png(out / "style-mix.png", grid(images, ncol=len(cols) + 1),
             {"artengine.model": model.path.name, "artengine.rows": ",".join(map(str, rows)),
              "artengine.cols": ",".join(map(str, cols)), "artengine.crossover": str(k)})
    result.sheets.append("style-mix.png")
    result.manifest["style_mix"] = {"rows": rows, "cols": cols, "crossover": k, "num_ws": styles.num_ws}


def _walk_space(model, space: str) -> str:
    """auto: W when the model was exported with its mapping and synthesis parts, else z."""
    if space == "auto":
        return "w" if {"mapping", "synthesis"} <= set(model.part_paths()) else "z"
    return space


def _render_image_to_image(model, out: Path, result: RenderResult, *, source: Path, max_side: int) -> None:
    """One photo at a time; only the grid's thumbnails (of the first GRID_MAX photos) are kept."""
    side = 160
    pairs = []
    for i, photo in enumerate(_photos(source)):
        content = load_image(photo, max_side)
        styled = to_uint8(model.stylize(content[None]))[0]
        name = f"images/{i:04d}-{photo.stem}.png"
        save_png(out / name, styled, {"artengine.model": model.path.name, "artengine.input": str(photo)})
        result.images.append(name)
        if len(pairs) < 2 * GRID_MAX:  # contact sheet: each input beside its result, thumbnails of one size
            pairs += [_thumb(to_uint8(content[None])[0], side), _thumb(styled, side)]
    save_png(out / "grid.png", grid(np.stack(pairs), ncol=2), {"artengine.model": model.path.name})
    result.grid = "grid.png"
    result.manifest.update({"input": str(source), "max_side": max_side})


def _thumb(image_hwc: np.ndarray, side: int) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(image_hwc)
    img.thumbnail((side, side))
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
    return np.asarray(canvas)


def render(model_path: str | Path, out: str | Path, *, n: int = 64, seed: int = 0, truncation: float = 0.0,
           interpolate: int = 0, frames: int = 24, fps: int = 12, provider: str = "cpu",
           formats: tuple[str, ...] = ("gif", "webp"), source: str | Path | None = None,
           max_side: int = 512, singles: bool = True, controls: dict[str, Any] | None = None,
           style_mix: tuple[list[int], list[int]] | None = None, crossover: int | None = None,
           space: str = "auto") -> RenderResult:
    """Render ``model_path`` into ``out``; writes ``render.json`` listing everything written.

    ``controls`` sets the model's declared extra inputs (e.g. ``{"psi": 0.7}``); ``style_mix`` (row
    seeds, column seeds) adds style-mix.png; ``space`` is where interpolation walks: z, w or auto."""
    ensure_writable_dir(out)
    if not math.isfinite(truncation):
        raise ArtengineError(f"--truncation {truncation} is not a finite number")
    model = load_model(model_path, provider=provider)
    out = Path(out)  # made by the first file written: a render that fails first leaves no folder
    result = RenderResult(out)
    if model.kind == "image-to-image":
        if source is None:
            raise ArtengineError(f"{Path(model_path).name} is an image-to-image model: pass --input PHOTO_OR_FOLDER")
        _render_image_to_image(model, out, result, source=Path(source), max_side=max_side)
    else:
        if n < 1:
            raise ArtengineError("--n must be at least 1")
        if interpolate and frames < 2:
            raise ArtengineError("--frames must be at least 2")
        if space not in ("auto", "z", "w"):
            raise ArtengineError(f"interpolation space {space!r} is not one of auto, z, w")
        if controls:  # refuse unknown names and bad values before anything is written
            feeds_for(model.extra_inputs, controls, 1, where=Path(model_path).name)
        walk_w = interpolate >= 2 and _walk_space(model, space) == "w"
        styles = StyleSpace.of(model, provider=provider) if (walk_w or style_mix is not None) else None
        if style_mix is not None:  # checked before anything is written
            crossover = styles.check_crossover(styles.num_ws // 2 if crossover is None else crossover)
        _render_generator(model, out, result, n=n, seed=seed, truncation=truncation, interpolate=interpolate,
                          frames=frames, fps=fps, formats=formats, singles=singles, controls=controls,
                          styles=styles if walk_w else None)
        if style_mix is not None:
            _render_style_mix(model, styles, out, result, rows=list(style_mix[0]), cols=list(style_mix[1]),
                              crossover=crossover, controls=controls)
    result.manifest.update({"model": str(model_path), "kind": model.kind,
                            "providers": model.providers, "metadata": model.metadata,
                            "grid": result.grid, "images": result.images, "animations": result.animations,
                            "sheets": result.sheets})
    atomic.write_json(out / "render.json", result.manifest)
    return result
