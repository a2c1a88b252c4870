"""The explorer's HTTP server: standard-library ``ThreadingHTTPServer``, every request validated.

Routes: ``/`` and ``/static/*`` (the page), ``/api/models``, ``/api/image``, ``/api/walk``,
``/api/stylize`` (POST a photo), and ``/gallery/*`` when serving a gallery folder. A bad
request gets a 4xx with a JSON ``error``; nothing outside the served folder is ever read.
"""

from __future__ import annotations

import json
import mimetypes
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import ArtengineError
from .explorer import Explorer

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"explorer.js": "text/javascript", "explorer.css": "text/css"}
MAX_UPLOAD_BYTES = 12 * 1024 * 1024
MAX_SEED = 2**63 - 1
MAX_INDEX = 1_000_000
CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class BadRequest(Exception):
    """A request the explorer refuses: ``status`` and a message for the user."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def _int(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name, [str(default)])[-1]
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{name} must be a whole number, got {text[:40]!r}") from None
    if not low <= value <= high:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(query: dict[str, list[str]], name: str, default: float, low: float, high: float) -> float:
    text = query.get(name, [str(default)])[-1]
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{name} must be a number, got {text[:40]!r}") from None
    if not low <= value <= high:  # also refuses nan
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"{name} must be between {low:g} and {high:g}, got {text[:40]!r}")
    return value


def _query(text: str) -> dict[str, list[str]]:
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=64, strict_parsing=False)
    except ValueError:  # more than 64 fields
        raise BadRequest(HTTPStatus.BAD_REQUEST, "too many query parameters") from None


def _file_under(root: Path, rel: str) -> Path:
    """``root/rel`` if it is a regular file inside ``root`` after following links; else 404."""
    missing = BadRequest(HTTPStatus.NOT_FOUND, "no such file")
    if "\0" in rel or "\\" in rel:
        raise missing
    parts = [p for p in rel.split("/") if p]
    if any(p in (".", "..") or p.startswith(".") for p in parts):
        raise missing
    path = root.joinpath(*parts) if parts else root / "index.html"
    if path.is_dir():
        path = path / "index.html"
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise missing from None
    if root not in real.parents or not real.is_file():
        raise missing
    return real


class Handler(BaseHTTPRequestHandler):
    """One request. The server object carries the explorer and the optional gallery folder."""

    server_version = "artengine-serve"
    server: ExplorerServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)

    # -- responses --------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json")

    def _handle(self, route) -> None:
        try:
            self._check_host()
            route()
        except BadRequest as exc:
            self._json({"error": str(exc)}, exc.status)
        except ArtengineError as exc:
            self._json({"error": str(exc).splitlines()[0]}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # a bug: say so, keep serving the other requests
            traceback.print_exc(file=sys.stderr)
            self._json({"error": f"internal error ({type(exc).__name__}); see the server's terminal"},
                       HTTPStatus.INTERNAL_SERVER_ERROR)

    def _check_host(self) -> None:
        """A page on another site must not reach this server through a DNS name it controls."""
        if not self.server.loopback_only:
            return
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise BadRequest(HTTPStatus.FORBIDDEN, f"requests must be addressed to 127.0.0.1, not {host!r}")

    # -- routes ---------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle(self._get)

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        self._handle(self._post)

    def _get(self) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = _query(url.query)
        if path in ("/", "/index.html"):
            self._send(200, (STATIC / "index.html").read_bytes(), "text/html; charset=utf-8")
        elif path.startswith("/static/") and path[len("/static/"):] in STATIC_FILES:
            name = path[len("/static/"):]
            self._send(200, (STATIC / name).read_bytes(), STATIC_FILES[name] + "; charset=utf-8")
        elif path == "/api/models":
            ex = self.server.explorer
            self._json({"models": [m.describe() for m in ex.models], "gallery": self.server.gallery is not None})
        elif path == "/api/image":
            self._image(query)
        elif path == "/api/walk":
            self._walk(query)
        elif path == "/gallery" or path.startswith("/gallery/"):
            if self.server.gallery is None:
                raise BadRequest(HTTPStatus.NOT_FOUND, "this server shows a model, not a gallery")
            if path == "/gallery":
                self._send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", {"Location": "/gallery/"})
                return
            real = _file_under(self.server.gallery, path[len("/gallery/"):])
            kind = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
            self._send(200, real.read_bytes(), kind)
        else:
            raise BadRequest(HTTPStatus.NOT_FOUND, f"no such page: {path[:80]!r}")

    def _model(self, query: dict[str, list[str]]):
        ex = self.server.explorer
        model_id = _int(query, "model", 0, 0, 10_000)
        try:
            return ex.get(model_id)
        except KeyError:
            raise BadRequest(HTTPStatus.NOT_FOUND, f"no model {model_id}; there are {len(ex.models)}") from None

    def _extras(self, served, query: dict[str, list[str]]) -> dict[str, float]:
        """Values for the model's declared extra inputs, each within its declared range."""
        return {c.name: _float(query, c.name, c.default, c.min, c.max)
                for c in served.model.extra_inputs if c.name in query}

    def _image(self, query: dict[str, list[str]]) -> None:
        served = self._model(query)
        seed = _int(query, "seed", 0, 0, MAX_SEED)
        index = _int(query, "index", 0, 0, MAX_INDEX)
        truncation = _float(query, "truncation", 0.0, 0.0, 4.0)
        scale = _int(query, "scale", 1, 1, 16)
        if served.model.image_size * scale > 4096:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "scale too large: at most 4096 pixels a side")
        body = self.server.explorer.image_png(served, seed, index, truncation=truncation,
                                              extras=self._extras(served, query), scale=scale)
        headers = {}
        if query.get("download", ["0"])[-1] == "1":
            stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(served.label).stem)[:60]
            headers["Content-Disposition"] = f'attachment; filename="{stem}-seed{seed}-{index}.png"'
        self._send(200, body, "image/png", headers)

    def _walk(self, query: dict[str, list[str]]) -> None:
        served = self._model(query)
        a = (_int(query, "a_seed", 0, 0, MAX_SEED), _int(query, "a_index", 0, 0, MAX_INDEX))
        b = (_int(query, "b_seed", 0, 0, MAX_SEED), _int(query, "b_index", 1, 0, MAX_INDEX))
        frames = _int(query, "frames", 24, 2, 120)
        truncation = _float(query, "truncation", 0.0, 0.0, 4.0)
        body = self.server.explorer.walk_gif(served, a, b, frames=frames, truncation=truncation,
                                             extras=self._extras(served, query))
        self._send(200, body, "image/gif")

    def _post(self) -> None:
        url = urlsplit(self.path)
        if unquote(url.path) != "/api/stylize":
            raise BadRequest(HTTPStatus.NOT_FOUND, "POST goes to /api/stylize")
        query = _query(url.query)
        served = self._model(query)
        max_side = _int(query, "max_side", 512, 16, 1024)
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise BadRequest(HTTPStatus.LENGTH_REQUIRED, "send the photo with a Content-Length") from None
        if length <= 0:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "the upload is empty")
        if length > MAX_UPLOAD_BYTES:
            self.close_connection = True
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                             f"the photo is {length / 1e6:.1f} MB; at most {MAX_UPLOAD_BYTES // 1_000_000} MB")
        data = self.rfile.read(length)
        self._send(200, self.server.explorer.stylize_png(served, data, max_side=max_side), "image/png")


class ExplorerServer(ThreadingHTTPServer):
    daemon_threads = True
    explorer: Explorer
    gallery: Path | None
    loopback_only: bool
    verbose: bool


def make_server(target: str | Path, *, host: str = "127.0.0.1", port: int = 8000, provider: str = "cpu",
                verbose: bool = False, warn: Any = None) -> ExplorerServer:
    """A ready (not yet serving) server for MODEL.onnx or GALLERY_DIR; ``port=0`` picks a free one."""
    from .explorer import find_models

    target = Path(target)
    if not target.exists():
        raise ArtengineError(f"{str(target)!r} does not exist", hint="pass a model.onnx or a gallery folder")
    warn = warn or (lambda text: print(text, file=sys.stderr))
    root = target.resolve() if target.is_dir() else None
    explorer = Explorer(find_models(target.resolve()), root=root, provider=provider, warn=warn)
    try:
        server = ExplorerServer((host, port), Handler)
    except OSError as exc:
        raise ArtengineError(f"cannot listen on {host}:{port}: {exc.strerror}",
                             hint="pick another --port (0 picks a free one)") from None
    server.explorer = explorer
    server.gallery = root if root is not None and (root / "index.html").is_file() else None
    server.loopback_only = host in ("127.0.0.1", "localhost", "::1")
    server.verbose = verbose
    return server
