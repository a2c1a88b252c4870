"""Built-in plugins, loaded exactly like third-party entry-point plugins.

Each module here implements hooks from :mod:`artengine.hookspecs` and keeps its
heavy code (torch) behind lazy ``"module:attr"`` factories, so listing plugins
stays fast.
"""

BUILTIN_PLUGINS: tuple[str, ...] = (
    "artengine.plugins.datasets",
    "artengine.plugins.style",
    "artengine.plugins.onnx_export",
    "artengine.plugins.gan",
    "artengine.plugins.dcgan",
    "artengine.plugins.progan",
    "artengine.plugins.tensorboard",
)
