"""Any ``torchvision.datasets`` class, e.g. ``--data torchvision:CIFAR10`` (for users with internet).

Datasets that keep their pixels in a uint8 ``.data`` array (MNIST, CIFAR, SVHN,
STL10, ...) are resized in one batch and kept in memory (when that fits); the
others are decoded item by item when the trainer asks. Downloads run under a short socket timeout so
that an offline machine fails in seconds with a message that says what to do.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from artengine.datasets.base import DatasetInfo, ImageDataset
from artengine.errors import DatasetError

from .config import PROVENANCE, TorchvisionConfig
from .images import GRAY_MODES, fit_square, flatten_alpha
from .tensors import resized_dataset

NETWORK_TIMEOUT_S = 15.0
OFFLINE_HINT = ("use a folder of your own images (--data path/to/images) or a built-in offline dataset: "
                "digits, mnist, stacked-mnist, emoji, shapes")


@contextlib.contextmanager
def network_timeout(seconds: float) -> Iterator[None]:
    """Make every new socket give up after ``seconds`` (torchvision's downloads set none)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def dataset_class(name: str) -> type:
    """The ``torchvision.datasets`` class called ``name`` (case-insensitive), or a clear error."""
    import torchvision.datasets as tvd

    available = sorted(n for n in getattr(tvd, "__all__", dir(tvd))
                       if isinstance(getattr(tvd, n, None), type) and issubclass(getattr(tvd, n), tvd.VisionDataset)
                       and n != "VisionDataset")
    by_lower = {n.lower(): n for n in available}
    if name.lower() not in by_lower:
        close = difflib.get_close_matches(name, available, n=1)
        maybe = f" Did you mean {close[0]!r}?" if close else ""
        raise DatasetError(f"torchvision has no dataset {name!r}.{maybe}",
                           hint=f"torchvision datasets: {', '.join(available)}")
    return getattr(tvd, by_lower[name.lower()])


def open_torchvision(name: str, *, root: str | Path, download: bool, split: str) -> Any:
    """Instantiate ``torchvision.datasets.<name>``; failures become :class:`DatasetError`."""
    cls = dataset_class(name)
    root = Path(root).expanduser()
    params = inspect.signature(cls.__init__).parameters
    kwargs: dict[str, Any] = {"root": str(root)} if "root" in params else {}
    if "train" in params:
        if split not in ("train", "test"):
            raise DatasetError(f"torchvision {cls.__name__} has the splits train and test, not {split!r}")
        kwargs["train"] = split == "train"
    elif "split" in params:
        kwargs["split"] = split
    if "download" in params:
        kwargs["download"] = download
    try:
        with network_timeout(NETWORK_TIMEOUT_S):
            return cls(**kwargs)
    except Exception as exc:  # noqa: BLE001 - torchvision raises RuntimeError, URLError, OSError, ValueError...
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if not download:
            raise DatasetError(f"torchvision dataset {cls.__name__} is not in {str(root)!r} ({reason})",
                               hint="set download=true to fetch it (needs internet), or " + OFFLINE_HINT) from None
        raise DatasetError(f"could not download torchvision dataset {cls.__name__} into {str(root)!r} ({reason})",
                           hint="offline? " + OFFLINE_HINT) from None


def _pixel_array(ds: Any) -> torch.Tensor | None:
    """The dataset's pixels as uint8 ``[N, C, H, W]`` when it keeps them in one array."""
    data = getattr(ds, "data", None)
    if isinstance(data, np.ndarray) and data.dtype == np.uint8:
        data = torch.from_numpy(data)
    if not isinstance(data, torch.Tensor) or data.dtype != torch.uint8 or data.ndim not in (3, 4):
        return None
    if data.ndim == 3:
        return data.unsqueeze(1)
    if data.shape[-1] in (1, 3):  # [N, H, W, C] (CIFAR)
        return data.permute(0, 3, 1, 2)
    if data.shape[1] in (1, 3):  # [N, C, H, W] (SVHN, STL10)
        return data
    return None


def _labels(ds: Any, n: int) -> torch.Tensor | None:
    for attr in ("targets", "labels"):
        values = getattr(ds, attr, None)
        if values is None:
            continue
        labels = torch.as_tensor(np.asarray(values)).long().flatten()
        if labels.numel() == n:
            return labels
    return None


def _to_uint8(img: Any, size: int, channels: int) -> torch.Tensor:
    img = fit_square(flatten_alpha(img).convert("RGB" if channels == 3 else "L"), size)
    arr = np.array(img, dtype=np.uint8)  # a writable copy: torch refuses read-only arrays
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(arr))


class StreamedTorchvision(ImageDataset):
    """A torchvision dataset without one pixel array: items are converted when asked for."""

    def __init__(self, info: DatasetInfo, ds: Any, *, channels: int, image_size: int):
        super().__init__(info, channels=channels, image_size=image_size)
        self.ds = ds

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        img, target = self.ds[index]
        label = int(target) if isinstance(target, (int, np.integer)) else -1
        return _to_uint8(img, self.image_size, self.channels), label


def load_torchvision(config: TorchvisionConfig, *, image_size: int, channels: int = 0, seed: int = 0) -> ImageDataset:
    """Build the ``torchvision`` dataset (``seed`` is unused)."""
    if not config.dataset.strip():
        raise DatasetError("the torchvision dataset needs a name", hint="e.g. --data torchvision:CIFAR10")
    ds = open_torchvision(config.dataset.strip(), root=config.root, download=config.download, split=config.split)
    name = type(ds).__name__
    classes = getattr(ds, "classes", None)
    info = DatasetInfo(
        name=f"torchvision:{name}",
        description=f"torchvision.datasets.{name} ({config.split})",
        source=f"torchvision.datasets.{name}",
        license=PROVENANCE["torchvision"]["license"],
        credit=f"{name} via torchvision",
        num_classes=len(classes) if isinstance(classes, (list, tuple)) else int(getattr(ds, "num_classes", 0) or 0),
    )
    pixels = _pixel_array(ds)
    if pixels is not None:
        return resized_dataset(info, pixels, _labels(ds, pixels.shape[0]), image_size=image_size, channels=channels)
    if len(ds) == 0:
        raise DatasetError(f"torchvision dataset {name} is empty")
    own = 1 if getattr(ds[0][0], "mode", "RGB") in GRAY_MODES else 3
    return StreamedTorchvision(info, ds, channels=channels or own, image_size=image_size)
