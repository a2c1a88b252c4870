"""`artengine serve`: a local web app to explore exported models, run by onnxruntime (never torch).

Standard library only on the server side (``http.server.ThreadingHTTPServer``), plain JavaScript
in the page: nothing to install with npm, nothing fetched from the network.
"""

from __future__ import annotations

from .app import make_server
from .explorer import Explorer

__all__ = ["Explorer", "make_server"]
