"""Datasets: image collections decoded to uint8 tensors ``[C, H, W]``.

Concrete datasets (folder, digits, mnist, stacked-mnist, emoji, shapes,
torchvision) are registered by the built-in plugin ``artengine.plugins.datasets``
through the ``register_datasets`` hook, like any third-party dataset.
"""
