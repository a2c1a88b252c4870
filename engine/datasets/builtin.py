"""Config classes of the built-in datasets (torch-free, so listing them stays fast)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import option


@dataclass
class FolderConfig:
    path: str = option("", help="folder of images, searched recursively")
