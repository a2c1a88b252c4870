"""Small real ONNX files built with onnx.helper: honest generators and crafted ones that break the contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(path: Path, nodes, inputs, output_shape, initializers=(), metadata=None) -> Path:
    graph = helper.make_graph(nodes, "g", inputs,
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, output_shape)],
                              initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=f"artengine.{key}", value=str(value))
    onnx.save(model, str(path))
    return Path(path)


def _meta(latent_dim: int, size: int, channels: int) -> dict:
    return {"kind": "generator", "latent_dim": latent_dim, "image_size": size, "channels": channels}


def _z(latent_dim: int):
    return [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", latent_dim])]


def linear_generator(path: Path, *, size: int = 64, latent_dim: int = 8, channels: int = 3) -> Path:
    """A cheap honest generator: sigmoid(z @ W) reshaped to [batch, C, size, size]."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((latent_dim, channels * size * size)).astype(np.float32), "W")
    shape = numpy_helper.from_array(np.array([-1, channels, size, size], np.int64), "shape")
    nodes = [helper.make_node("MatMul", ["z", "W"], ["h"]), helper.make_node("Sigmoid", ["h"], ["s"]),
             helper.make_node("Reshape", ["s", "shape"], ["image"])]
    return _save(path, nodes, _z(latent_dim), ["batch", channels, size, size], [w, shape],
                 _meta(latent_dim, size, channels))


def output_of_shape(path: Path, shape: list[int], *, declared: list | None = None, latent_dim: int = 8,
                    size: int = 8, channels: int = 3) -> Path:
    """A generator whose output is a constant of ``shape`` whatever the batch (declared as ``declared``)."""
    value = numpy_helper.from_array(np.full(shape, 0.5, np.float32), "value")
    nodes = [helper.make_node("Identity", ["value"], ["image"])]
    return _save(path, nodes, _z(latent_dim), declared if declared is not None else shape, [value],
                 _meta(latent_dim, size, channels))


def rank2_output(path: Path, *, latent_dim: int = 8, width: int = 768) -> Path:
    """Output ``[batch, 768]``: z times a matrix, declared as it is."""
    w = numpy_helper.from_array(np.ones((latent_dim, width), np.float32), "W")
    nodes = [helper.make_node("MatMul", ["z", "W"], ["image"])]
    return _save(path, nodes, _z(latent_dim), ["batch", width], [w], _meta(latent_dim, 16, 3))


def huge_allocation(path: Path, *, latent_dim: int = 8, size: int = 8) -> Path:
    """Declares [batch, 3, size, size] but asks onnxruntime for a tensor of ~10^17 floats."""
    shape = numpy_helper.from_array(np.array([100_000, 3, 1_000_000, 1_000_000], np.int64), "huge")
    nodes = [helper.make_node("ConstantOfShape", ["huge"], ["image"],
                              value=numpy_helper.from_array(np.array([0.5], np.float32)))]
    return _save(path, nodes, _z(latent_dim), ["batch", 3, size, size], [shape], _meta(latent_dim, size, 3))
