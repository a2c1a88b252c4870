"""`artengine data inspect FOLDER`: what a folder of images holds before a GAN trains on it.

Artists' folders are mixed: palette GIFs, greyscale-with-alpha PNGs, CMYK JPEGs from print work,
16-bit scans, files that are not images at all, and the same picture saved twice. Training
converts all of them silently; this report says what will happen to each kind, which files are
skipped and why, how sizes and aspect ratios will be cropped, which images are near-duplicates
(a 64-bit difference hash: duplicates count twice in training and look like memorization in
eval), and which recipe settings suit a dataset of this size. Torch-free.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from artengine.errors import DatasetError
from artengine.plugins.gan.config import AUGMENT_AUTO_BELOW

from .folder import IMAGE_SUFFIXES, find_images
from .images import thread_map

#: differing bits (of 64) up to which two images count as near-duplicates
DUPLICATE_BITS = 6
CONVERSIONS = {
    "P": "palette -> RGB",
    "PA": "palette with alpha -> RGBA",
    "LA": "greyscale with alpha -> RGBA",
    "CMYK": "CMYK -> RGB (print colours; may look duller)",
    "YCbCr": "YCbCr -> RGB",
    "I;16": "16-bit greyscale -> 8-bit",
    "I;16B": "16-bit greyscale -> 8-bit",
    "I;16L": "16-bit greyscale -> 8-bit",
    "I": "32-bit integer greyscale -> 8-bit",
    "F": "32-bit float greyscale -> 8-bit",
    "1": "1-bit black and white -> 8-bit greyscale",
    "RGBX": "RGBX -> RGB",
}
GRAY = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})


@dataclass
class ImageFacts:
    path: Path
    mode: str
    width: int
    height: int
    frames: int
    transparent: bool  # has pixels that are not fully opaque
    dhash: int


@dataclass
class FolderReport:
    root: Path
    images: list[ImageFacts] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    duplicate_groups: list[list[int]] = field(default_factory=list)  # indices into images

    @property
    def count(self) -> int:
        return len(self.images)

    def transparent_count(self) -> int:
        return sum(f.transparent for f in self.images)

    def channels(self) -> int:
        """What training would use: 4 when a quarter or more have real transparency, 1 for greyscale
        only, else 3 (the folder dataset's rule)."""
        from .folder import RGBA_SHARE

        if self.transparent_count() and self.transparent_count() >= RGBA_SHARE * self.count:
            return 4
        return 1 if self.images and all(f.mode in GRAY for f in self.images) else 3

    def summary(self) -> dict[str, Any]:
        facts = self.images
        sides = np.array([min(f.width, f.height) for f in facts]) if facts else np.zeros(1)
        ratios = np.array([f.width / f.height for f in facts]) if facts else np.ones(1)
        modes = Counter(f.mode for f in facts)
        conversions = {CONVERSIONS[m]: n for m, n in sorted(modes.items()) if m in CONVERSIONS}
        square = int(np.sum(np.abs(ratios - 1) < 0.02))
        return {
            "folder": str(self.root),
            "images": self.count,
            "skipped": [{"file": _rel(p, self.root), "why": why} for p, why in self.skipped],
            "modes": dict(sorted(modes.items())),
            "conversions": conversions,
            "transparent": self.transparent_count(),
            "animated": sum(f.frames > 1 for f in facts),
            "channels": self.channels(),
            "min_side": {"min": int(sides.min()), "median": int(np.median(sides)), "max": int(sides.max())},
            "aspect": {"square": square, "landscape": int(np.sum(ratios >= 1.02)),
                       "portrait": int(np.sum(ratios <= 0.98)),
                       "most_extreme": round(float(max(ratios.max(), 1 / ratios.min())), 2)},
            "duplicate_groups": [[_rel(facts[i].path, self.root) for i in g] for g in self.duplicate_groups],
            "duplicates": sum(len(g) - 1 for g in self.duplicate_groups),
            "suggestion": suggest(self),
        }


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def dhash_bits(gray: np.ndarray) -> int:
    """The 64-bit difference hash of a 8x9 (rows x columns) greyscale array: one bit per
    horizontally neighbouring pair, set where the left pixel is brighter."""
    bits = (gray[:, :-1] > gray[:, 1:]).reshape(-1)
    return int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])


def image_dhash(img: Image.Image) -> int:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        span = float(arr.max() - arr.min()) or 1.0
        img = Image.fromarray(((arr - arr.min()) / span * 255).astype(np.uint8))
    small = img.convert("L").resize((9, 8), Image.Resampling.BOX)
    return dhash_bits(np.asarray(small, dtype=np.int16))


def _has_transparency(img: Image.Image) -> bool:
    if img.mode in ("RGBA", "LA", "PA"):
        return int(np.asarray(img.getchannel("A")).min()) < 255
    if img.mode == "P" and "transparency" in img.info:
        return int(np.asarray(img.convert("RGBA").getchannel("A")).min()) < 255
    return False


def probe(path: Path) -> ImageFacts | str:
    """The facts of one file, or why it cannot be used."""
    try:
        with Image.open(path) as img:
            mode, (width, height) = img.mode, img.size
            frames = int(getattr(img, "n_frames", 1))
            img.seek(0)
            if img.format == "JPEG":
                img.draft(img.mode, (64, 64))
            img = ImageOps.exif_transpose(img)
            img.load()
            if min(img.size) < 1:
                return "empty image"
            return ImageFacts(path, mode, width, height, frames, _has_transparency(img), image_dhash(img))
    except Image.DecompressionBombError:
        return "too large (PIL's decompression-bomb limit)"
    except (OSError, ValueError, SyntaxError) as exc:
        text = str(exc).split("\n")[0]
        return "not an image PIL can read" if "cannot identify" in text else f"damaged: {text}"


def hamming_groups(hashes: list[int], max_bits: int = DUPLICATE_BITS) -> list[list[int]]:
    """Groups (by index) of hashes within ``max_bits`` of another in the group (union-find)."""
    n = len(hashes)
    if n < 2:
        return []
    bits = np.unpackbits(np.array(hashes, dtype=">u8").view(np.uint8).reshape(n, 8), axis=1).astype(np.int16)
    signed = bits * 2 - 1  # +-1: a.b = 64 - 2 * hamming
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, n, 1024):
        block = signed[start:start + 1024]
        dist = (64 - block @ signed.T) // 2
        rows, cols = np.nonzero(dist <= max_bits)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            a, b = find(start + r), find(c)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def suggest(report: FolderReport) -> dict[str, Any]:
    """Recipe and settings for a dataset of this size (what the small-data docs recommend)."""
    n = report.count - sum(len(g) - 1 for g in report.duplicate_groups)
    sides = sorted(min(f.width, f.height) for f in report.images) or [0]
    low = sides[len(sides) // 5]  # most images are at least this large
    size = next((s for s in (128, 64, 32) if s <= low), 32)
    size = min(size, 64)  # a CPU trains 64 px in minutes, 128 px in hours
    args = ["dcgan", f"--image-size {size}"]
    if report.channels() == 4:
        args.append("--set channels=4")  # what auto picks too; said so the command is explicit
    notes = []
    if n < 100:
        notes.append("very few images: fine-tune a model trained on more data "
                     "(--init-from RUN_DIR --set trainer.freeze_d=2) rather than train from scratch")
        args.append("--minutes 10")
    elif n < 1000:
        args.append("--minutes 20")
    else:
        args.append("--minutes 60")
    if n < AUGMENT_AUTO_BELOW:
        notes.append(f"{n} distinct images: --augment auto (the default under {AUGMENT_AUTO_BELOW:,}) keeps D "
                     "from memorizing them; watch the near-copy share in eval")
    else:
        notes.append("large enough that augmentation is off by default (--augment auto turns it on)")
    if low < size:
        notes.append(f"a fifth of the images are under {size} px on their short side and will be upscaled")
    if report.duplicate_groups:
        notes.append(f"{sum(len(g) - 1 for g in report.duplicate_groups)} near-duplicate file(s): remove them, or "
                     "they count twice in training and as copies in eval")
    if report.transparent_count():
        notes.append(f"{report.transparent_count()} image(s) have real transparency: " +
                     ("the folder trains as RGBA" if report.channels() == 4 else
                      "too few for RGBA, flattened onto white (--set channels=4 keeps it)"))
    return {"command": "artengine train " + " ".join(args) + f" --data {report.root}", "image_size": size,
            "distinct_images": n, "notes": notes}


def inspect_folder(root: str | Path, *, workers: int = 0, duplicate_bits: int = DUPLICATE_BITS) -> FolderReport:
    """Probe every image file under ``root`` (recursively, as the folder dataset reads it)."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetError(f"image folder {str(root)!r} does not exist", hint="check the path")
    if not root.is_dir():
        raise DatasetError(f"{str(root)!r} is a file, not a folder of images", hint="pass the folder")
    paths = find_images(root)
    if not paths:
        raise DatasetError(f"no images found in {str(root)!r} (searched recursively for "
                           f"{', '.join(sorted(IMAGE_SUFFIXES))})", hint="point it at the folder of images")
    report = FolderReport(root)
    for path, facts in zip(paths, thread_map(probe, paths, workers), strict=True):
        if isinstance(facts, str):
            report.skipped.append((path, facts))
        else:
            report.images.append(facts)
    report.duplicate_groups = hamming_groups([f.dhash for f in report.images], duplicate_bits)
    return report


def format_report(summary: dict[str, Any]) -> str:
    """The report as a few lines for a terminal."""
    lines = [f"{summary['folder']}: {summary['images']} images, {len(summary['skipped'])} skipped"]
    for item in summary["skipped"][:10]:
        lines.append(f"  skipped {item['file']}: {item['why']}")
    if len(summary["skipped"]) > 10:
        lines.append(f"  ... and {len(summary['skipped']) - 10} more skipped")
    if not summary["images"]:
        return "\n".join(lines)
    side, aspect = summary["min_side"], summary["aspect"]
    lines.append(f"short side: {side['min']}-{side['max']} px (median {side['median']}); "
                 f"{aspect['square']} square, {aspect['landscape']} landscape, {aspect['portrait']} portrait "
                 f"(up to {aspect['most_extreme']}:1; non-square images are centre-cropped)")
    lines.append("colour modes: " + ", ".join(f"{m} {n}" for m, n in summary["modes"].items())
                 + f" -> trains with {summary['channels']} channel(s)")
    for what, n in summary["conversions"].items():
        lines.append(f"  converted: {n} {what}")
    if summary["transparent"]:
        lines.append(f"  {summary['transparent']} with real transparency (kept as alpha: RGBA training)")
    if summary["animated"]:
        lines.append(f"  {summary['animated']} animated: only the first frame is used")
    if summary["duplicate_groups"]:
        lines.append(f"near-duplicates: {summary['duplicates']} file(s) in {len(summary['duplicate_groups'])} group(s)")
        for group in summary["duplicate_groups"][:5]:
            lines.append("  " + " = ".join(group))
    else:
        lines.append("near-duplicates: none")
    sugg = summary["suggestion"]
    lines.append(f"suggested: {sugg['command']}")
    lines.extend(f"  - {note}" for note in sugg["notes"])
    return "\n".join(lines)


SHORT_CONVERSIONS = {"P": "palette", "PA": "palette+alpha", "LA": "grey+alpha", "CMYK": "CMYK", "YCbCr": "YCbCr",
                     "I;16": "16-bit", "I;16B": "16-bit", "I;16L": "16-bit", "I": "32-bit", "F": "float",
                     "1": "1-bit", "RGBX": "RGBX"}


def tensor_dhashes(images) -> list[int]:
    """dHashes of decoded uint8 images ``[N, C, S, S]`` (what training sees), without re-reading files."""
    import torch.nn.functional as F

    gray = images[:, :3].float().mean(dim=1, keepdim=True)
    small = F.adaptive_avg_pool2d(gray, (8, 9))[:, 0].numpy()
    return [dhash_bits(a) for a in small]


def dataset_notes(modes: list[str], transparent: int, channels: int, images, *, skipped: int = 0) -> str:
    """The folder dataset's one-line facts, as ``" (...)"`` after its description: what
    `artengine train` prints before it starts."""
    parts = []
    if skipped:
        parts.append(f"{skipped} skipped")
    counts = Counter(SHORT_CONVERSIONS[m] for m in modes if m in SHORT_CONVERSIONS)
    if counts:
        parts.append("converted " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))
    if transparent:
        parts.append(f"{transparent} with transparency: RGBA" if channels == 4 else
                     f"{transparent} with transparency flattened onto white (--set channels=4 keeps it)")
    if images is not None and images.shape[0] > 1:
        groups = hamming_groups(tensor_dhashes(images))
        dupes = sum(len(g) - 1 for g in groups)
        parts.append(f"{dupes} near-duplicate(s)" if dupes else "no near-duplicates")
    return f" ({'; '.join(parts)})" if parts else ""
