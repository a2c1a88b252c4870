"""The built-in ``onnx`` exporter, registered through the public ``register_exporters`` hook.

The exporter's code lives here; the contract it writes (metadata keys, ``ExportError``,
:func:`artengine.export.export_run`) is core, in :mod:`artengine.export`.
"""

from __future__ import annotations

from artengine.hookspecs import hookimpl


@hookimpl
def register_exporters(register):
    from .config import OnnxExportConfig

    register("onnx", "artengine.plugins.onnx_export.exporter:make_exporter", config=OnnxExportConfig,
             description="ONNX file verified against PyTorch (checker + onnxruntime parity), "
                         "optional int8/fp16 speed variant.", suffix=".onnx")
