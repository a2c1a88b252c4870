"""The front page: the work first (every source's pictures in large tiles), runs side by side, the list."""

from __future__ import annotations

from . import html as h
from .entries import Entry


def front_page(entries: list[Entry], skipped: list[str], title: str) -> str:
    """index.html: each source's works as large tiles, then runs side by side, then the list."""
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
