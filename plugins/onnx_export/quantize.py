"""Speed variants of an exported fp32 model: int8 (static QDQ) or fp16 weights.

Each variant is checked against the fp32 model on the verification batch; the
differences are stored in the file (``artengine.quantized_max_diff``/``_mean_diff``)
so a user can see how far the fast model strays. No torch here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from artengine.export.errors import ExportError
from artengine.runtime.controls import parse_extra_inputs

from .config import OnnxExportConfig
from .verify import ort_session, run_ort


class _RandomInputs:
    """Calibration data for static int8: the inputs the model will see in use (random latents/images)."""

    def __init__(self, kind: str, meta: dict[str, Any], names: list[str], batches: int, seed: int):
        rng = np.random.default_rng(seed + 1)
        self.items = []
        for _ in range(batches):
            if kind == "generator":
                feed = {names[0]: rng.standard_normal((16, int(meta["latent_dim"])), dtype=np.float32)}
                for spec in parse_extra_inputs(meta.get("extra_inputs")):  # each across its declared range
                    feed[spec.name] = rng.uniform(spec.min, spec.max, 16).astype(np.float32)
            else:
                size = int(meta.get("image_size") or 64)
                feed = {names[0]: rng.random((2, int(meta.get("channels") or 3), size, size), dtype=np.float32)}
            self.items.append(feed)
        self._iter = iter(self.items)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._iter, None)

    def rewind(self) -> None:
        self._iter = iter(self.items)


def _int8(data: bytes, reader: _RandomInputs) -> bytes:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def get_next(self):
            return reader.get_next()

    with tempfile.TemporaryDirectory(prefix="artengine-quant-") as tmp:
        src, pre, dst = (Path(tmp) / n for n in ("fp32.onnx", "pre.onnx", "int8.onnx"))
        src.write_bytes(data)
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
        return dst.read_bytes()


def _topological_sort(graph: onnx.GraphProto) -> None:
    """Reorder nodes so each comes after its inputs' producers (the fp16 converter appends casts)."""
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        rest = [n for n in pending if not all(i in ready for i in n.input)]
        done = [n for n in pending if all(i in ready for i in n.input)]
        if not done:
            raise ValueError("graph has a cycle or an undefined input")
        for node in done:
            ready.update(node.output)
        ordered.extend(done)
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)


def _fp16(data: bytes) -> bytes:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load_from_string(data), keep_io_types=True)
    _topological_sort(model.graph)
    return model.SerializeToString()


def quantize_model(data: bytes, cfg: OnnxExportConfig, *, kind: str, meta: dict[str, Any], names: list[str],
                   reference: tuple[dict[str, np.ndarray], np.ndarray]) -> tuple[bytes, float, float]:
    """Return (variant bytes, max abs diff, mean abs diff) against the fp32 outputs ``reference``."""
    original = onnx.load_from_string(data)
    try:
        if cfg.quantize == "int8":
            out = _int8(data, _RandomInputs(kind, meta, names, cfg.calibration_batches, cfg.seed))
        else:
            out = _fp16(data)
    except Exception as exc:
        raise ExportError(f"{cfg.quantize} conversion failed: {type(exc).__name__}: {exc}",
                          hint="export without --quantize") from None
    feeds, expected = reference
    got = run_ort(ort_session(out), feeds)
    qmax, qmean = float(np.abs(got - expected).max()), float(np.abs(got - expected).mean())
    if not (qmax <= cfg.quantized_atol and qmean <= cfg.quantized_mean_atol):
        raise ExportError(f"the {cfg.quantize} model differs from fp32 by max {qmax:.3g} / mean {qmean:.3g} "
                          f"(allowed {cfg.quantized_atol:g} / {cfg.quantized_mean_atol:g}); nothing was written",
                          hint="export without --quantize, or try the other variant")
    model = onnx.load_from_string(out)
    del model.metadata_props[:]
    model.metadata_props.extend(original.metadata_props)
    for key, value in {"artengine.quantize": cfg.quantize, "artengine.quantized_max_diff": f"{qmax:.6g}",
                       "artengine.quantized_mean_diff": f"{qmean:.6g}"}.items():
        model.metadata_props.add(key=key, value=value)
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise ExportError(f"onnx's checker rejects the {cfg.quantize} model: {exc}") from None
    return model.SerializeToString(), qmax, qmean
