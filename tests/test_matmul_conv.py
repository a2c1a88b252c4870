"""Small-image convolutions as matmuls (artengine.training.matmul_conv): exact maths, first and second
derivatives, the swap keeping parameters and names, the fallback outside bf16-on-CPU, and a real trainer."""

from __future__ import annotations

import copy
import dataclasses
import io
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from artengine.training import matmul_conv
from artengine.training.matmul_conv import (
    MatmulConv2d,
    MatmulConvTranspose2d,
    conv2d_matmul,
    conv_transpose2d_matmul,
    matmul_convolutions_pay_off,
    use_matmul_convolutions,
)

f64 = torch.float64


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), h=st.integers(1, 7), w=st.integers(1, 7),
       cin=st.integers(1, 4), cout=st.integers(1, 4), batch=st.integers(1, 3), bias=st.booleans())
def test_matmul_convolutions_equal_torch_with_their_gradients(k, s, p, h, w, cin, cout, batch, bias):
    gen = torch.Generator().manual_seed(k * 1000 + s * 100 + h * 10 + w)
    x = torch.randn(batch, cin, h, w, dtype=f64, generator=gen, requires_grad=True)
    b = torch.randn(cout, dtype=f64, generator=gen, requires_grad=True) if bias else None
    if h + 2 * p >= k and w + 2 * p >= k:
        wc = torch.randn(cout, cin, k, k, dtype=f64, generator=gen, requires_grad=True)
        _same_with_grads(lambda: conv2d_matmul(x, wc, b, s, p), lambda: F.conv2d(x, wc, b, s, p), [x, wc, b])
    if min(h, w) * s - s + k - 2 * p >= 1:  # a non-empty transposed output
        wt = torch.randn(cin, cout, k, k, dtype=f64, generator=gen, requires_grad=True)
        _same_with_grads(lambda: conv_transpose2d_matmul(x, wt, b, s, p),
                         lambda: F.conv_transpose2d(x, wt, b, s, p), [x, wt, b])


def _same_with_grads(ours, theirs, inputs):
    inputs = [t for t in inputs if t is not None]
    y_ours, y_theirs = ours(), theirs()
    torch.testing.assert_close(y_ours, y_theirs)
    probe = torch.randn_like(y_theirs)
    g_ours = torch.autograd.grad((y_ours * probe).sum(), inputs)
    g_theirs = torch.autograd.grad((y_theirs * probe).sum(), inputs)
    for a, b in zip(g_ours, g_theirs, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(("k", "s", "p", "h"), [(4, 2, 1, 4), (4, 1, 0, 1), (3, 2, 1, 5)])
def test_second_derivatives_are_exact_for_r1(k, s, p, h):
    # R1 differentiates D's input gradient with respect to D's weights: the backward must itself be differentiable
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, h, h, dtype=f64, generator=gen, requires_grad=True)
    b = torch.randn(2, dtype=f64, generator=gen, requires_grad=True)
    wc = torch.randn(2, 3, k, k, dtype=f64, generator=gen, requires_grad=True)
    wt = torch.randn(3, 2, k, k, dtype=f64, generator=gen, requires_grad=True)
    if h + 2 * p >= k:
        assert torch.autograd.gradgradcheck(lambda x, w, b: conv2d_matmul(x, w, b, s, p), (x, wc, b))
    assert torch.autograd.gradgradcheck(lambda x, w, b: conv_transpose2d_matmul(x, w, b, s, p), (x, wt, b))


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.ConvTranspose2d(16, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(),
                         nn.ConvTranspose2d(512, 256, 4, 2, 1), nn.ReLU(),
                         nn.Conv2d(256, 512, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(512, 512, 3, 1, 1, padding_mode="circular"),  # not plain: keeps its own forward
                         nn.Conv2d(512, 1, 4, 1, 0))


def _grad_fns(y: torch.Tensor) -> set[str]:
    names, visited, todo = set(), set(), [y.grad_fn]
    while todo:
        fn = todo.pop()
        if fn is None or id(fn) in visited:
            continue
        visited.add(id(fn))
        names.add(type(fn).__name__)
        todo += [nxt for nxt, _ in fn.next_functions]
    return names


def test_the_swap_keeps_parameters_and_names_and_is_exact_in_other_dtypes():
    plain = _net().double()
    fast = copy.deepcopy(plain)
    assert use_matmul_convolutions(fast) == 4  # the circular conv stays as it is
    assert type(fast[0]) is MatmulConvTranspose2d and type(fast[5]) is MatmulConv2d and type(fast[7]) is nn.Conv2d
    assert list(fast.state_dict()) == list(plain.state_dict())
    for a, b in zip(fast.state_dict().values(), plain.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    z = torch.randn(2, 16, 1, 1, dtype=f64)
    assert torch.equal(fast(z), plain(z))  # float64: the parent's convolution, bit for bit
    assert not {"_Conv2dMatmulBackward", "_ConvTranspose2dMatmulBackward"} & _grad_fns(fast(z.requires_grad_()))
    assert isinstance(copy.deepcopy(fast)[3], MatmulConvTranspose2d)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_bf16_and_fp32_on_cpu_take_the_matmul_path_for_the_small_wide_layers(dtype):
    plain = _net().to(memory_format=torch.channels_last)
    fast = copy.deepcopy(plain)
    use_matmul_convolutions(fast)
    z = torch.randn(4, 16, 1, 1, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        y_fast, y_plain = fast(z), plain(z)
    assert {"_Conv2dMatmulBackward", "_ConvTranspose2dMatmulBackward"} <= _grad_fns(y_fast)
    assert y_fast.dtype == y_plain.dtype == dtype
    tol = 0.05 if dtype == torch.bfloat16 else 1e-4
    torch.testing.assert_close(y_fast.float(), y_plain.float(), atol=tol * y_plain.float().abs().max().item(), rtol=0)
    (g_fast,) = torch.autograd.grad(y_fast.float().sum(), fast[3].weight)
    (g_plain,) = torch.autograd.grad(y_plain.float().sum(), plain[3].weight)
    cos = F.cosine_similarity(g_fast.flatten(), g_plain.flatten(), dim=0)
    assert cos > (0.99 if dtype == torch.bfloat16 else 0.99999)


def test_small_layers_and_big_images_keep_onednn():
    small = nn.Sequential(nn.Conv2d(32, 64, 4, 2, 1))  # 32 x 64 channels: under the product threshold
    big = nn.Sequential(nn.Conv2d(256, 512, 4, 2, 1))  # wide, but a 16x16 output
    for net, x in ((small, torch.randn(2, 32, 8, 8)), (big, torch.randn(2, 256, 32, 32))):
        use_matmul_convolutions(net)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = net(x.requires_grad_())
        assert "_Conv2dMatmulBackward" not in _grad_fns(y)


def test_export_uses_the_standard_convolution(monkeypatch):
    fast = _net().eval()
    use_matmul_convolutions(fast)
    z = torch.randn(1, 16, 1, 1)
    onnx = pytest.importorskip("onnx")
    for dynamo in (False, True):  # the TorchScript exporter traces; the dynamo one goes through torch.export
        buf = io.BytesIO()
        program = torch.onnx.export(fast, (z,), None if dynamo else buf, dynamo=dynamo)
        model = program.model_proto if dynamo else onnx.load_from_string(buf.getvalue())
        ops = {node.op_type for node in model.graph.node}
        assert {"Conv", "ConvTranspose"} <= ops and "MatMul" not in ops, (dynamo, ops)
    # and a graph captured in bf16 (export, tracing, torch.compile) never records the matmul path
    monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = fast(z.requires_grad_())
    assert not {"_Conv2dMatmulBackward", "_ConvTranspose2dMatmulBackward"} & _grad_fns(y)


def test_the_swap_pays_off_on_a_cpu_in_fp32_and_native_bf16(monkeypatch):
    from artengine.training import precision

    cpu = torch.device("cpu")
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    assert matmul_convolutions_pay_off(cpu, "bf16") and matmul_convolutions_pay_off(cpu, "fp32")
    assert not matmul_convolutions_pay_off(cpu, "fp16")
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    assert not matmul_convolutions_pay_off(cpu, "bf16")  # emulated bf16 (AVX2): its matmuls are slower still
    assert matmul_convolutions_pay_off(cpu, "fp32")
    assert not matmul_convolutions_pay_off(torch.device("cuda"), "fp32")


def test_a_bf16_dcgan_trainer_trains_through_the_matmul_path_with_r1(tmp_path, monkeypatch):
    from artengine.pluginhost import get_registry
    from artengine.plugins.gan import trainer as gan_trainer
    from artengine.runconfig import resolve
    from artengine.training.build import build_trainer

    monkeypatch.setattr(gan_trainer, "matmul_convolutions_pay_off", lambda device, precision: precision == "bf16")
    monkeypatch.setattr(matmul_conv, "MIN_CHANNEL_PRODUCT", 1)  # the tiny test networks count as wide
    calls = {"conv": 0, "convt": 0}
    for name, key in (("conv2d_matmul", "conv"), ("conv_transpose2d_matmul", "convt")):
        real = getattr(matmul_conv, name)

        def counted(*args, _real=real, _key=key):
            calls[_key] += 1
            return _real(*args)

        monkeypatch.setattr(matmul_conv, name, counted)
    config = resolve("dcgan", registry=get_registry(),
                     cli_values={"data": "digits", "out": str(tmp_path / "r"), "steps": 2, "image_size": 8,
                                 "batch_size": 8, "seed": 0, "device": "cpu", "precision": "bf16"},
                     set_values={"generator.width": "8", "discriminator.width": "8", "generator.latent_dim": "16",
                                 "trainer.r1_gamma": "1", "trainer.r1_every": "1", "trainer.augment": "none",
                                 "sample_every": "0", "checkpoint_every": "0"})
    trainer = build_trainer(config)
    trainer.setup()
    assert isinstance(trainer.G.net[0], MatmulConvTranspose2d)
    for _ in range(2):
        metrics = trainer.train_step()
        trainer.step += 1
    assert calls["conv"] > 0 and calls["convt"] > 0
    assert math.isfinite(metrics["loss_d"]) and math.isfinite(metrics["loss_g"]) and metrics["r1"] > 0

    off = build_trainer(dataclasses.replace(config, settings=dataclasses.replace(
        config.settings, out=str(tmp_path / "off"), matmul_convs=False)))
    off.setup()
    assert not any(isinstance(m, (MatmulConv2d, MatmulConvTranspose2d)) for m in off.G.modules())
