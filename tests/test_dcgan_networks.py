"""DCGAN networks: every supported size and channel count, options, init and clear errors."""

from __future__ import annotations

import pytest
import torch

from artengine.errors import ConfigError
from artengine.pluginhost import get_registry
from artengine.plugins.dcgan.config import DcganDiscriminatorConfig, DcganGeneratorConfig
from artengine.plugins.dcgan.networks import DcganDiscriminator, DcganGenerator
from artengine.plugins.gan.layers import MinibatchStdDev


@pytest.mark.parametrize("size", [8, 16, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_every_power_of_two_size(size, channels):
    g = DcganGenerator(DcganGeneratorConfig(latent_dim=8, width=4), image_size=size, channels=channels)
    d = DcganDiscriminator(DcganDiscriminatorConfig(width=4), image_size=size, channels=channels)
    with torch.no_grad():
        img = g(torch.randn(2, 8))
    assert img.shape == (2, channels, size, size)
    assert float(img.abs().max()) <= 1.0
    assert d(img).shape == (2,)


def test_canonical_widths_match_pytorch_examples():
    g = DcganGenerator(DcganGeneratorConfig(), image_size=64, channels=3)
    first = g.net[0]
    assert (first.in_channels, first.out_channels) == (100, 512)
    d = DcganDiscriminator(DcganDiscriminatorConfig(), image_size=64, channels=3)
    assert d.head.in_channels == 512


@pytest.mark.parametrize("size", [4, 24, 256])
def test_unsupported_size_is_a_clear_error(size):
    with pytest.raises(ConfigError, match="power of two"):
        DcganGenerator(DcganGeneratorConfig(), image_size=size, channels=1)


def test_options_nearest_upsample_stddev_spectral_norm_no_bn():
    g = DcganGenerator(DcganGeneratorConfig(latent_dim=8, width=4, upsample="nearest", batch_norm=False),
                       image_size=16, channels=3)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules())
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) and m.stride == (2, 2) for m in g.modules())
    d = DcganDiscriminator(DcganDiscriminatorConfig(width=4, minibatch_stddev=True, spectral_norm=True, norm="none"),
                           image_size=16, channels=3)
    assert d(g(torch.randn(6, 8))).shape == (6,)
    assert any(hasattr(m, "parametrizations") for m in d.modules())
    assert d.head.in_channels == 4 * 2 + 1  # the stddev channel


def test_minibatch_stddev_sees_collapse():
    layer = MinibatchStdDev(group=4)
    same = torch.ones(8, 2, 4, 4)
    varied = torch.randn(8, 2, 4, 4)
    assert float(layer(same)[:, -1].max()) < 1e-3
    assert float(layer(varied)[:, -1].min()) > 0.1
    assert layer(torch.randn(6, 2, 4, 4)).shape == (6, 3, 4, 4)  # group shrinks to divide the batch


def test_dcgan_init():
    g = DcganGenerator(DcganGeneratorConfig(width=32), image_size=32, channels=1)
    w = g.net[3].weight
    assert abs(float(w.detach().std()) - 0.02) < 0.005


def test_components_are_registered_lazily():
    reg = get_registry()
    assert reg.get("generators", "dcgan").plugin == "artengine.plugins.dcgan"
    assert reg.get("recipes", "dcgan").extra["trainer"] == "gan"
    for name in ("bce", "hinge", "lsgan", "wgan-gp"):
        assert reg.get("losses", name).plugin == "artengine.plugins.gan"
    assert reg.get("losses", "wgan-gp").make_config({}).gp_weight == 10.0
