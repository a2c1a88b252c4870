"""User-facing errors: one clear message that names the thing and what to do.

The CLI prints an :class:`ArtengineError` as ``Error: <message>`` with no
traceback; everything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class ArtengineError(Exception):
    """An error the user can act on."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigError(ArtengineError):
    """A config value is unknown, of the wrong type or out of range."""


class UnknownComponentError(ArtengineError):
    """A component name is not registered by any loaded plugin."""


class DuplicateComponentError(ArtengineError):
    """Two plugins registered the same name for one kind of component."""


class PluginError(ArtengineError):
    """A plugin registered something that cannot work (a bad name, config or factory)."""


class DatasetError(ArtengineError):
    """A dataset could not be found, read or downloaded."""


class CheckpointError(ArtengineError):
    """A run directory or checkpoint is missing or damaged."""


class DivergenceError(ArtengineError):
    """Training produced a NaN or infinite loss."""


class ModelFileError(ArtengineError):
    """A file is not a model artengine can run."""


class RunInUseError(ArtengineError):
    """Another process is writing into the same run directory."""


class OutputError(ArtengineError, OSError):
    """An output path cannot be written (read-only, under a file, disk full).

    Also an OSError, so code that handles failed writes keeps working."""
