"""The StyleGAN2 maths and controls, checked against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from artengine.errors import ConfigError
from artengine_stylegan.config import StyleDiscriminatorConfig, StyleGeneratorConfig
from artengine_stylegan.layers import EqualConv2d, EqualLinear, modulated_conv2d, upsample2x
from artengine_stylegan.networks import DiscriminatorBlock, StyleConv, StyleDiscriminator, StyleGenerator

SMALL = {"channel_base": 256, "channel_max": 16, "latent_dim": 16, "w_dim": 16, "mapping_layers": 2}


def hand_modulated_conv(x, weight, styles, demodulate):
    """Per sample, per output channel, loops over the formula of the StyleGAN2 paper (eq. 1-3)."""
    b, cin, h, w = x.shape
    cout, _, k, _ = weight.shape
    out = torch.zeros(b, cout, h, w, dtype=torch.float64)
    xp = torch.nn.functional.pad(x.double(), (k // 2,) * 4)
    for n in range(b):
        for o in range(cout):
            wmod = weight[o].double() * styles[n].double().reshape(cin, 1, 1)  # w' = s_i * w_ijk
            if demodulate:
                wmod = wmod / math.sqrt(float(wmod.square().sum()) + 1e-8)  # w'' = w' / sqrt(sum w'^2 + eps)
            for i in range(h):
                for j in range(w):
                    out[n, o, i, j] = (xp[n, :, i:i + k, j:j + k] * wmod).sum()
    return out


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("demodulate", [False, True])
def test_modulated_conv_matches_a_hand_computation(grouped, demodulate):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 5, generator=gen)
    weight = torch.randn(4, 3, 3, 3, generator=gen)
    styles = torch.rand(2, 3, generator=gen) * 2 + 0.1
    got = modulated_conv2d(x, weight, styles, demodulate=demodulate, grouped=grouped)
    torch.testing.assert_close(got.double(), hand_modulated_conv(x, weight, styles, demodulate), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("demodulate", [False, True])
def test_modulated_conv_gain_and_bias_are_the_output_scaled_and_shifted(grouped, demodulate):
    gen = torch.Generator().manual_seed(0)
    x, weight = torch.randn(2, 3, 5, 5, generator=gen), torch.randn(4, 3, 3, 3, generator=gen)
    styles, bias = torch.randn(2, 3, generator=gen), torch.randn(4, generator=gen)
    plain = modulated_conv2d(x, weight, styles, demodulate=demodulate, grouped=grouped)
    got = modulated_conv2d(x, weight, styles, demodulate=demodulate, grouped=grouped, bias=bias, gain=1.7)
    torch.testing.assert_close(got, plain * 1.7 + bias.reshape(1, -1, 1, 1))


def lrelu_gain(v):
    return torch.nn.functional.leaky_relu(v, 0.2) * math.sqrt(2.0)


def test_folded_gains_compute_the_unfolded_layers():
    """The activation's sqrt(2) and the residual's 1/sqrt(2) are folded into weights, biases and the
    demodulation; the layers must still compute what the StyleGAN2 formulas say."""
    torch.manual_seed(0)
    conv = StyleConv(6, 5, 8, 4, up=False, noise=True, circular=False, grouped=False).eval()
    with torch.no_grad():
        conv.bias.normal_()
        conv.noise.strength.fill_(0.7)
    x, w = torch.randn(3, 6, 4, 4), torch.randn(3, 8)
    hand = lrelu_gain(modulated_conv2d(x, conv.weight, conv.affine(w)) + conv.noise.fixed * 0.7
                      + conv.bias.reshape(1, -1, 1, 1))
    torch.testing.assert_close(conv(x, w), hand)

    layer = EqualConv2d(6, 5, 3, activate=True)
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(2, 6, 8, 8)
    hand = lrelu_gain(torch.nn.functional.conv2d(x, layer.weight / math.sqrt(6 * 9), layer.bias, padding=1))
    torch.testing.assert_close(layer(x), hand)

    block = DiscriminatorBlock(6, 5, circular=False)
    with torch.no_grad():
        for p in block.parameters():
            p.normal_()
    pool = torch.nn.functional.avg_pool2d
    conv0 = lrelu_gain(torch.nn.functional.conv2d(x, block.conv0.weight / math.sqrt(54), block.conv0.bias, padding=1))
    conv1 = lrelu_gain(torch.nn.functional.conv2d(pool(conv0, 2), block.conv1.weight / math.sqrt(54),
                                                  block.conv1.bias, padding=1))
    skip = torch.nn.functional.conv2d(pool(x, 2), block.skip.weight / math.sqrt(6))
    torch.testing.assert_close(block(x), (conv1 + skip) / math.sqrt(2.0))


def test_demodulation_gives_unit_variance_outputs_whatever_the_style():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 64, 16, 16, generator=gen)
    weight = torch.randn(32, 64, 3, 3, generator=gen)
    for scale in (0.01, 1.0, 100.0):
        out = modulated_conv2d(x, weight, torch.full((4, 64), scale), demodulate=True)
        assert abs(float(out[:, :, 1:-1, 1:-1].std()) - 1.0) < 0.1


def test_equalized_learning_rate_scales_at_runtime():
    layer = EqualLinear(64, 8, lr_mul=0.01)
    # stored weights are N(0, 1/lr_mul^2); the effective ones are N(0, 1/fan_in)
    effective = layer.weight.detach() * layer.weight_gain
    assert abs(float(layer.weight.detach().std()) - 100.0) < 15.0
    assert abs(float(effective.std()) - 1 / 8) < 0.02


@torch.no_grad()
def test_truncation_at_psi_zero_gives_one_image_for_every_latent():
    torch.manual_seed(0)
    g = StyleGenerator(StyleGeneratorConfig(**SMALL), image_size=16, channels=3)
    g.train()
    g(torch.randn(64, 16))  # moves w_avg away from zero
    g.eval()
    images = g(torch.randn(5, 16), psi=0.0)
    assert float((images - images[:1]).abs().max()) < 1e-5
    varied = g(torch.randn(5, 16), psi=1.0)
    assert float((varied - varied[:1]).abs().max()) > 1e-2
    # per-sample psi: each image gets its own
    mixed = g(torch.randn(2, 16), psi=torch.tensor([0.0, 1.0]))
    torch.testing.assert_close(mixed[0], images[0], atol=1e-5, rtol=0)


def test_style_mixing_uses_the_second_latent_only_from_the_crossover_layer():
    torch.manual_seed(0)
    g = StyleGenerator(StyleGeneratorConfig(**SMALL), image_size=16, channels=1).eval()
    assert g.num_ws == 6
    z1, z2, z3 = torch.randn(3, 2, 16)
    # the styles themselves: before K from z1, from K on from z2
    _, ws = g(z1, z2=z2, crossover=3, return_ws=True)
    w1, w2 = g.mapping(z1), g.mapping(z2)
    torch.testing.assert_close(ws[:, :3], w1[:, None].expand(-1, 3, -1))
    torch.testing.assert_close(ws[:, 3:], w2[:, None].expand(-1, 3, -1))
    # the image: with K = num_ws the second latent is ignored; with K < num_ws it counts
    torch.testing.assert_close(g(z1, z2=z2, crossover=g.num_ws), g(z1))
    assert not torch.allclose(g(z1, z2=z2, crossover=3), g(z1, z2=z3, crossover=3))
    # and the layers before K never see it: the gradient of the image w.r.t. z2's styles there is zero
    ws_a = g.broadcast(w1).detach().clone().requires_grad_(True)
    ws_b = g.broadcast(w2).detach().clone().requires_grad_(True)
    g.synthesis(g.mix(ws_a, ws_b, 3)).sum().backward()
    assert float(ws_b.grad[:, :3].abs().max()) == 0.0 and float(ws_b.grad[:, 3:].abs().max()) > 0
    assert float(ws_a.grad[:, 3:].abs().max()) == 0.0


@pytest.mark.parametrize("size,channels", [(8, 1), (16, 3), (32, 4)])
def test_every_power_of_two_size_and_channel_count_builds(size, channels):
    g = StyleGenerator(StyleGeneratorConfig(**SMALL), image_size=size, channels=channels)
    d = StyleDiscriminator(StyleDiscriminatorConfig(channel_base=256, channel_max=16), image_size=size,
                           channels=channels)
    img = g(torch.randn(4, 16))
    assert img.shape == (4, channels, size, size) and g.num_ws == 2 * int(math.log2(size)) - 2
    assert d(img).shape == (4,)


def test_unsupported_sizes_and_channels_are_config_errors():
    with pytest.raises(ConfigError, match="power of two from 8 to 256"):
        StyleGenerator(StyleGeneratorConfig(**SMALL), image_size=48, channels=3)
    with pytest.raises(ConfigError, match="1, 3 or 4 channels"):
        StyleGenerator(StyleGeneratorConfig(**SMALL), image_size=16, channels=2)


def test_mapping_tracks_the_average_w_only_while_training():
    g = StyleGenerator(StyleGeneratorConfig(**SMALL), image_size=8, channels=1)
    g.train()
    g(torch.randn(8, 16))
    after_train = g.mapping.w_avg.clone()
    assert float(after_train.abs().sum()) > 0
    g.eval()
    g(torch.randn(8, 16))
    torch.testing.assert_close(g.mapping.w_avg, after_train)


def test_mapping_tracks_the_average_w_in_float32_when_styles_are_mixed_under_bf16_autocast():
    # training mixes styles in most batches and may run in bf16: the average must move all the same,
    # or truncation pulls every image towards w = 0 instead of the average style
    g = StyleGenerator(StyleGeneratorConfig(**SMALL), image_size=8, channels=1)
    g.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        g(torch.randn(8, 16), z2=torch.randn(8, 16), crossover=2)
        g(torch.randn(8, 16))
    assert g.mapping.w_avg.dtype == torch.float32
    assert float(g.mapping.w_avg.abs().sum()) > 0


def test_circular_upsampling_commutes_with_rolling():
    x = torch.randn(1, 2, 6, 6)
    up_then_roll = torch.roll(upsample2x(x, circular=True), shifts=(2, 4), dims=(2, 3))
    roll_then_up = upsample2x(torch.roll(x, shifts=(1, 2), dims=(2, 3)), circular=True)
    torch.testing.assert_close(up_then_roll, roll_then_up)
