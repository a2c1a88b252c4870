"""The torch-free runtime: loading, contract errors, deterministic latents."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from artengine.errors import ModelFileError
from artengine.runtime import interpolation_path, latent, latents, load_model, slerp


def _identity_model(path, input_name="z", metadata=None):
    """A real, valid ONNX file that is not an artengine generator (or only pretends to be)."""
    graph = helper.make_graph(
        [helper.make_node("Identity", [input_name], ["image"])], "g",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 8])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


def test_runtime_never_imports_torch(tiny_onnx_model):
    code = ("import sys\nfrom artengine.runtime import load_model, latents\n"
            f"m = load_model({str(tiny_onnx_model)!r})\nimg = m.generate(latents(0, 3, m.latent_dim))\n"
            "assert img.shape == (3, 3, 8, 8), img.shape\n"
            "print('torch' in sys.modules, sorted(k for k in sys.modules if k.startswith('torch'))[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("False"), out.stdout


def test_loaded_model_exposes_contract(tiny_onnx_model):
    model = load_model(tiny_onnx_model)
    assert (model.kind, model.latent_dim, model.image_size, model.channels) == ("generator", 8, 8, 3)
    assert model.providers == ["CPUExecutionProvider"] and model.controls == {}
    imgs = model.generate(latents(2, 70, 8), batch_size=32)  # batches are stitched back together
    assert imgs.shape == (70, 3, 8, 8) and 0 <= imgs.min() and imgs.max() <= 1
    with pytest.raises(Exception, match=r"latents must be \[n, 8\]"):
        model.generate(np.zeros((2, 5), np.float32))


def test_not_onnx_is_a_model_file_error(tmp_path):
    bad = tmp_path / "photo.onnx"
    bad.write_bytes(b"\x89PNG not a model at all")
    with pytest.raises(ModelFileError, match="not an artengine model"):
        load_model(bad)
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.onnx")


def test_onnx_without_metadata_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="no artengine.kind metadata"):
        load_model(_identity_model(tmp_path / "plain.onnx"))


def test_wrong_inputs_are_refused(tmp_path):
    path = _identity_model(tmp_path / "x.onnx", input_name="x", metadata={"artengine.kind": "generator"})
    with pytest.raises(ModelFileError, match="needs input 'z'"):
        load_model(path)


def test_cuda_provider_request_is_clear_when_absent(tiny_onnx_model):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert "CUDAExecutionProvider" in load_model(tiny_onnx_model, provider="cuda").providers
    else:
        with pytest.raises(Exception, match="no CUDA provider"):
            load_model(tiny_onnx_model, provider="cuda")


def test_latents_are_deterministic_and_independent_of_n():
    a, b = latents(7, 10, 16), latents(7, 3, 16)
    assert np.array_equal(a[:3], b) and np.array_equal(a[4], latent(7, 4, 16))
    assert not np.array_equal(latents(8, 3, 16), b)
    t = latents(7, 50, 16, truncation=0.5)
    assert np.abs(t).max() <= 0.5


def test_slerp_path_loops_through_keys():
    keys = latents(1, 3, 32)
    assert np.allclose(slerp(keys[0], keys[1], 0.0), keys[0]) and np.allclose(slerp(keys[0], keys[1], 1.0), keys[1])
    path = interpolation_path(keys, 5)
    assert path.shape == (15, 32) and np.allclose(path[5], keys[1]) and np.allclose(path[10], keys[2])
    norms = np.linalg.norm(path, axis=1)  # slerp stays near the Gaussian shell, lerp would dip
    assert norms.min() > 0.8 * np.linalg.norm(keys, axis=1).min()


def test_embed_example_matches_the_runtime(tiny_onnx_model, tmp_path):
    """examples/embed_app.py (numpy + onnxruntime only) draws the same images as artengine's runtime."""
    from pathlib import Path

    from PIL import Image

    from artengine.runtime.images import to_uint8

    script = Path(__file__).resolve().parents[1] / "examples" / "embed_app.py"
    out = tmp_path / "row.png"
    proc = subprocess.run([sys.executable, str(script), str(tiny_onnx_model), str(out), "5"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    expected = np.concatenate(list(to_uint8(load_model(tiny_onnx_model).generate(latents(5, 8, 8)))), axis=1)
    got = np.asarray(Image.open(out).convert("RGB"))
    assert got.shape == expected.shape and np.abs(got.astype(int) - expected).max() <= 1
