"""How onnxruntime sessions are built: explicit options, one thread per usable core, and the knob honoured."""

from __future__ import annotations

import os

import onnxruntime as ort

from artengine.runtime import load_model
from artengine.runtime.model import session_options, usable_cores


def test_session_options_are_explicit_and_threads_follow_the_usable_cores():
    opts = session_options()
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert opts.enable_cpu_mem_arena and opts.enable_mem_pattern
    assert opts.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert 1 <= opts.intra_op_num_threads == usable_cores() <= len(os.sched_getaffinity(0))
    assert session_options(3).intra_op_num_threads == 3


def test_model_runs_with_the_options_and_a_thread_count(tiny_onnx_model):
    import numpy as np

    a = load_model(tiny_onnx_model)
    b = load_model(tiny_onnx_model, threads=1)
    z = np.random.default_rng(0).standard_normal((3, a.latent_dim)).astype(np.float32)
    assert np.allclose(a.generate(z), b.generate(z), atol=1e-6)
