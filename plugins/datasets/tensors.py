"""Batch operations on uint8 image tensors ``[N, C, H, W]`` shared by the built-in datasets."""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F

from artengine.datasets.base import DatasetInfo, ImageDataset
from artengine.errors import DatasetError

_LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, what PIL's convert("L") uses
MEMORY_FRACTION = 0.25  # of physical RAM that one in-memory dataset may take


def memory_budget() -> int:
    """Bytes one in-memory dataset may use: a quarter of physical RAM (4 GiB when unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = 16 << 30
    return int(total * MEMORY_FRACTION)


def center_crop_square(images: torch.Tensor) -> torch.Tensor:
    """The centred square of ``[N, C, H, W]`` images whose side is the shorter of H and W."""
    height, width = images.shape[-2:]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return images[..., top:top + side, left:left + side]


def resize_batch(images: torch.Tensor, size: int, *, chunk: int = 2048) -> torch.Tensor:
    """Centre-crop uint8 images to a square and resize it to ``size`` (bilinear, antialiased when shrinking).

    Works in chunks so a large dataset never needs a full float copy in memory.
    """
    images = center_crop_square(images)
    if images.shape[-1] == size:
        return images.contiguous()
    out = torch.empty((images.shape[0], images.shape[1], size, size), dtype=torch.uint8)
    for start in range(0, images.shape[0], chunk):
        part = images[start:start + chunk].float()
        part = F.interpolate(part, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out[start:start + chunk] = part.round_().clamp_(0, 255).to(torch.uint8)
    return out


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Gray <-> RGB <-> RGBA for uint8 ``[N, C, H, W]`` (``channels`` 0 keeps what there is)."""
    have = images.shape[1]
    if channels in (0, have):
        return images
    if have == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if have == 3 and channels == 1:
        weights = torch.tensor(_LUMA, dtype=torch.float32).view(1, 3, 1, 1)
        out = torch.empty((images.shape[0], 1, *images.shape[2:]), dtype=torch.uint8)
        for start in range(0, images.shape[0], 2048):
            part = (images[start:start + 2048].float() * weights).sum(dim=1, keepdim=True)
            out[start:start + 2048] = part.round_().clamp_(0, 255).to(torch.uint8)
        return out
    if channels == 4 and have in (1, 3):  # opaque: alpha 255 everywhere
        colour = images.expand(-1, 3, -1, -1) if have == 1 else images
        alpha = torch.full((images.shape[0], 1, *images.shape[2:]), 255, dtype=torch.uint8)
        return torch.cat([colour, alpha], dim=1).contiguous()
    if have == 4 and channels in (1, 3):  # composite onto white
        a = images[:, 3:].float() / 255.0
        rgb = (images[:, :3].float() * a + 255.0 * (1 - a)).round_().clamp_(0, 255).to(torch.uint8)
        return convert_channels(rgb, channels)
    raise DatasetError(f"cannot convert {have}-channel images to {channels} channels; use channels 1, 3 or 4")


def keep_classes(images: torch.Tensor, labels: torch.Tensor, classes: list[int] | tuple[int, ...],
                 name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Only the images whose label is in ``classes`` (all of them when ``classes`` is empty)."""
    if not classes:
        return images, labels
    mask = torch.isin(labels, torch.tensor(list(classes), dtype=labels.dtype))
    if not bool(mask.any()):
        raise DatasetError(f"{name}: no images with the labels {list(classes)}")
    return images[mask].contiguous(), labels[mask].contiguous()


class ResizedOnAccess(ImageDataset):
    """Source pixels kept at their own (small) size, each item resized when asked for.

    Used when the resized dataset would not fit in :func:`memory_budget`, e.g.
    CIFAR-10 at 256x256 (9.8 GB).
    """

    def __init__(self, info: DatasetInfo, pixels: torch.Tensor, labels: torch.Tensor | None, *,
                 image_size: int, channels: int):
        super().__init__(info, channels=channels or pixels.shape[1], image_size=image_size, labels=labels)
        self.pixels = pixels

    def __len__(self) -> int:
        return int(self.pixels.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = convert_channels(resize_batch(self.pixels[index:index + 1], self.image_size), self.channels)[0]
        return image, int(self.labels[index]) if self.labels is not None else -1


def resized_dataset(info: DatasetInfo, pixels: torch.Tensor, labels: torch.Tensor | None, *,
                    image_size: int, channels: int) -> ImageDataset:
    """``pixels`` (uint8 ``[N, C, H, W]``) at ``image_size``: resized once in memory when that fits the
    budget, else resized item by item."""
    out_channels = channels or pixels.shape[1]
    if pixels.shape[0] * out_channels * image_size * image_size > memory_budget():
        return ResizedOnAccess(info, pixels, labels, image_size=image_size, channels=channels)
    images = convert_channels(resize_batch(pixels, image_size), channels)
    return ImageDataset(info, channels=images.shape[1], image_size=image_size, images=images, labels=labels)
