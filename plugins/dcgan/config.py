"""Typed configs of the DCGAN networks (torch-free, so listing them stays fast)."""

from __future__ import annotations

from dataclasses import dataclass

from artengine.config import option


@dataclass
class DcganGeneratorConfig:
    """Latent -> 4x4 projection -> upsampling stages (BN + ReLU) -> tanh."""

    latent_dim: int = option(100, min=1, max=4096, help="size of the latent vector z")
    width: int = option(64, min=4, max=1024, help="channels of the last stage; doubled per stage towards 4x4")
    max_width: int = option(512, min=4, max=4096, help="cap on any stage's channels")
    upsample: str = option("transposed", choices=("transposed", "nearest"),
                           help="transposed convolutions (DCGAN) or nearest upsample + 3x3 conv (no checkerboard)")
    batch_norm: bool = option(True, help="batch norm after every hidden stage")
    tileable: bool = option(False, help="circular padding in every upsampling conv: images tile seamlessly "
                            "(the trainer rolls real images so they wrap around too)")


@dataclass
class DcganDiscriminatorConfig:
    """Strided convolutions (LeakyReLU 0.2) -> 4x4 -> logit."""

    width: int = option(64, min=4, max=1024, help="channels of the first stage; doubled per stage towards 4x4")
    max_width: int = option(512, min=4, max=4096, help="cap on any stage's channels")
    norm: str = option("batch", choices=("batch", "none"),
                       help="batch norm in hidden stages, or none (use none with wgan-gp and R1)")
    spectral_norm: bool = option(False, help="spectral normalization on every convolution")
    minibatch_stddev: bool = option(False, help="append a minibatch standard deviation channel at 4x4")
    mbstd_group: int = option(4, min=1, max=256, help="group size of the minibatch stddev statistic")
    tileable: bool = option(False, help="circular padding: judge images as tiles, seams included")
