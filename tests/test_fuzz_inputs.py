"""Property-based fuzzing of everything a user (or a damaged disk) can hand artengine.

``--set`` values, TOML config files, checkpoint JSON, config.json, safetensors headers and ONNX output
shapes: every case ends in success or an ArtengineError (the CLI's one ``Error:`` line), never another
exception, and a case that fails never changes the run directory.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artengine.errors import ArtengineError

from .helpers_onnx import output_of_shape
from .helpers_runs import TINY, folder_hash, invoke

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

SET_KEYS = ["trainer.lr_g", "trainer.lr_d", "trainer.beta1", "steps", "minutes", "epochs", "image_size",
            "batch_size", "seed", "generator.width", "discriminator.width", "loss", "dataset.in_memory",
            "checkpoint_every", "keep_checkpoints", "trainer", "generator", "precision", "nonsense.key", "lr_g"]
NASTY_TEXT = st.sampled_from(["nan", "inf", "-inf", "1e400", "-1", "0", "1e-300", "", " ", "none", "true",
                              "0x10", "1_000", "３", "../../etc", "[1, 2]", "{}", "\x00", "9" * 40])
VALUES = st.one_of(NASTY_TEXT, st.text(max_size=12), st.integers(-10**12, 10**12).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _ends_well(result) -> None:
    """Success, or one clear error line (an exception other than ArtengineError propagates from invoke)."""
    if result.returncode != 0:
        assert result.stderr.startswith("Error: ") or "Usage:" in result.stderr, result.stderr


@FUZZ
@given(items=st.lists(st.tuples(st.sampled_from(SET_KEYS), VALUES), min_size=1, max_size=4))
def test_fuzzed_set_values_end_in_success_or_one_error(tmp_path, items):
    out = tmp_path / "never-made"
    args = [a for key, value in items for a in ("--set", f"{key}={value}")]
    _ends_well(invoke("train", "dcgan", "--steps", "1", "--out", str(out), *args, "--dry-run"))
    assert not out.exists()


TOML_SCALARS = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                         st.booleans(), st.text(max_size=8), NASTY_TEXT)
TOML_KEYS = st.sampled_from(["trainer", "generator", "dataset", "loss", "steps", "seed", "lr_g", "width",
                             "name", "image_size", "minutes", "path", "x"])
TOML_TREES = st.recursive(TOML_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(TOML_KEYS, inner, max_size=3)),
                          max_leaves=8)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"


@FUZZ
@given(doc=st.dictionaries(TOML_KEYS, TOML_TREES, max_size=4), raw=st.binary(max_size=40), use_raw=st.booleans())
def test_fuzzed_toml_configs_end_in_success_or_one_error(tmp_path, doc, raw, use_raw):
    config = tmp_path / "fuzz.toml"
    config.write_bytes(raw if use_raw else "\n".join(f"{k} = {_toml(v)}" for k, v in doc.items()).encode())
    _ends_well(invoke("train", "dcgan", "--steps", "1", "--config", str(config), "--dry-run"))


# ---------------------------------------------------------------- files of a run


def _mutate(value, draw_value, path_choice: int):
    """Replace one node of a JSON tree (chosen by ``path_choice``) with ``draw_value``."""
    nodes = []

    def walk(node, parent, key):
        nodes.append((parent, key))
        if isinstance(node, dict):
            for k, v in list(node.items())[:12]:
                walk(v, node, k)
        elif isinstance(node, list):
            for i, v in enumerate(node[:3]):
                walk(v, node, i)

    walk(value, None, None)
    parent, key = nodes[path_choice % len(nodes)]
    if parent is None:
        return draw_value
    if draw_value is _DELETE and isinstance(parent, dict):
        del parent[key]
    else:
        parent[key] = None if draw_value is _DELETE else draw_value
    return value


_DELETE = object()
JSON_VALUES = st.one_of(st.just(_DELETE), st.none(), st.booleans(), st.integers(-2**70, 2**70),
                        st.floats(allow_nan=False), st.text(max_size=10), st.just("../../etc/passwd"),
                        st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(),
                                                                             max_size=2))


def _load_run(run: Path) -> None:
    """What export, sample and eval do first: rebuild the run from its folder."""
    from artengine.training.build import load_trainer

    load_trainer(run)


def _check_load(tiny_run: Path, edit) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        shutil.copytree(tiny_run, run)
        edit(run)
        before = folder_hash(run)
        try:
            _load_run(run)
        except ArtengineError as exc:
            assert str(exc).strip()
        assert folder_hash(run) == before  # loading never writes


@FUZZ
@given(value=JSON_VALUES, where=st.integers(0, 10**6), file=st.sampled_from(["step", "latest", "config"]))
def test_fuzzed_run_json_files_load_or_give_one_error(tiny_run, value, where, file):
    name = {"step": "checkpoints/step-000000006.json", "latest": "checkpoints/latest.json",
            "config": "config.json"}[file]

    def edit(run: Path) -> None:
        path = run / name
        data = _mutate(json.loads(path.read_text()), value, where)
        path.write_text(json.dumps(data, default=str))

    _check_load(tiny_run, edit)


@FUZZ
@given(header=st.one_of(st.binary(max_size=60), st.dictionaries(
    st.text(max_size=12), st.dictionaries(st.sampled_from(["dtype", "shape", "data_offsets"]),
                                          st.one_of(st.text(max_size=4), st.lists(st.integers(-5, 10**12),
                                                                                  max_size=3))), max_size=3)),
       length_lie=st.integers(-8, 2**20), body=st.binary(max_size=64))
def test_fuzzed_safetensors_headers_load_or_give_one_error(tiny_run, header, length_lie, body):
    def edit(run: Path) -> None:
        raw = header if isinstance(header, bytes) else json.dumps(header).encode()
        length = max(0, len(raw) + length_lie) if length_lie < 2**20 else len(raw)
        (run / "checkpoints" / "step-000000006.safetensors").write_bytes(struct.pack("<Q", length) + raw + body)

    _check_load(tiny_run, edit)


# ---------------------------------------------------------------- ONNX outputs


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 9), min_size=0, max_size=5), symbolic=st.booleans(), n=st.integers(1, 5))
def test_fuzzed_onnx_output_shapes_are_checked_against_the_contract(shape, symbolic, n):
    from artengine.runtime import latents, load_model

    with tempfile.TemporaryDirectory() as tmp:
        declared = ["batch", *shape[1:]] if symbolic and shape else shape
        path = output_of_shape(Path(tmp) / "m.onnx", shape, declared=declared)
        try:
            images = load_model(path).generate(latents(0, n, 8))
        except ArtengineError as exc:
            assert "m.onnx" in str(exc)
            return
        assert images.shape == (n, 3, 8, 8) and np.isfinite(images).all()


@pytest.mark.parametrize("n", [1, 3])
def test_an_honest_shape_passes_the_contract(tmp_path, n):
    from artengine.runtime import latents, load_model

    path = output_of_shape(tmp_path / "m.onnx", [n, 3, 8, 8], declared=["batch", 3, 8, 8])
    assert load_model(path).generate(latents(0, n, 8)).shape == (n, 3, 8, 8)


def test_set_fuzz_covers_real_settings():
    """The keys fuzzed above are real settings (a typo here would make the fuzzing test nothing)."""
    result = invoke("train", "dcgan", *TINY, "--steps", "1", "--dry-run")
    resolved = json.loads(result.stdout)
    for key in ("steps", "minutes", "image_size", "batch_size", "seed", "checkpoint_every", "keep_checkpoints"):
        assert key in resolved
    assert {"lr_g", "lr_d"} <= set(resolved["trainer"])
