"""Run a serialized ONNX model in onnxruntime (CPU) to check it against PyTorch. No torch here."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort


def ort_session(model: bytes | str) -> ort.InferenceSession:
    """A CPU session with deterministic, full graph optimization (what the runtime uses)."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


def run_ort(session: ort.InferenceSession, feeds: dict[str, np.ndarray], output: str = "image") -> np.ndarray:
    return np.asarray(session.run([output], feeds)[0], dtype=np.float32)
