"""Procedural generative-art compositions: translucent circles, rectangles, triangles and lines
on a two-colour gradient, in a harmonious palette.

Image ``i`` of seed ``s`` is drawn from its own random stream ``(s, i)``, in
coordinates relative to the canvas, so it is the same composition at every size
and whatever the dataset length. Shapes are drawn at twice the size and
downsampled, which antialiases their edges.
"""

from __future__ import annotations

import colorsys

import numpy as np
import torch
from PIL import Image, ImageDraw

from artengine.datasets.base import DatasetInfo, ImageDataset

from .config import PROVENANCE, ShapesConfig
from .tensors import convert_channels, memory_budget

SUPERSAMPLE = 2
SCHEMES = {  # hue offsets (turns) of a palette around its base hue
    "analogous": (0.0, 0.08, -0.08, 0.16),
    "complementary": (0.0, 0.5, 0.04, 0.54),
    "triadic": (0.0, 1 / 3, 2 / 3, 0.05),
    "split": (0.0, 0.42, 0.58, 0.0),
}


def _palette(rng: np.random.Generator) -> list[tuple[int, int, int]]:
    base = rng.random()
    offsets = SCHEMES[list(SCHEMES)[rng.integers(len(SCHEMES))]]
    colours = []
    for offset in offsets:
        sat = rng.uniform(0.45, 0.95)
        val = rng.uniform(0.55, 1.0)
        r, g, b = colorsys.hsv_to_rgb((base + offset) % 1.0, sat, val)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    # a dark and a light neutral give contrast to any palette
    colours.append(tuple(int(c * 0.18) for c in colours[0]))
    colours.append(tuple(int(255 - (255 - c) * 0.15) for c in colours[1]))
    return colours


def _gradient(size: int, start: tuple[int, ...], end: tuple[int, ...], angle: float) -> Image.Image:
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    t = np.cos(angle) * coords[None, :] + np.sin(angle) * coords[:, None]
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    rgb = np.asarray(start, np.float32) * (1 - t[..., None]) + np.asarray(end, np.float32) * t[..., None]
    return Image.fromarray(rgb.round().astype(np.uint8), "RGB")


def render_composition(seed: int, index: int, size: int, max_shapes: int) -> np.ndarray:
    """Composition ``index`` of ``seed`` as uint8 ``[3, size, size]``."""
    rng = np.random.default_rng([seed, index])
    colours = _palette(rng)
    canvas = size * SUPERSAMPLE
    first, second = rng.choice(len(colours), size=2, replace=False)
    img = _gradient(canvas, colours[first], colours[second], rng.uniform(0, 2 * np.pi))
    draw = ImageDraw.Draw(img, "RGBA")
    for _ in range(int(rng.integers(1, max_shapes + 1))):
        colour = (*colours[rng.integers(len(colours))], int(rng.uniform(0.55, 1.0) * 255))
        kind = rng.choice(("circle", "rectangle", "triangle", "line"), p=(0.35, 0.25, 0.25, 0.15))
        cx, cy = rng.uniform(0.05, 0.95, size=2) * canvas
        extent = rng.uniform(0.08, 0.4) * canvas
        if kind == "circle":
            draw.ellipse((cx - extent, cy - extent, cx + extent, cy + extent), fill=colour)
        elif kind == "rectangle":
            w, h = rng.uniform(0.4, 1.6, size=2) * extent
            angle = rng.uniform(0, np.pi)
            corners = np.array([(-w, -h), (w, -h), (w, h), (-w, h)])
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            points = corners @ rot.T + (cx, cy)
            draw.polygon([tuple(p) for p in points], fill=colour)
        elif kind == "triangle":
            angles = rng.uniform(0, 2 * np.pi) + np.array([0, 2 * np.pi / 3, 4 * np.pi / 3]) + rng.normal(0, 0.3, 3)
            points = np.stack([cx + extent * np.cos(angles), cy + extent * np.sin(angles)], axis=1)
            draw.polygon([tuple(p) for p in points], fill=colour)
        else:
            x0, y0, x1, y1 = rng.uniform(0, 1, size=4) * canvas
            draw.line((x0, y0, x1, y1), fill=colour, width=max(1, int(rng.uniform(0.01, 0.05) * canvas)))
    img = img.resize((size, size), Image.Resampling.BOX)
    return np.array(img, dtype=np.uint8).transpose(2, 0, 1)


class ShapesOnAccess(ImageDataset):
    """Compositions rendered when asked for (when all of them would not fit in memory)."""

    def __init__(self, info: DatasetInfo, config: ShapesConfig, *, image_size: int, channels: int, seed: int):
        super().__init__(info, channels=channels or 3, image_size=image_size)
        self.size, self.max_shapes, self.seed = config.size, config.max_shapes, seed

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not 0 <= index < self.size:
            raise IndexError(index)
        image = torch.from_numpy(render_composition(self.seed, index, self.image_size, self.max_shapes))
        return convert_channels(image[None], self.channels)[0], -1


def load_shapes(config: ShapesConfig, *, image_size: int, channels: int = 0, seed: int = 0) -> ImageDataset:
    """Render ``config.size`` compositions for ``seed`` (threads do not help: drawing holds the GIL)."""
    info = DatasetInfo(
        name="shapes",
        description=f"{config.size} procedural compositions of coloured shapes on gradients (seed {seed})",
        **PROVENANCE["shapes"],
    )
    if config.size * (channels or 3) * image_size * image_size > memory_budget():
        return ShapesOnAccess(info, config, image_size=image_size, channels=channels, seed=seed)
    out = torch.empty((config.size, 3, image_size, image_size), dtype=torch.uint8)
    target = out.numpy()

    for i in range(config.size):
        target[i] = render_composition(seed, i, image_size, config.max_shapes)
    images = convert_channels(out, channels)
    return ImageDataset(info, channels=images.shape[1], image_size=image_size, images=images)
