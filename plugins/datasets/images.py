"""Decode one image file to a square uint8 array ``[C, S, S]`` (PIL; shared by folder and emoji)."""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

#: modes that hold no colour: a folder of only these is a 1-channel dataset
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})

WHITE = (255, 255, 255)


def to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float grayscale to "L" (PIL's own convert clips them to white)."""
    if img.mode not in ("I", "I;16", "I;16B", "I;16L", "F"):
        return img
    arr = np.asarray(img, dtype=np.float32)
    if img.mode == "F" and float(arr.max(initial=0.0)) <= 1.0:
        arr = arr * 255.0  # float images in 0..1
    elif img.mode != "F" and (img.mode.startswith("I;16") or float(arr.max(initial=0.0)) > 255):
        arr = arr / 257.0  # 16-bit range
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")


def flatten_alpha(img: Image.Image, background: tuple[int, int, int] = WHITE) -> Image.Image:
    """Composite a transparent image onto ``background`` (RGB); opaque images pass through."""
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if not has_alpha:
        return img
    rgba = img.convert("RGBA")
    base = Image.new("RGBA", rgba.size, (*background, 255))
    return Image.alpha_composite(base, rgba).convert("RGB")


def fit_square(img: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` and crop the centre (keeps the aspect ratio)."""
    width, height = img.size
    if (width, height) == (size, size):
        return img
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    return img.resize((size, size), Image.Resampling.BICUBIC, box=(left, top, left + side, top + side),
                      reducing_gap=3.0 if side > 3 * size else None)


def has_transparency(path: str | Path) -> bool:
    """True when the file has pixels that are not fully opaque (an alpha channel of all 255 is not)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(path)
    with img:
        img.seek(0)
        if img.mode in ("RGBA", "LA", "PA"):
            return int(np.asarray(img.getchannel("A")).min()) < 255
        if img.mode == "P" and "transparency" in img.info:
            return int(np.asarray(img.convert("RGBA").getchannel("A")).min()) < 255
    return False


def decode_square(path: str | Path, size: int, channels: int,
                  background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """The image at ``path`` as uint8 ``[channels, size, size]`` (``channels`` 1, 3, or 4: RGBA).

    Honours EXIF rotation, takes a GIF's first frame, flattens transparency onto
    ``background`` and lets JPEG decode at a reduced scale when the file is much
    larger than ``size``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the folder reader's max_pixels decides
        img = Image.open(path)
    with img:
        if img.format == "JPEG":
            img.draft("L" if channels == 1 else "RGB", (size, size))
        img.seek(0)
        img = ImageOps.exif_transpose(img)
        if channels == 4:  # keep transparency; resized premultiplied, so no dark fringes
            img = fit_square(to_8bit(img).convert("RGBA").convert("RGBa"), size).convert("RGBA")
        else:
            img = to_8bit(flatten_alpha(img, background))
            img = img.convert("RGB" if channels == 3 else "L")
            img = fit_square(img, size)
        arr = np.array(img, dtype=np.uint8)  # a writable copy: torch refuses read-only arrays
    if arr.ndim == 2:
        arr = arr[None]
    else:
        arr = arr.transpose(2, 0, 1)
    return np.ascontiguousarray(arr)


def default_workers() -> int:
    """Decoding threads: one per core, at most 8 (PIL releases the GIL while decoding)."""
    return max(1, min(8, os.cpu_count() or 1))


def thread_map(fn, items, workers: int = 0) -> list:
    """``[fn(x) for x in items]`` on a thread pool, in order."""
    workers = workers or default_workers()
    items = list(items)
    if workers == 1 or len(items) < 32:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items, chunksize=16))
