"""StyleGAN2's building blocks: equalized learning rate, modulated convolution, resampling.

Equalized learning rate (Karras et al. 2018): weights are stored as N(0, 1) and scaled by
He's constant at every forward pass, so Adam's per-parameter step is the same for every layer
whatever its fan-in. ``lr_mul`` further slows a layer (the mapping network uses 0.01).

Every spatial op takes ``circular``: with it the network computes on a torus, so its output is a
periodic image that tiles without a seam.

Constant gains are folded into weights, biases and per-channel coefficients instead of multiplying
activations: leaky ReLU is positively homogeneous (``lrelu(x) * g == lrelu(g * x)`` for ``g > 0``), so
``lrelu(conv(x, w, b)) * g`` is ``lrelu(conv(x, g w, g b))``. The arithmetic is the same; a layer makes
fewer passes over its activations, which is most of a small network's time on a CPU.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: leaky ReLU (0.2) is followed by this gain so activations keep unit variance
LRELU_GAIN = math.sqrt(2.0)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale each latent to unit mean square (the mapping network's input normalization)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class EqualLinear(nn.Module):
    """Fully connected layer with equalized learning rate and an optional lr multiplier."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init))) if bias else None
        out_gain = LRELU_GAIN if activate else 1.0  # folded in: lrelu(x) * g == lrelu(g x)
        self.weight_gain = out_gain * lr_mul / math.sqrt(in_features)
        self.bias_gain = out_gain * lr_mul
        self.activate = activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias is not None else None
        x = F.linear(x, w, b)
        return F.leaky_relu(x, 0.2) if self.activate else x


def pad(x: torch.Tensor, amount: int, circular: bool) -> torch.Tensor:
    """Pad both spatial sides: wrapped around (tileable) or with zeros."""
    if amount == 0:
        return x
    return F.pad(x, (amount,) * 4, mode="circular" if circular else "constant")


class EqualConv2d(nn.Module):
    """Convolution with equalized learning rate, 'same' padding, optional bias and activation.

    ``out_gain`` (> 0) scales the layer's output (after the activation) at no cost: it is folded into
    the weight and bias, like the activation's own gain."""

    def __init__(self, cin: int, cout: int, kernel: int, *, bias: bool = True, activate: bool = False,
                 circular: bool = False, out_gain: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.bias_gain = out_gain * (LRELU_GAIN if activate else 1.0)
        self.weight_gain = self.bias_gain / math.sqrt(cin * kernel * kernel)
        self.padding = kernel // 2
        self.activate = activate
        self.circular = circular

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias is not None else None
        if self.circular:
            x = F.conv2d(pad(x, self.padding, True), w, b)
        else:
            x = F.conv2d(x, w, b, padding=self.padding)
        return F.leaky_relu(x, 0.2) if self.activate else x


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool = True,
                     circular: bool = False, grouped: bool = False, eps: float = 1e-8,
                     bias: torch.Tensor | None = None, gain: float = 1.0) -> torch.Tensor:
    """StyleGAN2's modulated convolution: ``w'[b,o,i] = w[o,i] * s[b,i]``, then (``demodulate``)
    ``w''[b,o,i] = w'[b,o,i] / sqrt(sum_{i,k} w'[b,o,i,k]^2 + eps)``, so every output feature map
    has unit expected variance whatever the style (the fix for StyleGAN1's droplet artifacts).

    ``grouped`` runs it as one convolution with a separate kernel per sample (groups = batch);
    otherwise the input is scaled by ``s``, convolved with the shared kernel and the output scaled
    by the demodulation coefficients, which is the same arithmetic reordered, runs on the ordinary
    (faster) convolution kernels and keeps the batch dynamic in an ONNX export.

    ``gain`` multiplies the output and ``bias`` [O] is added after it, both folded into the one pass
    that applies the demodulation coefficients (``(conv * dcoefs) * gain + bias``).
    """
    b, cin, h, w = x.shape
    cout, _, kh, kw = weight.shape
    padding = kh // 2
    if circular:
        x, padding = pad(x, padding, True), 0
    dcoefs = None
    if demodulate:
        # sum over i, k of (w[o,i,k] s[b,i])^2 = sum_i s[b,i]^2 * sum_k w[o,i,k]^2
        dcoefs = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + eps).rsqrt()  # [B, O]
        if gain != 1.0:
            dcoefs = dcoefs * gain
    elif gain != 1.0:
        styles = styles * gain
    if grouped:
        wb = weight.unsqueeze(0) * styles.reshape(b, 1, cin, 1, 1)
        if dcoefs is not None:
            wb = wb * dcoefs.reshape(b, cout, 1, 1, 1)
            dcoefs = None  # applied in the per-sample kernels
        out = F.conv2d(x.reshape(1, b * cin, *x.shape[2:]), wb.reshape(b * cout, cin, kh, kw),
                       padding=padding, groups=b)
        out = out.reshape(b, cout, *out.shape[2:])
    else:
        out = F.conv2d(x * styles.to(x.dtype).reshape(b, cin, 1, 1), weight, padding=padding)
    if bias is not None:
        bias = bias.to(out.dtype).reshape(1, -1, 1, 1)
    if dcoefs is None:
        return out if bias is None else out + bias
    dcoefs = dcoefs.to(out.dtype).reshape(b, cout, 1, 1)
    return out * dcoefs if bias is None else torch.addcmul(bias, out, dcoefs)


def upsample2x(x: torch.Tensor, circular: bool = False) -> torch.Tensor:
    """Bilinear 2x upsampling (the [1, 3, 3, 1] filter); circular wraps the border samples around."""
    if not circular:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    y = F.interpolate(pad(x, 1, True), scale_factor=2.0, mode="bilinear", align_corners=False)
    return y[:, :, 2:-2, 2:-2]


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """2x2 box-filter downsampling (needs no padding, so it is periodic-safe)."""
    return F.avg_pool2d(x, 2)


class NoiseInput(nn.Module):
    """Per-pixel noise with a learned strength (zero at start). Training draws fresh noise; in eval
    mode a fixed map drawn at construction is used, so a latent always renders the same image.
    ``gain`` scales the added noise (a following activation's gain, folded in)."""

    def __init__(self, resolution: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("fixed", torch.randn(1, 1, resolution, resolution))

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        if self.training:
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        else:
            noise = self.fixed.to(x.dtype)
        return x + noise * (self.strength * gain).to(x.dtype)
