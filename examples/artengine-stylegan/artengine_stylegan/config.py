"""Typed configs of the StyleGAN2 networks and trainer (torch-free, so `artengine list` stays fast)."""

from __future__ import annotations

from dataclasses import dataclass

from artengine.config import option
from artengine.plugins.gan.config import GanTrainerConfig


@dataclass
class StyleGeneratorConfig:
    """Mapping network z -> w, then a synthesis network modulated by w at every layer."""

    latent_dim: int = option(128, min=1, max=4096, help="length of the latent vector z")
    w_dim: int = option(128, min=1, max=4096, help="length of the intermediate latent w")
    mapping_layers: int = option(4, min=1, max=16, help="fully connected layers of the mapping network")
    mapping_lr_mul: float = option(0.01, min=1e-4, max=1.0,
                                   help="learning-rate multiplier of the mapping layers (equalized lr)")
    w_avg_beta: float = option(0.995, min=0.0, max=1.0,
                               help="decay of the tracked average w that truncation pulls towards")
    channel_base: int = option(2048, min=16, max=65536,
                               help="channels at resolution r are min(channel_base / r, channel_max)")
    channel_max: int = option(128, min=4, max=2048, help="cap on any layer's channels")
    noise: bool = option(True, help="per-layer noise inputs with learned strengths")
    modconv: str = option("auto", choices=("auto", "grouped", "scaled"),
                          help="modulated convolution as one grouped conv per batch (grouped) or as a shared "
                               "conv between input and output scaling (scaled, exportable with a dynamic "
                               "batch); auto: scaled, which is the faster of the two on CPU")
    tileable: bool = option(False, help="circular padding everywhere: generated images tile seamlessly")


@dataclass
class StyleDiscriminatorConfig:
    """Residual discriminator with a minibatch standard deviation layer at 4x4."""

    channel_base: int = option(2048, min=16, max=65536,
                               help="channels at resolution r are min(channel_base / r, channel_max)")
    channel_max: int = option(128, min=4, max=2048, help="cap on any layer's channels")
    mbstd_group: int = option(4, min=1, max=256, help="group size of the minibatch stddev statistic (0: off)")
    mbstd_channels: int = option(1, min=0, max=16, help="feature groups of the minibatch stddev (0: off)")
    tileable: bool = option(False, help="circular padding: judge images as tiles of a torus, seams included")


@dataclass
class StyleGanTrainerConfig(GanTrainerConfig):
    """StyleGAN2's generator regularizers on top of every setting of the GAN trainer (lazy R1 is its
    ``r1_every``; balance, PacGAN, EMA, ...)."""

    style_mixing: float = option(0.9, min=0.0, max=1.0,
                                 help="probability that a training batch mixes two latents at a random layer")
    pl_weight: float = option(0.0, min=0.0,
                              help="path-length regularization weight (StyleGAN2 uses 2; 0: off, faster)")
    pl_every: int = option(4, min=1, max=1000, help="lazy path-length: every N steps, weighted by N")
    pl_decay: float = option(0.01, min=0.0, max=1.0, help="decay of the running mean path length")
    pl_batch_shrink: int = option(2, min=1, max=64, help="path-length batch = batch_size / this")
