"""Image files from model outputs: uint8 conversion, contact sheets, PNG text chunks, animations."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from .. import atomic


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float ``[n, C, H, W]`` in [0, 1] -> uint8 ``[n, H, W, C]``."""
    arr = np.clip(np.asarray(images, dtype=np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return arr.transpose(0, 2, 3, 1)


def to_pil(image_hwc: np.ndarray) -> Image.Image:
    """1 channel: greyscale; 4: RGBA (a model trained on transparent images keeps its alpha); else RGB."""
    if image_hwc.shape[2] == 1:
        return Image.fromarray(image_hwc[:, :, 0], mode="L")
    if image_hwc.shape[2] == 4:
        return Image.fromarray(np.ascontiguousarray(image_hwc), mode="RGBA")
    return Image.fromarray(image_hwc[:, :, :3], mode="RGB")


def grid(images_hwc: np.ndarray, ncol: int | None = None, pad: int = 2, fill: int = 255) -> np.ndarray:
    """A contact sheet ``[H', W', C]`` of ``n`` images, ``ncol`` per row (square-ish by default)."""
    n, h, w, c = images_hwc.shape
    ncol = ncol or max(1, math.ceil(math.sqrt(n)))
    nrow = max(1, math.ceil(n / ncol))
    sheet = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), fill, dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        sheet[y:y + h, x:x + w] = images_hwc[i]
    return sheet


def png_bytes(image_hwc: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, str(value))
    buf = io.BytesIO()
    to_pil(image_hwc).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def save_png(path: str | Path, image_hwc: np.ndarray, text: dict[str, str] | None = None) -> Path:
    """Write a PNG atomically, with ``text`` as tEXt chunks (how an image says where it came from).

    No fsync: a render is exactly reproducible from its seed, and 64 fsyncs cost more than the model."""
    return atomic.write_bytes(path, png_bytes(image_hwc, text), durable=False)


def upscale(image_hwc: np.ndarray, min_side: int) -> np.ndarray:
    """Nearest-neighbour enlargement of small images so animations are visible on a page."""
    h = image_hwc.shape[0]
    factor = max(1, min_side // max(1, h))
    if factor == 1:
        return image_hwc
    return image_hwc.repeat(factor, axis=0).repeat(factor, axis=1)


def save_animation(path: str | Path, frames_hwc: list[np.ndarray], *, fps: int = 12) -> Path:
    """Write a looping GIF or WebP (by suffix) atomically."""
    path = Path(path)
    fmt = "WEBP" if path.suffix.lower() == ".webp" else "GIF"
    # WebP keeps an RGBA model's transparency; GIF has no real alpha channel
    pil = [to_pil(f) if fmt == "WEBP" and f.shape[2] == 4 else to_pil(f).convert("RGB") for f in frames_hwc]
    buf = io.BytesIO()
    extra = {"lossless": True} if fmt == "WEBP" else {"disposal": 1}
    pil[0].save(buf, format=fmt, save_all=True, append_images=pil[1:], duration=int(1000 / fps), loop=0, **extra)
    return atomic.write_bytes(path, buf.getvalue(), durable=False)


def load_image(path: str | Path, max_side: int = 0, multiple: int = 4) -> np.ndarray:
    """A photo as float32 ``[3, H, W]`` in [0, 1], shrunk to ``max_side`` and cropped to a size multiple."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        if max_side and max(img.size) > max_side:
            scale = max_side / max(img.size)
            img = img.resize((max(multiple, round(img.width * scale)), max(multiple, round(img.height * scale))),
                             Image.LANCZOS)
        w, h = (img.width // multiple) * multiple, (img.height // multiple) * multiple
        img = img.crop((0, 0, max(multiple, w), max(multiple, h)))
        return np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
