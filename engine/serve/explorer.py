"""What the explorer can do with a model: one image per (seed, index), a walk between two, a
stylized photo. The same latents as `artengine render` (:func:`artengine.runtime.latent`), so a
picture found here is reproduced by ``artengine render MODEL --seed S``."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ArtengineError
from ..runtime import latent, load_model, slerp
from ..runtime.images import png_bytes, to_pil, to_uint8, upscale

MAX_UPLOAD_PIXELS = 40_000_000
MAX_MODELS = 50
EXPLORABLE = ("generator", "image-to-image")


@dataclass
class Served:
    """One model the explorer offers."""

    id: int
    label: str
    model: Any

    def describe(self) -> dict[str, Any]:
        """What the page needs: kind, size, and a slider per declared extra input (runtime.controls)."""
        m = self.model
        meta = m.metadata
        return {"id": self.id, "name": self.label, "kind": m.kind, "image_size": m.image_size,
                "latent_dim": m.latent_dim, "channels": m.channels,
                "facts": {k: meta[k] for k in ("recipe", "dataset", "step", "style", "dataset_license") if meta.get(k)},
                "extra_inputs": [{**c.to_json(), "step": (c.max - c.min) / 100 or 0.01}
                                 for c in m.extra_inputs]}


def find_models(target: Path) -> list[Path]:
    """MODEL.onnx itself, or the .onnx files inside GALLERY_DIR (a gallery copies its models in)."""
    if target.is_file():
        return [target]
    found = sorted(p for p in target.rglob("*.onnx") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(target).parts))
    return found[:MAX_MODELS]


class Explorer:
    """The models behind one ``artengine serve``."""

    def __init__(self, paths: list[Path], *, root: Path | None = None, provider: str = "cpu",
                 warn: Any = print):
        self.models: list[Served] = []
        for path in paths:
            try:
                model = load_model(path, provider=provider)
            except ArtengineError as exc:
                warn(f"warning: skipped {path}: {str(exc).splitlines()[0]}")
                continue
            if model.kind not in EXPLORABLE:  # e.g. the mapping / synthesis parts exported beside a model
                continue
            label = str(path.relative_to(root)) if root and root in path.parents else path.name
            self.models.append(Served(len(self.models), label, model))
        if not self.models:
            raise ArtengineError("no artengine model to serve in " + ", ".join(map(str, paths or [root])),
                                 hint="pass an .onnx file from `artengine export`, or a gallery folder that holds one")

    def get(self, model_id: int) -> Served:
        if not 0 <= model_id < len(self.models):
            raise KeyError(model_id)
        return self.models[model_id]

    # -- generators ---------------------------------------------------------------
    def _images(self, served: Served, z: np.ndarray, extras: dict[str, float]) -> np.ndarray:
        model = served.model
        if model.kind != "generator":
            raise ArtengineError(f"{served.label} is an image-to-image model: upload a photo instead")
        return to_uint8(model.generate(z, controls=extras))

    def _latent(self, served: Served, seed: int, index: int, truncation: float) -> np.ndarray:
        return latent(seed, index, served.model.latent_dim, truncation)

    def image_png(self, served: Served, seed: int, index: int, *, truncation: float = 0.0,
                  extras: dict[str, float] | None = None, scale: int = 1) -> bytes:
        z = self._latent(served, seed, index, truncation)[None]
        img = self._images(served, z, extras or {})[0]
        if scale > 1:
            img = img.repeat(scale, axis=0).repeat(scale, axis=1)
        text = {"artengine.model": served.label, "artengine.seed": str(seed), "artengine.index": str(index),
                "artengine.truncation": f"{truncation:g}",
                **{f"artengine.{k}": f"{v:g}" for k, v in (extras or {}).items()}}
        return png_bytes(img, text)

    def walk_gif(self, served: Served, a: tuple[int, int], b: tuple[int, int], *, frames: int,
                 truncation: float = 0.0, extras: dict[str, float] | None = None, fps: int = 12) -> bytes:
        """There and back again between two samples, spherical interpolation, as a looping GIF."""
        za, zb = (self._latent(served, s, i, truncation) for s, i in (a, b))
        ts = np.linspace(0.0, 1.0, frames)
        path = np.stack([slerp(za, zb, float(t)) for t in ts])
        pics = self._images(served, path, extras or {})
        pics = np.concatenate([pics, pics[-2:0:-1]]) if len(pics) > 2 else pics
        pil = [to_pil(upscale(p, 256)).convert("RGB") for p in pics]
        buf = io.BytesIO()
        pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=int(1000 / fps), loop=0)
        return buf.getvalue()

    # -- image-to-image ---------------------------------------------------------------
    def stylize_png(self, served: Served, data: bytes, *, max_side: int) -> bytes:
        model = served.model
        if model.kind != "image-to-image":
            raise ArtengineError(f"{served.label} is a generator: it makes images from seeds, not from photos")
        try:
            with Image.open(io.BytesIO(data)) as img:
                if img.width * img.height > MAX_UPLOAD_PIXELS:
                    raise ArtengineError(f"the photo is too large ({img.width} x {img.height}); "
                                         f"at most {MAX_UPLOAD_PIXELS // 1_000_000} megapixels")
                img = img.convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            raise ArtengineError("the upload is not an image PIL can read (PNG, JPEG, WebP, BMP, GIF)") from None
        if max(img.size) > max_side:
            ratio = max_side / max(img.size)
            img = img.resize((max(4, round(img.width * ratio)), max(4, round(img.height * ratio))), Image.LANCZOS)
        w, h = max(4, img.width // 4 * 4), max(4, img.height // 4 * 4)
        img = img.crop((0, 0, w, h))
        content = np.asarray(img, dtype=np.float32).transpose(2, 0, 1)[None] / 255.0
        out = to_uint8(model.stylize(content))[0]
        return png_bytes(out, {"artengine.model": served.label})
