"""ProGAN building blocks: fade arithmetic, schedule, equalized LR, minibatch stddev, MSG pyramids."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from artengine.plugins.gan.layers import MinibatchStdDev
from artengine.plugins.progan import pyramid
from artengine.plugins.progan.config import ProDiscriminatorConfig, ProGeneratorConfig
from artengine.plugins.progan.layers import (
    EqualizedConv2d,
    EqualizedLinear,
    PixelNorm,
    downsample2x,
    upsample2x,
)
from artengine.plugins.progan.networks import ProDiscriminator, ProGenerator
from artengine.plugins.progan.schedule import Schedule

SMALL = {"fmap_base": 128, "fmap_max": 16, "fmap_min": 8}


def nets(msg: bool = False, size: int = 16):
    torch.manual_seed(0)
    g = ProGenerator(ProGeneratorConfig(latent_dim=16, **SMALL), image_size=size, channels=3, msg=msg)
    d = ProDiscriminator(ProDiscriminatorConfig(**SMALL), image_size=size, channels=3, msg=msg)
    return g, d


# -- schedule --------------------------------------------------------------------
def test_schedule_alpha_and_stage_lengths():
    s = Schedule.make(start=4, target=32, fade_images=100, stabilize_images=50, first_stage_images=30,
                      batch_sizes=[16, 8, 4], default_batch=64)
    assert s.resolutions == (4, 8, 16, 32)
    assert s.batch_sizes == (16, 8, 4, 4)  # the last value repeats
    capped = Schedule.make(start=4, target=32, fade_images=1, stabilize_images=1, batch_sizes=[16, 8, 4],
                           default_batch=6)
    assert capped.batch_sizes == (6, 6, 4, 4)  # the run's batch_size caps each entry
    assert s.alpha(0, 0) == 1.0  # the first stage has nothing to fade from
    assert s.alpha(1, 0) == 0.0 and s.alpha(1, 25) == 0.25 and s.alpha(1, 100) == 1.0 and s.alpha(1, 130) == 1.0
    assert s.alpha(2, 99) < 1.0 and s.alpha(2, 100) == 1.0  # fading, then stabilizing
    assert not s.stage_done(0, 29) and s.stage_done(0, 30)
    assert not s.stage_done(1, 149) and s.stage_done(1, 150)
    assert not s.stage_done(3, 10**9)  # the last stage lasts until the budget ends
    assert s.total_growth_images() == 30 + 150 + 150 + 100


def test_schedule_msg_is_one_stage_and_bad_size_is_refused():
    s = Schedule.make(start=4, target=16, fade_images=100, stabilize_images=50, batch_sizes=[16, 8, 4], msg=True)
    assert s.resolutions == (16,) and s.alpha(0, 0) == 1.0 and s.batch_sizes == (4,)
    with pytest.raises(ValueError, match="power of two"):
        Schedule.make(start=4, target=24, fade_images=1, stabilize_images=1)


# -- growth and fade ---------------------------------------------------------------
def test_generator_fade_ends_are_previous_stage_and_new_block():
    g, _ = nets()
    z = torch.randn(5, 16)
    with torch.no_grad():
        prev = g(z, 8, 1.0)
        at0 = g(z, 16, 0.0)
        at1 = g(z, 16, 1.0)
        quarter = g(z, 16, 0.25)
        feats = g.features(z, 2)
    assert prev.shape == (5, 3, 8, 8) and at1.shape == (5, 3, 16, 16)
    torch.testing.assert_close(at0, upsample2x(prev), rtol=0, atol=0)  # alpha 0: upsampled old output
    torch.testing.assert_close(at1, g.to_rgb[2](feats[2]), rtol=0, atol=0)  # alpha 1: the new block alone
    torch.testing.assert_close(quarter, 0.75 * at0 + 0.25 * at1, rtol=1e-5, atol=1e-6)


def test_discriminator_fade_at_zero_scores_the_downsampled_image_with_the_old_path():
    _, d = nets()
    img = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(d(img, 0.0), d(downsample2x(img), 1.0), rtol=1e-6, atol=1e-6)
        assert not torch.allclose(d(img, 1.0), d(img, 0.0))


def test_inactive_blocks_get_no_gradient_and_full_size_nets_never_change():
    g, d = nets()
    count = sum(p.numel() for p in g.parameters())
    z = torch.randn(4, 16)
    d(g(z, 8, 0.5), 0.5).mean().backward()
    assert all(p.grad is None for p in g.blocks[2].parameters())  # the 16x16 block is not active yet
    assert g.to_rgb[0].weight.grad is not None  # the faded-out 4x4 toRGB still trains during the fade
    assert all(p.grad is not None for p in g.blocks[1].parameters())
    assert sum(p.numel() for p in g.parameters()) == count


# -- equalized learning rate -------------------------------------------------------------
def test_equalized_lr_weights_are_unit_normal_and_scaled_at_runtime():
    torch.manual_seed(0)
    conv = EqualizedConv2d(64, 64, 3)
    assert conv.scale == pytest.approx(math.sqrt(2) / math.sqrt(64 * 9))
    assert conv.weight.std().item() == pytest.approx(1.0, abs=0.02)  # stored N(0, 1), no init scaling
    x = torch.randn(8, 64, 12, 12)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight * conv.scale, conv.bias, padding=1))
    # effective output std is the He gain sqrt(2) for unit-variance input, whatever the fan-in
    for fan_in in (16, 256):
        lin = EqualizedLinear(fan_in, 512)
        out = lin(torch.randn(4096, fan_in))
        assert out.std().item() == pytest.approx(math.sqrt(2), rel=0.06)


def test_equalized_lr_gradient_is_scaled_by_he_constant():
    lin = EqualizedLinear(100, 1, gain=1.0)
    x = torch.ones(1, 100)
    lin(x).sum().backward()
    torch.testing.assert_close(lin.weight.grad, torch.full((1, 100), 0.1))  # d out / d w = x * 1/sqrt(100)


def test_pixelnorm_gives_unit_mean_square_per_pixel():
    x = torch.randn(3, 10, 4, 4) * 7
    y = PixelNorm()(x)
    torch.testing.assert_close(y.pow(2).mean(dim=1), torch.ones(3, 4, 4), rtol=1e-5, atol=1e-5)


# -- minibatch stddev -------------------------------------------------------------------
def test_minibatch_stddev_on_a_hand_made_batch():
    x = torch.arange(4, dtype=torch.float32).reshape(4, 1, 1, 1).repeat(1, 2, 3, 3)  # sample i is all i
    y = MinibatchStdDev(group=4)(x)
    assert y.shape == (4, 3, 3, 3)
    torch.testing.assert_close(y[:, :2], x)
    expected = math.sqrt(1.25 + 1e-8)  # population std of 0, 1, 2, 3
    torch.testing.assert_close(y[:, 2], torch.full((4, 3, 3), expected))
    # group 2: samples i and i + 2 share a group ({0, 2} and {1, 3}), each with std 1
    y2 = MinibatchStdDev(group=2)(x)
    torch.testing.assert_close(y2[:, 2], torch.full((4, 3, 3), math.sqrt(1.0 + 1e-8)))
    x2 = x.clone()
    x2[2] = 0.0  # group {0, 2} collapses to std 0, group {1, 3} keeps std 1
    y3 = MinibatchStdDev(group=2)(x2)[:, 2, 0, 0]
    torch.testing.assert_close(y3, torch.tensor([1e-4, 1.0, 1e-4, 1.0]), rtol=1e-3, atol=1e-6)


def test_minibatch_stddev_with_an_odd_batch_uses_a_divisor_group():
    y = MinibatchStdDev(group=4)(torch.randn(6, 2, 4, 4))  # group 3
    assert y.shape == (6, 3, 4, 4) and torch.isfinite(y).all()


# -- MSG-GAN -----------------------------------------------------------------------------
def test_msg_pyramid_pack_roundtrip_and_gradient_norm():
    g, d = nets(msg=True)
    z = torch.randn(4, 16)
    images = [im.detach() for im in g.forward_all(z)]
    assert [im.shape[-1] for im in images] == [4, 8, 16]
    packed = pyramid.pack(images)
    assert packed.shape == (4, 9, 16, 16)
    for a, b in zip(pyramid.unpack(packed, 3), images, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # the gradient norm w.r.t. the packed tensor is the gradient norm over the pyramid
    leaves = [im.clone().requires_grad_(True) for im in images]
    grads = torch.autograd.grad(d.forward_all(leaves).sum(), leaves)
    p = packed.clone().requires_grad_(True)
    (gp,) = torch.autograd.grad(d.forward_all(pyramid.unpack(p, 3)).sum(), p)
    norm = torch.sqrt(sum(gr.pow(2).sum() for gr in grads))
    torch.testing.assert_close(gp.norm(), norm, rtol=1e-5, atol=1e-6)


def test_msg_generator_top_output_is_the_plain_forward():
    g, _ = nets(msg=True)
    z = torch.randn(3, 16)
    with torch.no_grad():
        torch.testing.assert_close(g.forward_all(z)[-1], g(z), rtol=0, atol=0)
