"""Atomic writes and safetensors+JSON checkpoints (no pickle)."""

from __future__ import annotations

import json

import pytest
import torch

from artengine import atomic, checkpoint
from artengine.errors import CheckpointError


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "config.json"
    atomic.write_json(target, {"ok": 1})

    def explode(fh):
        fh.write(b"half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic.write_with(target, explode)
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temp file left


def _optimizer_state():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.99))
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    return model, opt


def test_optimizer_state_round_trips_through_safetensors_and_json(tmp_path):
    model, opt = _optimizer_state()
    tensors: dict[str, torch.Tensor] = {}
    skeleton = checkpoint.flatten_state("opt", opt.state_dict(), tensors)
    tensors.update(checkpoint.module_tensors("model", model))
    checkpoint.save_checkpoint(tmp_path, 7, tensors, {"opt": skeleton})
    loaded, meta = checkpoint.load_checkpoint(tmp_path)
    assert meta["step"] == 7
    model2, opt2 = _optimizer_state()
    checkpoint.load_module("model", model2, loaded)
    opt2.load_state_dict(checkpoint.unflatten_state(meta["opt"], loaded))
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(p, q)
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for k in s1["state"]:
        for name, value in s1["state"][k].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(s2["state"][k][name]))


def test_latest_pointer_pruning_and_torn_pointer(tmp_path):
    for step in (1, 2, 3):
        checkpoint.save_checkpoint(tmp_path, step, {"w": torch.full((2,), float(step))}, {}, keep=2)
    assert checkpoint.latest_checkpoint(tmp_path) == "step-000000003"
    assert sorted(p.name for p in tmp_path.glob("step-*.safetensors")) == [
        "step-000000002.safetensors", "step-000000003.safetensors"]
    (tmp_path / checkpoint.LATEST).write_text("{ torn")
    assert checkpoint.latest_checkpoint(tmp_path) == "step-000000003"
    tensors, _ = checkpoint.load_checkpoint(tmp_path)
    assert tensors["w"].tolist() == [3.0, 3.0]


def test_damaged_or_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        checkpoint.load_checkpoint(tmp_path)
    checkpoint.save_checkpoint(tmp_path, 1, {"w": torch.zeros(2)}, {})
    (tmp_path / "step-000000001.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="unreadable"):
        checkpoint.load_checkpoint(tmp_path)


def test_rng_state_round_trip():
    gen = torch.Generator().manual_seed(3)
    tensors, meta = checkpoint.rng_state({"latent": gen})
    json.dumps(meta)  # JSON-ready
    expected = (torch.rand(3), torch.randn(2, generator=gen))
    checkpoint.set_rng_state(tensors, meta, {"latent": gen})
    assert torch.equal(torch.rand(3), expected[0])
    assert torch.equal(torch.randn(2, generator=gen), expected[1])


@pytest.mark.parametrize("fused", [False, True])
def test_optimizer_state_comes_back_in_its_parameters_layout(fused):
    """Checkpoints store tensors contiguous; a fused Adam over a channels-last weight must get its moments
    back channels-last, or its next step walks them in the wrong order."""
    def model():
        torch.manual_seed(0)
        return torch.nn.Conv2d(4, 8, 3).to(memory_format=torch.channels_last)

    def step(net, opt, seed):
        torch.manual_seed(seed)
        opt.zero_grad()
        net(torch.randn(2, 4, 6, 6).to(memory_format=torch.channels_last)).square().mean().backward()
        opt.step()

    a = model()
    opt_a = torch.optim.Adam(a.parameters(), lr=1e-2, fused=fused)
    for seed in range(3):
        step(a, opt_a, seed)
    tensors: dict[str, torch.Tensor] = {}
    skeleton = checkpoint.flatten_state("opt", opt_a.state_dict(), tensors)
    tensors = {k: v.clone() for k, v in tensors.items()}  # as read back from a file: nothing shared with opt_a
    assert not tensors["opt.state.0.exp_avg"].is_contiguous(memory_format=torch.channels_last)

    b = model()
    b.load_state_dict(a.state_dict())
    opt_b = torch.optim.Adam(b.parameters(), lr=1e-2, fused=fused)
    checkpoint.load_optimizer_state(opt_b, skeleton, tensors)
    assert opt_b.state[b.weight]["exp_avg"].stride() == b.weight.stride()
    step(a, opt_a, 9)
    step(b, opt_b, 9)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
