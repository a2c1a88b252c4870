"""A folder of the user's own images, searched recursively.

Images are resized (shorter side) and centre-cropped to the training size. When
all of them fit in a quarter of the RAM they are decoded once, in parallel, and
kept in memory; otherwise each one is decoded when the trainer asks for it.
Files that cannot be read are skipped with one warning that counts them.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from PIL import Image

from artengine.datasets.base import DatasetInfo, ImageDataset
from artengine.errors import DatasetError

from .config import PROVENANCE, FolderConfig
from .images import GRAY_MODES, WHITE, decode_square, has_transparency, thread_map
from .tensors import memory_budget

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"})


class DatasetWarning(UserWarning):
    """Some of a dataset's files were skipped."""


def find_images(root: Path) -> list[Path]:
    """Every image file under ``root`` (sorted, hidden files and folders left out).

    Symlinked folders are followed, each real folder once (a link loop ends there). Only regular
    files are kept: a FIFO or device named ``x.png`` would block the first read forever.
    """
    found = []
    special = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                path = Path(dirpath) / name
                (found if path.is_file() else special).append(path)  # is_file(): stat only, never opens
    if special:
        warnings.warn_explicit(f"skipped {len(special)} entries that are not regular files (FIFO, device, "
                               f"broken link): {', '.join(str(p.relative_to(root)) for p in special[:2])}",
                               DatasetWarning, filename=str(root), lineno=0)
    return sorted(found)


def _probe(path: Path) -> tuple[str, int, int] | None:
    """Mode, width and height from the file header (nothing decoded), or None when it is not an image."""
    try:
        with warnings.catch_warnings():  # the size is checked against max_pixels below, by name
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return img.mode, img.width, img.height
    except Image.DecompressionBombError:
        return "?", 1 << 20, 1 << 20  # PIL refuses even the header: counted as too large
    except Exception:  # noqa: BLE001 - PIL raises many types for broken files
        return None


def _warn(root: Path, what: str, paths: list[Path], detail=None, advice: str = "") -> None:
    """One warning for a group of files, attributed to the folder itself (not to a line of artengine), so it
    prints as "/the/folder:0: DatasetWarning: skipped 2 unreadable image file(s): a.png, b.jpg"."""
    if not paths:
        return
    names = ", ".join(str(p.relative_to(root)) + (f" {detail(p)}" if detail else "") for p in paths[:2])
    more = f" and {len(paths) - 2} more" if len(paths) > 2 else ""
    warnings.warn_explicit(f"{what.format(n=len(paths))}: {names}{more}{advice}",
                           DatasetWarning, filename=str(root), lineno=0)


def _warn_skipped(root: Path, skipped: list[Path]) -> None:
    _warn(root, "skipped {n} unreadable image file(s)", skipped)


class StreamedFolder(ImageDataset):
    """Image files too many for memory: every item is decoded from disk when asked for."""

    def __init__(self, info: DatasetInfo, paths: list[Path], *, channels: int, image_size: int,
                 background: tuple[int, int, int] = WHITE, names: list[str] | None = None):
        super().__init__(info, channels=channels, image_size=image_size, names=names)
        self.paths = paths
        self.background = background
        self.unreadable: set[int] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """The image at ``index``; one that turns out unreadable (truncated, deleted) is skipped with a
        warning and the next readable one stands in, as the in-memory mode skips it at load time."""
        for k in range(len(self.paths)):
            i = (index + k) % len(self.paths)
            if i in self.unreadable:
                continue
            try:
                array = decode_square(self.paths[i], self.image_size, self.channels, self.background)
            except Exception as exc:  # noqa: BLE001 - PIL raises many types for broken files
                self.unreadable.add(i)
                warnings.warn(f"skipping unreadable image {self.paths[i]}: {exc}", DatasetWarning, stacklevel=2)
                continue
            return torch.from_numpy(array), -1
        raise DatasetError(f"none of the {len(self.paths)} images could be read any more",
                           hint="the files were changed or deleted while training; check the folder, then resume")


def _decode_all(paths: list[Path], size: int, channels: int, workers: int) -> tuple[torch.Tensor, list[Path]]:
    """Decode ``paths`` in parallel straight into one tensor; returns it and the files that failed."""
    out = torch.empty((len(paths), channels, size, size), dtype=torch.uint8)
    target = out.numpy()

    def decode_into(i: int) -> bool:
        try:
            target[i] = decode_square(paths[i], size, channels)
            return True
        except Exception:  # noqa: BLE001
            return False

    ok = thread_map(decode_into, range(len(paths)), workers)
    failed = [p for p, good in zip(paths, ok, strict=True) if not good]
    if failed:
        out = out[torch.tensor(ok)].contiguous()
    return out, failed


#: modes that can hold transparency; whether a file really does is checked by decoding its alpha
ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "P"})
#: a folder trains as RGBA when at least this share of its images has real transparency (a stray
#: transparent logo among photos is flattened onto white, and the one-line summary says so)
RGBA_SHARE = 0.25


def _transparent(path: Path) -> bool:
    try:
        return has_transparency(path)
    except Exception:  # noqa: BLE001 - unreadable files are skipped by the decode that follows
        return False


def load_folder(config: FolderConfig, *, image_size: int, channels: int = 0, seed: int = 0) -> ImageDataset:
    """Build the ``folder`` dataset (``seed`` is unused: a folder has one order)."""
    if not str(config.path).strip():
        raise DatasetError("the folder dataset needs a path", hint="pass --data path/to/images")
    root = Path(config.path).expanduser()
    if not root.exists():
        raise DatasetError(f"image folder {str(root)!r} does not exist",
                           hint="check the path, or use a built-in dataset (`artengine list datasets`)")
    if not root.is_dir():
        raise DatasetError(f"{str(root)!r} is a file, not a folder of images",
                           hint="pass the folder that holds the images")
    paths = find_images(root)
    if not paths:
        raise DatasetError(
            f"no images found in {str(root)!r} (searched recursively for "
            f"{', '.join(sorted(IMAGE_SUFFIXES))})",
            hint="put .png/.jpg/.webp/.bmp/.gif files in it, or point --data at the right folder")
    probes = dict(zip(paths, thread_map(_probe, paths, config.workers), strict=True))
    skipped = [p for p in paths if probes[p] is None]
    limit = config.max_pixels or float("inf")
    too_large = {p for p in paths if probes[p] is not None and probes[p][1] * probes[p][2] > limit}
    readable = [p for p in paths if probes[p] is not None and p not in too_large]
    size_of = lambda p: "" if probes[p][0] == "?" else f"({probes[p][1]} x {probes[p][2]})"  # noqa: E731
    _warn(root, "skipped {n} image file(s)", sorted(too_large), lambda p: f"too large {size_of(p)}".strip(),
          f"; more than dataset.max_pixels={config.max_pixels:,} (raise it to use them)")
    tiny = [p for p in readable if min(probes[p][1], probes[p][2]) * 4 < image_size]
    _warn(root, "{n} image file(s) are tiny", tiny, size_of,
          f", far below --image-size {image_size}: they will be blurry")
    modes = [probes[p][0] for p in readable]
    own = 1 if readable and all(m in GRAY_MODES for m in modes) else 3
    transparent = 0
    if not channels:  # real transparency (not just an alpha channel of 255s) makes an RGBA dataset
        maybe = [p for p, m in zip(readable, modes, strict=True) if m in ALPHA_MODES]
        transparent = sum(thread_map(_transparent, maybe, config.workers))
        own = 4 if transparent and transparent >= RGBA_SHARE * len(readable) else own
    channels = channels or own
    needed = len(readable) * channels * image_size * image_size
    in_memory = config.in_memory == "yes" or (config.in_memory == "auto" and needed <= memory_budget())

    images = None
    if in_memory and readable:
        images, failed = _decode_all(readable, image_size, channels, config.workers)
        skipped = sorted(skipped + failed)
        failed_set = set(failed)
        readable = [p for p in readable if p not in failed_set]
    if not readable:
        if too_large:
            raise DatasetError(f"every image in {str(root)!r} is larger than dataset.max_pixels="
                               f"{config.max_pixels:,}", hint="raise it, e.g. --set dataset.max_pixels=0 (no limit)")
        raise DatasetError(f"none of the {len(paths)} image files in {str(root)!r} could be read",
                           hint="the files may be damaged or not images; check one with an image viewer")
    _warn_skipped(root, skipped)
    from .inspect import dataset_notes

    notes = dataset_notes(modes, transparent, channels, images, skipped=len(skipped))
    info = DatasetInfo(name="folder", description=f"{len(readable)} images from {root}{notes}",
                       source=str(root.resolve()), license=PROVENANCE["folder"]["license"], credit="")
    names = [str(p.relative_to(root)) for p in readable]
    if images is None:
        return StreamedFolder(info, readable, channels=channels, image_size=image_size, names=names)
    return ImageDataset(info, channels=channels, image_size=image_size, images=images, names=names)


__all__ = ["DatasetWarning", "IMAGE_SUFFIXES", "StreamedFolder", "find_images", "load_folder", "memory_budget"]
