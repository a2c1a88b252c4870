"""The dataset contract every registered dataset follows.

A dataset factory is called as ``factory(config, image_size=S, channels=C, seed=N)``
(``channels`` 0 means "the dataset's own") and returns an :class:`ImageDataset`.
Items are ``(uint8 tensor [C, S, S], label)``, label -1 where there is none.
When the decoded images fit in memory the dataset exposes them all at once via
:meth:`ImageDataset.as_tensor`, so trainers can keep the data on the device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DatasetInfo:
    """Provenance shown in run configs and galleries."""

    name: str
    description: str = ""
    source: str = ""
    license: str = ""
    credit: str = ""
    num_classes: int = 0  # classes known to an evaluator (10 for digits, 1000 for stacked-mnist)


class ImageDataset(torch.utils.data.Dataset):
    """Base class: subclasses fill ``images`` (in memory) or override ``__getitem__``."""

    def __init__(self, info: DatasetInfo, *, channels: int, image_size: int,
                 images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 names: list[str] | None = None):
        self.info = info
        self.names = names  # per image, where it came from (a folder's relative paths), when known
        self.channels = channels
        self.image_size = image_size
        self.images = images  # uint8 [N, C, S, S] or None when streamed
        self.labels = labels  # int64 [N] or None

    def __len__(self) -> int:
        if self.images is None:
            raise TypeError(f"{type(self).__name__} streams its images and must define __len__")
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        label = int(self.labels[index]) if self.labels is not None else -1
        return self.images[index], label

    def image_name(self, index: int) -> str:
        """What to call training image ``index`` when a report points at it: its file (relative to the
        folder) where known, else the dataset and the index."""
        names = getattr(self, "names", None)  # a subclass may not call this __init__
        if names is not None and 0 <= index < len(names):
            return names[index]
        return f"{self.info.name} #{index}"

    def as_tensor(self) -> torch.Tensor | None:
        """All images as one uint8 tensor ``[N, C, S, S]``, or None when streamed."""
        return self.images

    def describe(self) -> dict:
        return {
            "name": self.info.name,
            "size": len(self),
            "channels": self.channels,
            "image_size": self.image_size,
            "source": self.info.source,
            "license": self.info.license,
            "credit": self.info.credit,
        }
