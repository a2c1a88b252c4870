"""Stacked MNIST: three random digits as the R, G and B channels, so 1,000 modes.

The standard mode-collapse benchmark (VEEGAN, Srivastava et al. 2017; PacGAN,
Lin et al. 2018): a generator that covers the data makes all 1,000 digit
triples. The label is ``100 * red + 10 * green + blue``. Which digits are
stacked is drawn from the run's seed, so the dataset is reproducible.
"""

from __future__ import annotations

import torch

from artengine.datasets.base import DatasetInfo, ImageDataset

from .config import PROVENANCE, StackedMnistConfig
from .mnist import mnist_digits
from .tensors import ResizedOnAccess, convert_channels, memory_budget, resize_batch


def stack_digits(images: torch.Tensor, labels: torch.Tensor, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``size`` triples of digits: uint8 ``[size, 3, S, S]`` and labels ``[size]`` in 0..999."""
    g = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, images.shape[0], (size, 3), generator=g)
    stacked = images[:, 0][picks]  # [size, 3, S, S]
    digit = labels[picks]
    return stacked.contiguous(), digit[:, 0] * 100 + digit[:, 1] * 10 + digit[:, 2]


def load_stacked_mnist(config: StackedMnistConfig, *, image_size: int, channels: int = 0,
                       seed: int = 0) -> ImageDataset:
    """Build ``stacked-mnist`` from the run seed (``channels`` 1 blends the stack to gray)."""
    digits = mnist_digits(config.source, root=config.root, download=config.download)
    info = DatasetInfo(
        name="stacked-mnist",
        description=f"{config.size} RGB stacks of three MNIST digits: 1,000 modes (label = 100r + 10g + b)",
        source=f"{digits.source}, stacked with seed {seed}",
        license=PROVENANCE["stacked-mnist"]["license"],
        credit=PROVENANCE["stacked-mnist"]["credit"],
        num_classes=1000,
    )
    if config.size * (channels or 3) * image_size * image_size > memory_budget():
        stacks, labels = stack_digits(digits.images, digits.labels, config.size, seed)  # 28x28, resized on access
        return ResizedOnAccess(info, stacks, labels, image_size=image_size, channels=channels)
    images, labels = stack_digits(resize_batch(digits.images, image_size), digits.labels, config.size, seed)
    images = convert_channels(images, channels)
    return ImageDataset(info, channels=images.shape[1], image_size=image_size, images=images, labels=labels)
