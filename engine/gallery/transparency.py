"""Pictures with an alpha channel (RGBA generators, transparent sprites) are shown on a checkerboard:
on the gallery's dark background a transparent pixel would look black, like a drawn one."""

from __future__ import annotations

import io

from PIL import Image

#: the CSS class that puts a checkerboard behind an image (assets/gallery.css)
ALPHA_CLASS = "alpha"


def has_alpha(data: bytes) -> bool:
    """Whether the image in ``data`` carries transparency (an alpha channel or a transparent colour)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return bool(img.has_transparency_data)
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


def alpha_class(transparent: bool) -> str:
    return ALPHA_CLASS if transparent else ""
