"""The export error: one message saying which check failed and what to try."""

from __future__ import annotations

from ..errors import ArtengineError


class ExportError(ArtengineError):
    """A network could not be exported, or the exported file failed verification."""
