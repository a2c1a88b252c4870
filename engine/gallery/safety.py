"""Which files a gallery may copy: a source's own files, checked to be what they claim to be.

A style sidecar or a run folder is data, possibly from someone else: its paths are never
trusted. A path is followed (symlinks included) and must end inside the item's own folder
(or, for content and style images, inside a built-in image folder artengine ships), be a
regular file, and decode as an image. The bytes that were checked are the bytes copied.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..errors import ArtengineError

#: PIL format -> the suffix the copy gets (only formats every browser shows)
WEB_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}
MAX_SOURCE_BYTES = 256 * 1024 * 1024


class UnsafeSourceError(ArtengineError):
    """A source file points outside its folder, is not a regular file, or is not an image."""


def builtin_image_dirs() -> list[Path]:
    """Folders of the built-in content and style images (the style plugin's paintings, scikit-image's
    photos): a sidecar of `artengine style astronaut starry-night` names files there."""
    import importlib.util

    dirs = []
    for module, sub in (("artengine.plugins.style", "images"), ("skimage", "data")):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue
        for root in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(root) / sub
            if folder.is_dir():
                dirs.append(folder.resolve())
    return dirs


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def resolve_source(base: Path, ref: object, *, what: str, builtin_ok: bool = False) -> Path:
    """The real path of ``ref`` (relative to ``base``), refused unless it stays inside ``base``."""
    if not isinstance(ref, str) or not ref.strip():
        raise UnsafeSourceError(f"{what}: no file name given")
    candidate = Path(ref).expanduser()
    candidate = candidate if candidate.is_absolute() else base / candidate
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # missing, a link loop, a NUL in the name
        raise UnsafeSourceError(f"{what} {ref!r} does not exist") from None
    folder = base.resolve()
    allowed = [folder] + (builtin_image_dirs() if builtin_ok else [])
    if not any(_inside(real, root) for root in allowed):
        raise UnsafeSourceError(f"{what} {ref!r} points outside its folder {str(folder)!r}: refused",
                                hint="a gallery copies only files next to the item; move the file into "
                                     "that folder and give its name")
    if not stat.S_ISREG(real.stat().st_mode):
        raise UnsafeSourceError(f"{what} {ref!r} is not a regular file: refused")
    return real


def read_image(path: Path, *, what: str) -> tuple[bytes, str]:
    """The file's bytes and web suffix, after checking the very same bytes decode as an image."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)  # never wait on a FIFO
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise UnsafeSourceError(f"{what} {path.name!r} is not a regular file: refused")
        data = fh.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise UnsafeSourceError(f"{what} {path.name!r} is larger than {MAX_SOURCE_BYTES >> 20} MB: refused")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise UnsafeSourceError(f"{what} {path.name!r} is not an image (it does not decode): refused") from None
    if fmt not in WEB_FORMATS:
        raise UnsafeSourceError(f"{what} {path.name!r} is a {fmt} image; a gallery shows PNG, JPEG, GIF or WebP")
    return data, WEB_FORMATS[fmt]


def checked_image(base: Path, ref: object, *, what: str, builtin_ok: bool = False) -> tuple[bytes, str]:
    """:func:`resolve_source` then :func:`read_image`: the one way a gallery reads a source image."""
    return read_image(resolve_source(base, ref, what=what, builtin_ok=builtin_ok), what=what)
