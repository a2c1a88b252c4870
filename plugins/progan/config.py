"""Typed configs of the ProGAN networks and trainer (torch-free, so listing components stays fast)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from artengine.config import option
from artengine.plugins.gan.config import GanTrainerConfig


@dataclass
class ProGeneratorConfig:
    """Channels per resolution are ``clamp(fmap_base // resolution, fmap_min, fmap_max)``."""

    latent_dim: int = option(128, min=1, max=4096, help="length of the latent vector z (ProGAN paper: 512)")
    fmap_base: int = option(512, min=8, help="channels = fmap_base // resolution, clamped (paper: 8192)")
    fmap_max: int = option(64, min=1, help="most channels of any block (paper: 512)")
    fmap_min: int = option(16, min=1, help="fewest channels of any block")
    pixelnorm: bool = option(True, help="pixelwise feature normalization after every convolution")


@dataclass
class ProDiscriminatorConfig:
    fmap_base: int = option(512, min=8, help="channels = fmap_base // resolution, clamped (paper: 8192)")
    fmap_max: int = option(64, min=1, help="most channels of any block (paper: 512)")
    fmap_min: int = option(16, min=1, help="fewest channels of any block")
    mbstd_group: int = option(4, min=0, max=64, help="minibatch stddev group size (0: no stddev layer)")


@dataclass
class ProGanTrainerConfig(GanTrainerConfig):
    """The GAN trainer's settings plus the growth schedule (the ``progan`` recipe sets the paper's
    learning rates, Adam betas, drift and EMA). The schedule is counted in images, so a resumed run
    follows it exactly."""

    msg: bool = option(False, help="multi-scale gradients (MSG-GAN): all resolutions at once, no growing")
    start_resolution: int = option(4, choices=(4, 8, 16, 32, 64, 128, 256), help="first stage's resolution")
    fade_images: int = option(2000, min=0, help="images shown while a new block fades in (alpha 0 -> 1)")
    stabilize_images: int = option(2000, min=0, help="images shown per stage after its fade, before growing")
    first_stage_images: int = option(0, min=0, help="images at the first stage (0: same as stabilize_images)")
    batch_sizes: list[int] = option(default_factory=lambda: [64, 64, 32, 32, 16, 16, 8],
                                    help="batch size per resolution from 4x4 up (the last one repeats), each capped "
                                         "by the run's batch_size; empty: batch_size everywhere")

    #: settings renamed when ProGAN became the GAN trainer plus a growth schedule
    legacy: ClassVar[dict[str, tuple[str, ...]]] = {
        "beta1": ("beta1_g", "beta1_d"), "beta2": ("beta2_g", "beta2_d"), "sample_grid": ("grid_size",)}
