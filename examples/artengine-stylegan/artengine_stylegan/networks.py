"""StyleGAN2 networks (Karras et al. 2020) for power-of-two sizes 8..256 and 1, 3 or 4 channels.

- :class:`MappingNetwork` maps z to w and tracks the average w that truncation pulls towards.
- :class:`SynthesisNetwork` starts from a learned 4x4 constant; every layer is a modulated 3x3
  convolution with weight demodulation and a noise input; every resolution adds its toRGB output
  to the upsampled image so far (the "skip" architecture).
- :class:`StyleGenerator` is the two together, ``z -> image``, with truncation and style mixing.
- :class:`StyleDiscriminator` is residual, with a minibatch standard deviation layer at 4x4.

Layer count: the generator has ``num_ws = 2 * log2(size) - 2`` style inputs, one per convolution plus
the last toRGB; each toRGB shares its w with the next block's first convolution, as in StyleGAN2.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from artengine.errors import ConfigError

from .config import StyleDiscriminatorConfig, StyleGeneratorConfig
from .layers import (
    LRELU_GAIN,
    EqualConv2d,
    EqualLinear,
    NoiseInput,
    downsample2x,
    modulated_conv2d,
    normalize_2nd_moment,
    upsample2x,
)

MIN_SIZE, MAX_SIZE = 8, 256
SQRT_HALF = 1.0 / math.sqrt(2.0)


def resolutions_for(image_size: int) -> list[int]:
    """4, 8, ..., image_size; a clear error for sizes this network does not build."""
    if image_size < MIN_SIZE or image_size > MAX_SIZE or image_size & (image_size - 1):
        raise ConfigError(f"stylegan needs an image size that is a power of two from {MIN_SIZE} to {MAX_SIZE}, "
                          f"got {image_size}", hint="use --image-size 8, 16, 32, 64, 128 or 256")
    return [2 ** k for k in range(2, int(math.log2(image_size)) + 1)]


def check_channels(channels: int) -> None:
    if channels not in (1, 3, 4):
        raise ConfigError(f"stylegan builds images with 1, 3 or 4 channels, not {channels}",
                          hint="use --channels 1 or 3 (4 for RGBA data)")


def channels_at(resolution: int, base: int, cap: int) -> int:
    return max(1, min(base // resolution, cap))


class MappingNetwork(nn.Module):
    """z [B, latent_dim] -> w [B, w_dim]; ``w_avg`` follows the mean w of training batches."""

    def __init__(self, latent_dim: int, w_dim: int, layers: int, lr_mul: float, w_avg_beta: float):
        super().__init__()
        sizes = [latent_dim] + [w_dim] * layers
        self.net = nn.Sequential(*[EqualLinear(a, b, lr_mul=lr_mul, activate=True)
                                   for a, b in zip(sizes[:-1], sizes[1:], strict=True)])
        self.w_avg_beta = w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, *, track: bool = True) -> torch.Tensor:
        w = self.net(normalize_2nd_moment(z.float()))
        if track and self.training and self.w_avg_beta < 1:
            with torch.no_grad():  # in float32 whatever autocast computed w in
                self.w_avg.copy_(w.detach().float().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        return w

    def truncate(self, w: torch.Tensor, psi: torch.Tensor | float) -> torch.Tensor:
        """``w_avg + psi * (w - w_avg)``: psi 1 keeps w, 0 gives the average image. ``psi`` may be
        a float or one value per sample ([B])."""
        if not isinstance(psi, torch.Tensor):
            psi = torch.tensor(float(psi), device=w.device)
        psi = psi.to(w.dtype).reshape(-1, *([1] * (w.dim() - 1))) if psi.dim() else psi
        return self.w_avg + psi * (w - self.w_avg)


class StyleConv(nn.Module):
    """Modulated 3x3 convolution + noise + bias + lrelu; ``up`` upsamples its input 2x first."""

    def __init__(self, cin: int, cout: int, w_dim: int, resolution: int, *, up: bool, noise: bool,
                 circular: bool, grouped: bool):
        super().__init__()
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.noise = NoiseInput(resolution) if noise else None
        self.up = up
        self.circular = circular
        self.grouped = grouped

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``lrelu(modconv(x) + noise + bias) * sqrt(2)``, with the sqrt(2) folded into the demodulation,
        the noise strength and the bias (``lrelu(v) * g == lrelu(g v)``)."""
        if self.up:
            x = upsample2x(x, self.circular)
        x = modulated_conv2d(x, self.weight, self.affine(w), demodulate=True, circular=self.circular,
                             grouped=self.grouped, bias=self.bias * LRELU_GAIN, gain=LRELU_GAIN)
        if self.noise is not None:
            x = self.noise(x, gain=LRELU_GAIN)
        return F.leaky_relu(x, 0.2)


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to image channels, without demodulation (it sets the colours)."""

    def __init__(self, cin: int, channels: int, w_dim: int, grouped: bool):
        super().__init__()
        self.affine = EqualLinear(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(channels, cin, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.weight_gain = 1.0 / math.sqrt(cin)
        self.grouped = grouped

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return modulated_conv2d(x, self.weight, self.affine(w), demodulate=False, grouped=self.grouped,
                                bias=self.bias, gain=self.weight_gain)


class SynthesisNetwork(nn.Module):
    """ws [B, num_ws, w_dim] -> image [B, C, S, S] (unbounded, about [-1, 1])."""

    def __init__(self, cfg: StyleGeneratorConfig, image_size: int, channels: int):
        super().__init__()
        res = resolutions_for(image_size)
        ch = {r: channels_at(r, cfg.channel_base, cfg.channel_max) for r in res}
        grouped = cfg.modconv == "grouped"
        kw = {"noise": cfg.noise, "circular": cfg.tileable, "grouped": grouped}
        self.const = nn.Parameter(torch.randn(1, ch[4], 4, 4))
        self.convs = nn.ModuleList([StyleConv(ch[4], ch[4], cfg.w_dim, 4, up=False, **kw)])
        self.torgbs = nn.ModuleList([ToRGB(ch[4], channels, cfg.w_dim, grouped)])
        for prev, r in zip(res[:-1], res[1:], strict=True):
            self.convs.append(StyleConv(ch[prev], ch[r], cfg.w_dim, r, up=True, **kw))
            self.convs.append(StyleConv(ch[r], ch[r], cfg.w_dim, r, up=False, **kw))
            self.torgbs.append(ToRGB(ch[r], channels, cfg.w_dim, grouped))
        self.num_ws = len(self.convs) + 1
        self.circular = cfg.tileable

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.convs[0](x, ws[:, 0])
        img = self.torgbs[0](x, ws[:, 1])
        for block, torgb in enumerate(self.torgbs[1:]):
            i = 1 + 2 * block  # index of this block's first convolution and of its w
            x = self.convs[i](x, ws[:, i])
            x = self.convs[i + 1](x, ws[:, i + 1])
            img = upsample2x(img, self.circular) + torgb(x, ws[:, i + 2])
        return img


class StyleGenerator(nn.Module):
    """z [B, latent_dim] -> image [B, C, S, S]; truncation ``psi`` and style mixing built in."""

    def __init__(self, cfg: StyleGeneratorConfig | None = None, *, image_size: int = 32, channels: int = 3):
        super().__init__()
        cfg = cfg or StyleGeneratorConfig()
        check_channels(channels)
        self.latent_dim = cfg.latent_dim
        self.w_dim = cfg.w_dim
        self.image_size = image_size
        self.channels = channels
        self.tileable = cfg.tileable
        self.mapping = MappingNetwork(cfg.latent_dim, cfg.w_dim, cfg.mapping_layers, cfg.mapping_lr_mul,
                                      cfg.w_avg_beta)
        self.synthesis = SynthesisNetwork(cfg, image_size, channels)
        self.num_ws = self.synthesis.num_ws

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """w [B, w_dim] -> ws [B, num_ws, w_dim]: the same style for every layer."""
        return w.unsqueeze(1).expand(-1, self.num_ws, -1)

    def mix(self, ws: torch.Tensor, ws2: torch.Tensor, crossover: int | torch.Tensor) -> torch.Tensor:
        """Layers before ``crossover`` keep ``ws``, layers from it on take ``ws2`` (style mixing).
        ``crossover`` is an int or one index per sample ([B]); ``num_ws`` means no mixing."""
        layer = torch.arange(self.num_ws, device=ws.device).reshape(1, -1, 1)
        cut = torch.as_tensor(crossover, device=ws.device).reshape(-1, 1, 1)
        return torch.where(layer < cut, ws, ws2)

    def forward(self, z: torch.Tensor, psi: torch.Tensor | float = 1.0, *, z2: torch.Tensor | None = None,
                crossover: int | torch.Tensor | None = None, return_ws: bool = False):
        """Images for latents ``z``; ``z2`` + ``crossover``: mixed styles; ``return_ws``: also the
        per-layer styles (the path-length regularizer differentiates with respect to them)."""
        ws = self.broadcast(self.mapping(z))  # the first latents' w feed the tracked average, mixed or not
        if z2 is not None:
            ws2 = self.broadcast(self.mapping(z2, track=False))
            ws = self.mix(ws, ws2, self.num_ws if crossover is None else crossover)
        if not (isinstance(psi, (int, float)) and psi == 1.0):
            ws = self.mapping.truncate(ws, psi)
        img = self.synthesis(ws)
        return (img, ws) if return_ws else img


class MinibatchStddev(nn.Module):
    """StyleGAN's minibatch stddev: per group of ``group`` samples, the stddev of every feature,
    averaged over ``num_channels`` feature groups, appended as channels, so D sees batch variety."""

    def __init__(self, group: int, num_channels: int):
        super().__init__()
        self.group = group
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = max(1, min(self.group, b))
        while b % g:
            g -= 1
        f = self.num_channels
        y = x.float().reshape(g, -1, f, c // f, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()  # [B/g, F, c/F, H, W]
        y = y.mean(dim=(2, 3, 4)).reshape(-1, f, 1, 1).repeat(g, 1, h, w)  # [B, F, H, W]
        return torch.cat([x, y.to(x.dtype)], dim=1)


class DiscriminatorBlock(nn.Module):
    """conv 3x3 -> downsample -> conv 3x3, plus a 1x1 downsampled skip, summed at 1/sqrt(2)."""

    def __init__(self, cin: int, cout: int, circular: bool):
        super().__init__()
        self.conv0 = EqualConv2d(cin, cin, 3, activate=True, circular=circular)
        # the sum's 1/sqrt(2) is folded into both branches' weights
        self.conv1 = EqualConv2d(cin, cout, 3, activate=True, circular=circular, out_gain=SQRT_HALF)
        self.skip = EqualConv2d(cin, cout, 1, bias=False, out_gain=SQRT_HALF)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(downsample2x(x))
        return skip + self.conv1(downsample2x(self.conv0(x)))


class StyleDiscriminator(nn.Module):
    """image [B, C, S, S] -> one logit per image [B]; equalized learning rate in every layer."""

    def __init__(self, cfg: StyleDiscriminatorConfig | None = None, *, image_size: int = 32, channels: int = 3):
        super().__init__()
        cfg = cfg or StyleDiscriminatorConfig()
        res = resolutions_for(image_size)[::-1]  # S, S/2, ..., 4
        ch = {r: channels_at(r, cfg.channel_base, cfg.channel_max) for r in res}
        self.tileable = cfg.tileable
        self.from_rgb = EqualConv2d(channels, ch[res[0]], 1, activate=True)
        self.blocks = nn.Sequential(*[DiscriminatorBlock(ch[r], ch[r // 2], cfg.tileable) for r in res[:-1]])
        use_mbstd = cfg.mbstd_group > 0 and cfg.mbstd_channels > 0 and ch[4] % cfg.mbstd_channels == 0
        self.mbstd = MinibatchStddev(cfg.mbstd_group, cfg.mbstd_channels) if use_mbstd else None
        extra = cfg.mbstd_channels if use_mbstd else 0
        self.conv = EqualConv2d(ch[4] + extra, ch[4], 3, activate=True, circular=cfg.tileable)
        self.fc = EqualLinear(ch[4] * 16, ch[4], activate=True)
        self.out = EqualLinear(ch[4], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.from_rgb(x))
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        return self.out(self.fc(x.flatten(1))).reshape(x.shape[0])


def build_generator(cfg: StyleGeneratorConfig, *, image_size: int, channels: int) -> StyleGenerator:
    return StyleGenerator(cfg, image_size=image_size, channels=channels)


def build_discriminator(cfg: StyleDiscriminatorConfig, *, image_size: int, channels: int) -> StyleDiscriminator:
    return StyleDiscriminator(cfg, image_size=image_size, channels=channels)
