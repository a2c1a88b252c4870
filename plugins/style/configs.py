"""Config classes of the style components (torch-free, so `artengine list` stays fast).

The defaults here are the tuned recipe: `artengine style` and `artengine train fast-style`
share them, so a look found with one carries over to the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from artengine.config import option

#: Gatys et al. (2016): content from one deep layer, style from the first ReLU of every block
CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass
class FeatureConfig:
    """Settings of a pretrained feature network."""

    weights: str = option("", help="weights file (torchvision .pth/.safetensors, or HED .weights.h5); "
                                   "empty: the torch hub cache / the bundled file")
    pooling: str = option("max", choices=("max", "avg"), help="max pooling as trained, or average pooling "
                                                               "(smoother gradients, Gatys et al.)")
    download: bool = option(False, help="allow downloading torchvision weights when they are not cached")


@dataclass
class ContentLossConfig:
    normalize: bool = option(True, help="divide by the target's mean square, so weights do not depend on "
                                        "the feature network's activation scale")


@dataclass
class StyleLossConfig:
    normalize: bool = option(True, help="divide by the target Gram's mean square (network-independent weights)")


@dataclass
class TVLossConfig:
    power: float = option(2.0, min=1.0, max=2.0, help="1: anisotropic L1 total variation, 2: squared")


@dataclass
class StyleSettings:
    """The style recipe: which layers, which losses, how much of each."""

    features: str = option("auto", help="feature extractor (auto: vgg19 when its torchvision weights are "
                                        "cached, else the bundled offline vgg16-hed)")
    weights: str = option("", help="weights file for the feature extractor")
    pooling: str = option("avg", choices=("max", "avg"), help="pooling inside the feature network")
    content_layers: tuple[str, ...] = option(CONTENT_LAYERS, help="layers compared with the content image")
    style_layers: tuple[str, ...] = option(STYLE_LAYERS, help="layers whose Gram matrices carry the style")
    content_loss: str = option("content", help="registered loss for content")
    style_loss: str = option("gram-style", help="registered loss for style")
    tv_loss: str = option("total-variation", help="registered loss for smoothness")
    content_weight: float = option(1.0, min=0.0, help="weight of the content loss")
    style_weight: float = option(5.0, min=0.0, help="weight of the style loss")
    tv_weight: float = option(1.0, min=0.0, help="weight of the total-variation loss")
    style_scale: float = option(1.0, min=0.05, max=8.0, help="style image size relative to the output size")


@dataclass
class FastStyleConfig(StyleSettings):
    """The fast-style trainer: a transformation network trained with the style recipe's losses."""

    style: str = option("starry-night", help="style image: a file or a built-in name (starry-night, scream)")
    lr: float = option(1e-3, min=0.0, help="Adam learning rate")
    width: int = option(16, min=4, max=128, help="channels of the first layer of the transformation network "
                                               "(16: fast on CPU; 32 as in Johnson et al.)")
    residual_blocks: int = option(5, min=0, max=16, help="residual blocks at the lowest resolution")
    sample_count: int = option(4, min=1, max=16, help="images in each sample grid")
