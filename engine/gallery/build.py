"""Build the site: one page per source, then a front page that shows the work first.

Each source is built into a staging folder (:mod:`.site`); a source that cannot be read is
skipped with a warning and the rest is built. Every file copied from a source goes through
:mod:`.safety` first."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PIL import UnidentifiedImageError

from ..errors import ArtengineError
from . import html as h
from .entries import Builder, Options
from .front_page import front_page
from .model_page import model_page
from .run_page import run_page
from .site import StagedSite
from .sources import Source, collect
from .style_page import style_page

ASSET_DIR = Path(__file__).resolve().parent / "assets"
#: errors that mean "this source cannot be read" (onnxruntime raises RuntimeError subclasses), not a bug
SOURCE_ERRORS = (ArtengineError, OSError, ValueError, RuntimeError, UnidentifiedImageError)
PAGES = {"run": run_page, "model": model_page, "style": style_page}


def slugify(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "item"
    slug, i = base, 2
    while slug in taken or slug in ("index", "assets"):
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


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
                entries.append(PAGES[src.kind](builder, src.path, slug))
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
        builder.put("index.html", front_page(entries, skipped, title))
        site.commit()
    finally:
        site.discard()
    return out / "index.html"
