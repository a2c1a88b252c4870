"""scikit-learn's 1,797 handwritten 8x8 digits, upscaled: the fast, offline test workhorse.

The digits ship inside scikit-learn as ``datasets/data/digits.csv.gz`` (64 pixel
values 0..16 then the label per row). Reading that file directly takes
milliseconds, where importing ``sklearn.datasets`` takes seconds; when the file
is not where we expect it, ``sklearn.datasets.load_digits`` is the fallback.
"""

from __future__ import annotations

import gzip

import numpy as np
import torch

from artengine.datasets.base import DatasetInfo, ImageDataset
from artengine.datasets.package_files import package_file
from artengine.errors import DatasetError

from .config import PROVENANCE, DigitsConfig
from .tensors import keep_classes, resized_dataset

INFO = DatasetInfo(
    name="digits",
    description="1,797 handwritten digits (8x8, upscaled), labels 0-9",
    num_classes=10,
    **PROVENANCE["digits"],
)


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(images float [1797, 8, 8] in 0..16, labels int64 [1797])."""
    try:
        path = package_file("scikit-learn", "datasets/data/digits.csv.gz")
        with gzip.open(path, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float32)
        if table.ndim != 2 or table.shape[1] != 65:
            raise ValueError(f"unexpected shape {table.shape}")
        return table[:, :64].reshape(-1, 8, 8), table[:, 64].astype(np.int64)
    except (DatasetError, OSError, ValueError):
        try:
            from sklearn.datasets import load_digits as sklearn_load_digits
        except ImportError:
            raise DatasetError("the digits dataset needs scikit-learn", hint="run `pip install scikit-learn`") from None
        bunch = sklearn_load_digits()
        return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


def load_digits(config: DigitsConfig, *, image_size: int, channels: int = 0, seed: int = 0) -> ImageDataset:
    """Build the ``digits`` dataset (``seed`` is unused: the data has one order)."""
    pixels, targets = digits_arrays()
    images = torch.from_numpy(np.rint(pixels * (255.0 / 16.0)).astype(np.uint8)).unsqueeze(1)
    labels = torch.from_numpy(targets)
    images, labels = keep_classes(images, labels, config.classes, "digits")
    return resized_dataset(INFO, images, labels, image_size=image_size, channels=channels)
