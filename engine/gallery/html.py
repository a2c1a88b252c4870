"""HTML pieces: one page template, escaped tables and figures. Every value goes through :func:`esc`."""

from __future__ import annotations

import html
import json
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#fafafa;color:#222}
header{background:#1d2330;color:#fff;padding:14px 24px}header a{color:#9cf}
main{padding:16px 24px;max-width:1200px}h1{margin:0;font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:16px}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px;text-decoration:none;color:inherit}
.card img{width:100%;image-rendering:pixelated;border-radius:4px;background:#eee}
.kind{font-size:.8em;color:#666}figure{display:inline-block;margin:0 16px 16px 0;vertical-align:top}
figure img{max-width:520px;image-rendering:pixelated;border:1px solid #ddd;background:#fff}
figcaption{font-size:.85em;color:#555;max-width:520px}
table{border-collapse:collapse;font-size:.9em;background:#fff}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f0f0f0}pre{background:#fff;border:1px solid #ddd;
padding:8px;overflow:auto;max-height:400px;font-size:.8em}.credit{background:#fff8e0;border:1px solid #eed;
padding:8px;border-radius:6px}.charts svg{margin:0 12px 12px 0;background:#fff;border:1px solid #ddd}
img.photo{image-rendering:auto}#image-check.broken{background:#fdd;color:#900;padding:8px}
"""

#: Marks broken images in the page itself, so a user (and the browser test) sees them.
IMAGE_CHECK = """
<div id="image-check" data-state="pending"></div>
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images), broken = [];
  imgs.forEach(function (img) { if (!img.complete || img.naturalWidth === 0) broken.push(img.getAttribute('src')); });
  var box = document.getElementById('image-check');
  box.setAttribute('data-state', 'done');
  box.setAttribute('data-total', String(imgs.length));
  box.setAttribute('data-broken', String(broken.length));
  if (broken.length) { box.className = 'broken'; box.textContent = 'Broken images: ' + broken.join(', '); }
});
</script>
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, *, home: str | None = "index.html") -> str:
    nav = f'<a href="{esc(home)}">&larr; gallery</a> &middot; ' if home else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header>{nav}<h1>{esc(title)}</h1></header><main>{body}{IMAGE_CHECK}</main></body></html>\n")


def table(rows: dict[str, Any] | list[tuple[str, Any]], header: tuple[str, str] | None = None) -> str:
    items = rows.items() if isinstance(rows, dict) else rows
    head = f"<tr><th>{esc(header[0])}</th><th>{esc(header[1])}</th></tr>" if header else ""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(_fmt(v))}</td></tr>" for k, v in items)
    return f"<table>{head}{body}</table>" if body else "<p>(none)</p>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def figure(src: str, caption: str, *, alt: str | None = None, width: int | None = None) -> str:
    w = f' width="{int(width)}"' if width else ""
    return (f'<figure><img src="{esc(src)}" alt="{esc(alt or caption)}" loading="eager"{w}>'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def json_block(obj: Any) -> str:
    return f"<pre>{esc(json.dumps(obj, indent=2, sort_keys=True, default=str))}</pre>"


def credit(info: dict[str, Any]) -> str:
    """Dataset / image source, license and credit (shown wherever a result uses others' work)."""
    rows = [(k, info[k]) for k in ("name", "title", "source", "license", "credit", "url") if info.get(k)]
    if not rows:
        return ""
    return '<div class="credit">' + table(rows) + "</div>"
