"""DCGAN networks (Radford et al. 2015) for any power-of-two size from 8 to 128, 1 or 3 channels.

Channel counts follow pytorch/examples: ``width * 2**k`` at the stage k steps away from the image,
so width=64 at 64x64 gives 512 channels at 4x4, exactly the canonical DCGAN.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from artengine.errors import ConfigError
from artengine.plugins.gan.layers import MinibatchStdDev

from .config import DcganDiscriminatorConfig, DcganGeneratorConfig


def stages_for(image_size: int) -> int:
    """Number of 2x stages between 4x4 and ``image_size``; a clear error for unsupported sizes."""
    if image_size < 8 or image_size > 128 or image_size & (image_size - 1):
        raise ConfigError(f"DCGAN needs an image size that is a power of two from 8 to 128, got {image_size}",
                          hint="use --image-size 8, 16, 32, 64 or 128")
    return int(math.log2(image_size)) - 2


def dcgan_init(module: nn.Module) -> None:
    """DCGAN weight init: conv weights N(0, 0.02), batch norm scales N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class CircularConvTranspose2d(nn.ConvTranspose2d):
    """``ConvTranspose2d(k=4, s=2, p=1)`` on a torus: wrap one pixel around, run the transposed conv
    unpadded, crop 3 pixels per side. Same size and weights as the plain layer, but a periodic
    input gives a periodic output, so the image tiles without a seam."""

    def __init__(self, cin: int, cout: int, bias: bool):
        super().__init__(cin, cout, 4, 2, 0, bias=bias)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        y = super().forward(nn.functional.pad(x, (1, 1, 1, 1), mode="circular"))
        return y[:, :, 3:-3, 3:-3]


def _up(cin: int, cout: int, mode: str, bias: bool, circular: bool = False) -> nn.Module:
    if mode == "nearest":
        conv = nn.Conv2d(cin, cout, 3, 1, 1, bias=bias, padding_mode="circular" if circular else "zeros")
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv)
    if circular:
        return CircularConvTranspose2d(cin, cout, bias)
    return nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias)


class DcganGenerator(nn.Module):
    """z [B, latent_dim] -> image [B, C, S, S] in [-1, 1]."""

    def __init__(self, cfg: DcganGeneratorConfig | None = None, *, image_size: int = 64, channels: int = 3):
        super().__init__()
        cfg = cfg or DcganGeneratorConfig()
        n = stages_for(image_size)
        self.latent_dim = cfg.latent_dim
        self.image_size = image_size
        self.channels = channels
        self.tileable = cfg.tileable
        widths = [min(cfg.width * 2 ** k, cfg.max_width) for k in range(n - 1, -1, -1)]  # 4x4 ... S/2
        bn = cfg.batch_norm
        layers: list[nn.Module] = [nn.ConvTranspose2d(cfg.latent_dim, widths[0], 4, 1, 0, bias=not bn)]
        layers += [nn.BatchNorm2d(widths[0])] if bn else []
        layers.append(nn.ReLU(True))
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers.append(_up(cin, cout, cfg.upsample, bias=not bn, circular=cfg.tileable))
            layers += [nn.BatchNorm2d(cout)] if bn else []
            layers.append(nn.ReLU(True))
        layers += [_up(widths[-1], channels, cfg.upsample, bias=True, circular=cfg.tileable), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.reshape(z.shape[0], -1, 1, 1))


class DcganDiscriminator(nn.Module):
    """image [B, C, S, S] -> one logit per image [B]."""

    def __init__(self, cfg: DcganDiscriminatorConfig | None = None, *, image_size: int = 64, channels: int = 3):
        super().__init__()
        cfg = cfg or DcganDiscriminatorConfig()
        n = stages_for(image_size)
        widths = [min(cfg.width * 2 ** k, cfg.max_width) for k in range(n)]  # S/2 ... 4x4
        bn = cfg.norm == "batch"
        self.tileable = cfg.tileable
        pad = "circular" if cfg.tileable else "zeros"
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1, padding_mode=pad), nn.LeakyReLU(0.2, True)]
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=not bn, padding_mode=pad))
            layers += [nn.BatchNorm2d(cout)] if bn else []
            layers.append(nn.LeakyReLU(0.2, True))
        last = widths[-1]
        if cfg.minibatch_stddev:
            layers.append(MinibatchStdDev(cfg.mbstd_group))
            last += 1
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(last, 1, 4, 1, 0)
        dcgan_init(self)
        if cfg.spectral_norm:  # after init: the parametrization normalizes the initialized weights
            for m in list(self.modules()):
                if isinstance(m, nn.Conv2d):
                    nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).reshape(x.shape[0])


def build_generator(cfg: DcganGeneratorConfig, *, image_size: int, channels: int) -> DcganGenerator:
    return DcganGenerator(cfg, image_size=image_size, channels=channels)


def build_discriminator(cfg: DcganDiscriminatorConfig, *, image_size: int, channels: int) -> DcganDiscriminator:
    return DcganDiscriminator(cfg, image_size=image_size, channels=channels)
