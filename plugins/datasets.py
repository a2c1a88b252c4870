"""Built-in datasets, registered through the public ``register_datasets`` hook."""

from __future__ import annotations

from artengine.hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    from artengine.datasets import builtin as b

    register("folder", "artengine.datasets.folder:load_folder", config=b.FolderConfig,
             description="A folder of your own images (png, jpg, webp, bmp, gif), searched recursively.",
             source="your files", license="yours")
