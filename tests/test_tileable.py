"""Tileable textures: circular padding makes a generator's images periodic, so they tile seamlessly;
the GAN trainer rolls real images around for such a generator."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from artengine.export import export_run
from artengine.gallery import build_gallery
from artengine.pluginhost import get_registry
from artengine.plugins.dcgan.config import DcganDiscriminatorConfig, DcganGeneratorConfig
from artengine.plugins.dcgan.networks import CircularConvTranspose2d, DcganDiscriminator, DcganGenerator
from artengine.plugins.gan.tiling import random_roll, seam_differences
from artengine.runconfig import resolve
from artengine.runtime import load_model
from artengine.training.build import build_trainer


def test_circular_transposed_conv_keeps_periodic_signals_periodic():
    torch.manual_seed(0)
    layer = CircularConvTranspose2d(3, 2, bias=True)
    x = torch.randn(1, 3, 5, 5)
    y = layer(x)
    assert y.shape == (1, 2, 10, 10)
    # a torus shift of the input by one pixel shifts the output by two: no border anywhere
    torch.testing.assert_close(layer(torch.roll(x, (1, 2), (2, 3))), torch.roll(y, (2, 4), (2, 3)))


@pytest.mark.parametrize("upsample", ["transposed", "nearest"])
def test_tileable_dcgan_networks_build_and_run(upsample):
    g = DcganGenerator(DcganGeneratorConfig(width=8, upsample=upsample, tileable=True), image_size=16, channels=3)
    d = DcganDiscriminator(DcganDiscriminatorConfig(width=8, tileable=True), image_size=16, channels=3)
    assert g.tileable and d.tileable
    assert d(g(torch.randn(4, 100))).shape == (4,)


def test_random_roll_is_a_torus_translation_of_each_image():
    images = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    rolled = random_roll(images, torch.Generator().manual_seed(1))
    for b in range(2):
        shifts = [(dy, dx) for dy in range(4) for dx in range(5)
                  if torch.equal(torch.roll(images[b], (-dy, -dx), (1, 2)), rolled[b])]
        assert len(shifts) == 1


def test_a_tileable_dcgan_trains_on_rolled_reals_and_its_samples_tile(tmp_path):
    config = resolve("dcgan", registry=get_registry(),
                     cli_values={"data": "digits", "out": str(tmp_path / "run"), "steps": 10, "image_size": 16,
                                 "batch_size": 16, "seed": 1, "device": "cpu"},
                     set_values={"generator.width": "8", "discriminator.width": "8", "generator.tileable": "true",
                                 "sample_every": "0", "checkpoint_every": "0"})
    trainer = build_trainer(config)
    trainer.fit()
    # the trainer rolls each real image around (the raw batch and the rolled one hold the same pixels)
    state = trainer.stream.state()
    raw, _ = trainer.stream.next()
    trainer.stream.load_state(state)
    rolled = trainer.real_images()
    assert not torch.equal(raw, rolled)
    torch.testing.assert_close(raw.sum(dim=(2, 3)), rolled.sum(dim=(2, 3)))
    edge, middle = seam_differences(trainer.generate(torch.randn(64, trainer.latent_dim)))
    assert 0.67 < edge / middle < 1.5, (edge, middle)
    # exported, the model says it is tileable, and the gallery shows samples tiled 3x3
    export_run(tmp_path / "run", tmp_path / "tiles.onnx", options={"exporter": "torchscript"})
    assert load_model(tmp_path / "tiles.onnx").metadata["tileable"] == "True"
    build_gallery([tmp_path / "tiles.onnx"], tmp_path / "gallery")
    (tiles,) = (tmp_path / "gallery").glob("*/tiles.png")
    assert Image.open(tiles).size[0] > 3 * 3 * 16
