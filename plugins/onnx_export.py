"""The built-in ``onnx`` exporter, registered through the public ``register_exporters`` hook."""

from __future__ import annotations

from artengine.hookspecs import hookimpl


@hookimpl
def register_exporters(register):
    from artengine.export.config import OnnxExportConfig

    register("onnx", "artengine.export.onnx_export:make_exporter", config=OnnxExportConfig,
             description="ONNX file verified against PyTorch (checker + onnxruntime parity), "
                         "optional int8/fp16 speed variant.", suffix=".onnx")
