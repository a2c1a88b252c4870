"""`artengine gallery build`: a static site of runs, models and style results.

The site opens from the file system with no server: every asset is copied
inside the output folder, every name and value is HTML-escaped, loss curves are
inline SVG. Models are rendered with :mod:`artengine.runtime` (no torch).
"""

from __future__ import annotations

from .build import build_gallery

__all__ = ["build_gallery"]
