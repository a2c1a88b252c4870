"""--set generator.tileable=true: a few real training steps, then samples whose seam is as faint as
the inside of the image, unlike those of the same generator without it."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from artengine.pluginhost import get_registry
from artengine.plugins.gan.tiling import seam_differences
from artengine.runconfig import resolve
from artengine.training.build import build_trainer


def ramp_folder(root, n: int = 32, size: int = 16):
    """Dark-left, bright-right images: tiling them side by side shows a hard seam."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        img = np.linspace(0, 1, size)[None, :, None] * rng.uniform(0.3, 1, 3)[None, None, :]
        img = img + rng.normal(0, 0.03, (size, size, 3))
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(root / f"{i}.png")
    return root


def trained_seams(tmp_path, data, tileable: bool) -> tuple[float, float]:
    flag = str(tileable).lower()
    config = resolve("stylegan", registry=get_registry(),
                     cli_values={"data": str(data), "out": str(tmp_path / f"run-{flag}"), "steps": 8,
                                 "image_size": 16, "batch_size": 16, "seed": 2, "device": "cpu"},
                     set_values={"generator.channel_max": "16", "discriminator.channel_max": "16",
                                 "generator.tileable": flag, "discriminator.tileable": flag,
                                 "sample_every": "0", "checkpoint_every": "0"})
    trainer = build_trainer(config)
    trainer.fit()
    torch.manual_seed(0)
    return seam_differences(trainer.generate(torch.randn(64, trainer.latent_dim)))


def test_tileable_samples_have_no_seam_and_plain_ones_do(tmp_path):
    data = ramp_folder(tmp_path / "ramps")
    edge, middle = trained_seams(tmp_path, data, tileable=True)
    plain_edge, plain_middle = trained_seams(tmp_path, data, tileable=False)
    assert 0.67 < edge / middle < 1.5, (edge, middle)
    assert plain_edge > 2.5 * plain_middle and plain_edge > 2.5 * edge, (plain_edge, plain_middle, edge)
