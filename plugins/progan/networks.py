"""Progressively grown generator and discriminator (ProGAN), and their MSG-GAN variant.

Both networks are built at full size from the start; the active resolution and
the fade-in weight ``alpha`` are arguments of ``forward``. Growing a stage only
changes which blocks run, so nothing is ever rebuilt: memory stays flat across
stage changes, and EMA and optimizer states keep one fixed set of parameters.

Block ``k`` works at resolution ``4 * 2**k``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from artengine.plugins.gan.layers import MinibatchStdDev

from .layers import EqualizedConv2d, EqualizedLinear, PixelNorm, downsample2x, upsample2x


def channels_at(resolution: int, fmap_base: int, fmap_min: int, fmap_max: int) -> int:
    return int(max(fmap_min, min(fmap_max, fmap_base // resolution)))


def level_of(resolution: int) -> int:
    """Block index of a resolution: 4 -> 0, 8 -> 1, ..."""
    level = int(round(math.log2(resolution))) - 2
    if level < 0 or 4 * 2**level != resolution:
        raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
    return level


def fade(low: torch.Tensor, high: torch.Tensor, alpha: float) -> torch.Tensor:
    """``low`` at alpha 0, ``high`` at alpha 1; exact at both ends."""
    if alpha >= 1.0:
        return high
    if alpha <= 0.0:
        return low
    return low + (high - low) * alpha


class ProGenerator(nn.Module):
    """z -> image at any resolution from 4x4 to ``image_size`` (linear output, images in about [-1, 1])."""

    def __init__(self, cfg, *, image_size: int, channels: int, msg: bool = False):
        super().__init__()
        self.latent_dim = cfg.latent_dim
        self.image_size = image_size
        self.channels = channels
        self.msg = msg
        self.levels = level_of(image_size) + 1
        ch = [channels_at(4 * 2**k, cfg.fmap_base, cfg.fmap_min, cfg.fmap_max) for k in range(self.levels)]
        self.widths = ch
        norm = PixelNorm() if cfg.pixelnorm else nn.Identity()
        self.norm = norm
        act = nn.LeakyReLU(0.2)
        self.act = act
        # 4x4: the latent is projected to a 4x4 map (gain sqrt(2)/4 as in the official code)
        self.project = EqualizedLinear(cfg.latent_dim, ch[0] * 16, gain=math.sqrt(2.0) / 4)
        self.stem = EqualizedConv2d(ch[0], ch[0], 3)
        self.blocks = nn.ModuleList([nn.Identity()])
        for k in range(1, self.levels):
            self.blocks.append(nn.ModuleDict({
                "conv0": EqualizedConv2d(ch[k - 1], ch[k], 3),
                "conv1": EqualizedConv2d(ch[k], ch[k], 3),
            }))
        self.to_rgb = nn.ModuleList([EqualizedConv2d(ch[k], channels, 1, gain=1.0) for k in range(self.levels)])

    def _layer(self, conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.act(conv(x)))

    def features(self, z: torch.Tensor, level: int) -> list[torch.Tensor]:
        """Feature maps of blocks 0..level."""
        x = self.norm(z)
        x = self.project(x).reshape(z.shape[0], self.widths[0], 4, 4)
        x = self._layer(self.stem, self.norm(self.act(x)))
        feats = [x]
        for k in range(1, level + 1):
            block = self.blocks[k]
            x = self._layer(block["conv0"], upsample2x(x))
            x = self._layer(block["conv1"], x)
            feats.append(x)
        return feats

    def forward(self, z: torch.Tensor, resolution: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        """The image at ``resolution``; while ``alpha < 1`` it is blended with the upsampled
        output of the previous resolution (the fade-in of sec. 3, fig. 2)."""
        level = level_of(resolution or self.image_size)
        feats = self.features(z, level)
        img = self.to_rgb[level](feats[level])
        if level > 0 and alpha < 1.0:
            low = upsample2x(self.to_rgb[level - 1](feats[level - 1]))
            img = fade(low, img, alpha)
        return img

    def forward_all(self, z: torch.Tensor) -> list[torch.Tensor]:
        """MSG-GAN: the image at every resolution, 4x4 first."""
        feats = self.features(z, self.levels - 1)
        return [rgb(f) for rgb, f in zip(self.to_rgb, feats, strict=True)]


class ProDiscriminator(nn.Module):
    """image at the active resolution -> one score per image.

    With ``msg=True`` it takes the whole pyramid instead: each lower resolution's
    image is concatenated to the features entering the block of that resolution
    (MSG-GAN's simple combine), so gradients reach every scale of G at once.
    """

    def __init__(self, cfg, *, image_size: int, channels: int, msg: bool = False):
        super().__init__()
        self.image_size = image_size
        self.channels = channels
        self.msg = msg
        self.levels = level_of(image_size) + 1
        top = self.levels - 1
        ch = [channels_at(4 * 2**k, cfg.fmap_base, cfg.fmap_min, cfg.fmap_max) for k in range(self.levels)]
        self.widths = ch
        self.act = nn.LeakyReLU(0.2)
        extra = channels if msg else 0  # a lower-resolution image concatenated to the block input
        self.from_rgb = nn.ModuleList([
            EqualizedConv2d(channels, ch[k], 1) if (not msg or k == top) else nn.Identity()
            for k in range(self.levels)
        ])
        self.blocks = nn.ModuleList([nn.Identity()])
        for k in range(1, self.levels):
            cin = ch[k] + (extra if k < top else 0)
            self.blocks.append(nn.ModuleDict({
                "conv0": EqualizedConv2d(cin, ch[k], 3),
                "conv1": EqualizedConv2d(ch[k], ch[k - 1], 3),
            }))
        self.mbstd = MinibatchStdDev(cfg.mbstd_group) if cfg.mbstd_group > 0 else None
        stat = 1 if self.mbstd is not None else 0
        final_in = ch[0] + (extra if top > 0 else 0) + stat
        self.final_conv = EqualizedConv2d(final_in, ch[0], 3)
        self.final_dense = EqualizedLinear(ch[0] * 16, ch[0])
        self.final_out = EqualizedLinear(ch[0], 1, gain=1.0)

    def _block(self, k: int, h: torch.Tensor) -> torch.Tensor:
        block = self.blocks[k]
        h = self.act(block["conv0"](h))
        h = self.act(block["conv1"](h))
        return downsample2x(h)

    def _final(self, h: torch.Tensor) -> torch.Tensor:
        if self.mbstd is not None:
            h = self.mbstd(h)
        h = self.act(self.final_conv(h))
        h = self.act(self.final_dense(h.flatten(1)))
        return self.final_out(h).squeeze(1)

    def forward(self, img: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        """Score images at their own resolution; while ``alpha < 1`` the new top block's
        output is blended with the previous stage's path on the downsampled image."""
        level = level_of(img.shape[-1])
        h = self.act(self.from_rgb[level](img))
        if level > 0:
            h = self._block(level, h)
            if alpha < 1.0:
                h = fade(self.act(self.from_rgb[level - 1](downsample2x(img))), h, alpha)
        for k in range(level - 1, 0, -1):
            h = self._block(k, h)
        return self._final(h)

    def forward_all(self, images: list[torch.Tensor]) -> torch.Tensor:
        """MSG-GAN: score a pyramid of images, 4x4 first, ``image_size`` last."""
        top = self.levels - 1
        h = self.act(self.from_rgb[top](images[top]))
        for k in range(top, 0, -1):
            h = self._block(k, h)
            h = torch.cat([h, images[k - 1].to(h.dtype)], dim=1)
        return self._final(h)


def build_generator(cfg, *, image_size: int, channels: int, msg: bool = False) -> ProGenerator:
    return ProGenerator(cfg, image_size=image_size, channels=channels, msg=msg)


def build_discriminator(cfg, *, image_size: int, channels: int, msg: bool = False) -> ProDiscriminator:
    return ProDiscriminator(cfg, image_size=image_size, channels=channels, msg=msg)
