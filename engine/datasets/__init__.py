"""Datasets: image collections decoded to uint8 tensors ``[C, H, W]``.

This core package holds only the contract (:mod:`.base`) and the helper that finds data
files shipped in installed packages (:mod:`.package_files`). Concrete datasets (folder,
digits, mnist, stacked-mnist, emoji, shapes, torchvision) live in the built-in plugin
``artengine.plugins.datasets`` and register through the ``register_datasets`` hook,
like any third-party dataset.
"""
