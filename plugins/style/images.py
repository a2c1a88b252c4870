"""Content and style images: built-in names, loading, resizing, saving, and colour spaces.

Built-in names make the demo work offline: the two public-domain paintings ship in this
package's ``images/`` folder and the photos are scikit-image's bundled files (located on
disk, never fetched). Every image carries its provenance for the gallery sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from artengine.datasets.package_files import package_file
from artengine.errors import ArtengineError

IMAGES_DIR = Path(__file__).resolve().parent / "images"

#: name -> (file inside this package, title, source, license)
PAINTINGS = {
    "starry-night": ("starry_night.jpg", "Vincent van Gogh, The Starry Night (1889)",
                     "Debian package opencv-doc 4.6.0, examples/data/starry_night.jpg", "public domain"),
    "scream": ("scream.jpg", "Edvard Munch, The Scream (1893)", "Debian package darknet, data/scream.jpg",
               "public domain"),
}
#: name -> (file inside skimage/data, title, source, license) per the skimage.data docstrings
PHOTOS = {
    "astronaut": ("astronaut.png", "Eileen Collins, NASA astronaut", "scikit-image skimage/data/astronaut.png "
                  "(NASA Great Images)", "public domain"),
    "chelsea": ("chelsea.png", "Chelsea the cat", "scikit-image skimage/data/chelsea.png (Stefan van der Walt)",
                "CC0"),
    "coffee": ("coffee.png", "Coffee cup", "scikit-image skimage/data/coffee.png (Rachel Michetti)", "CC0"),
    "rocket": ("rocket.jpg", "DSCOVR launch on Falcon 9", "scikit-image skimage/data/rocket.jpg (SpaceX)",
               "public domain"),
}
BUILTIN_NAMES = tuple(PAINTINGS) + tuple(PHOTOS)


class ImageInputError(ArtengineError):
    """An input image is missing or unreadable."""


@dataclass(frozen=True)
class ImageRef:
    """Where an image came from, for provenance."""

    name: str
    path: str
    title: str
    source: str
    license: str

    def describe(self) -> dict:
        return {"name": self.name, "path": self.path, "title": self.title, "source": self.source,
                "license": self.license}


def resolve_image(name_or_path: str) -> ImageRef:
    """A built-in name (starry-night, scream, astronaut, chelsea, coffee, rocket) or a file path."""
    key = name_or_path.strip().lower().replace("_", "-")
    if key in PAINTINGS and not Path(name_or_path).is_file():
        file, title, source, lic = PAINTINGS[key]
        return ImageRef(key, str(IMAGES_DIR / file), title, source, lic)
    if key in PHOTOS and not Path(name_or_path).is_file():
        file, title, source, lic = PHOTOS[key]
        path = package_file("scikit-image", f"data/{file}")
        return ImageRef(key, str(path), title, source, lic)
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise ImageInputError(f"image {name_or_path!r} does not exist",
                              hint=f"pass an image file or a built-in name: {', '.join(BUILTIN_NAMES)}")
    if not path.is_file():
        raise ImageInputError(f"{name_or_path!r} is a folder, not an image file")
    return ImageRef(path.name, str(path.resolve()), path.stem, "user file", "user")


def load_image(ref: ImageRef) -> torch.Tensor:
    """The image as float RGB ``[1, 3, H, W]`` in [0, 1]."""
    try:
        with Image.open(ref.path) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageInputError(f"cannot read image {ref.path!r}: {exc}",
                              hint="use a PNG, JPEG, WebP or BMP file") from None
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def fit_size(height: int, width: int, long_edge: int) -> tuple[int, int]:
    """(h, w) scaled so the long edge is ``long_edge``, aspect kept."""
    scale = long_edge / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Antialiased bicubic resize, clamped to [0, 1]."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return F.interpolate(image, size=size, mode="bicubic", align_corners=False, antialias=True).clamp_(0, 1)


def to_pil(image: torch.Tensor) -> Image.Image:
    array = image.detach().float().clamp(0, 1).mul(255).round().byte()[0].permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, "RGB")


# YIQ (NTSC): Y is luminance, I and Q carry the colour; used for luminance-only transfer.
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                            [0.595716, -0.274453, -0.321263],
                            [0.211456, -0.522591, 0.311135]])


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    m = _RGB_TO_YIQ.to(image)
    return torch.einsum("ij,bjhw->bihw", m, image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    m = torch.linalg.inv(_RGB_TO_YIQ.double()).to(image)
    return torch.einsum("ij,bjhw->bihw", m, image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """The Y channel repeated three times, so the feature network sees a grey RGB image."""
    return rgb_to_yiq(image)[:, :1].expand(-1, 3, -1, -1).contiguous()


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale the style's luminance to the content's mean and spread (Gatys et al. 2016)."""
    s_mean, s_std = style_y.mean(), style_y.std().clamp_min(1e-5)
    return ((style_y - s_mean) / s_std * content_y.std() + content_y.mean()).clamp(0, 1)


def with_content_colors(output_y: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Combine the output's luminance with the content's chroma (I, Q)."""
    yiq = rgb_to_yiq(content)
    yiq = torch.cat([output_y[:, :1], yiq[:, 1:]], dim=1)
    return yiq_to_rgb(yiq)
