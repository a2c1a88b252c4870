"""Exact export-time rewrites that let onnxruntime's fast int8 convolution kernels apply.

- Batch norms right after a convolution (inside an ``nn.Sequential``) are folded into its weights.
- ``ConvTranspose2d(kernel 4, stride 2, padding 1)``, the DCGAN upsampling layer, becomes one 2x2
  ``Conv2d`` over the 1-padded input that computes the four output phases at once, followed by a pixel
  interleave. Same FLOPs, but onnxruntime quantizes and runs a Conv with its int8 kernels, while an int8
  ConvTranspose falls back to dequantize + fp32. The interleave is written in channels-last order:
  onnxruntime runs int8 convolutions in NHWC and wraps each in transposes, which then cancel against the
  interleave's own instead of moving every activation twice (in a profile of the 64 px DCGAN at batch 64,
  transposes took more time than the convolutions before this, a tenth of it after).
- ``ConvTranspose2d(stride 1, padding 0)`` on a 1x1 input (DCGAN's first layer, latent -> 4x4) is a
  matrix product, so it becomes a ``Linear`` (an int8 ``QGemm``; as an int8 ConvTranspose it also ran
  in fp32).

Both are exact in real arithmetic; the exporter still verifies the rewritten graph against the
original module (max abs difference 1e-4), so a wrong rewrite can never be written.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn


def _fold_bn(conv: nn.Module, bn: nn.BatchNorm2d) -> None:
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    if isinstance(conv, nn.ConvTranspose2d):
        conv.weight.data = conv.weight.detach() * scale[None, :, None, None]
    else:
        conv.weight.data = conv.weight.detach() * scale[:, None, None, None]
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias.detach())


def fold_batch_norms(module: nn.Module) -> int:
    """Fold eval-mode BatchNorm2d layers into the conv just before them; returns how many."""
    folded = 0
    for seq in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        names = list(seq._modules)
        for prev, name in zip(names, names[1:], strict=False):
            conv, bn = seq._modules[prev], seq._modules[name]
            if (isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and conv.groups == 1
                    and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats and bn.affine
                    and bn.running_var is not None):
                _fold_bn(conv, bn)
                seq._modules[name] = nn.Identity()
                folded += 1
    return folded


class PhaseConvTranspose(nn.Module):
    """``ConvTranspose2d(k=4, s=2, p=1)`` as a 2x2 conv producing the 4 output phases, then interleaved."""

    #: output phase -> transposed-kernel index used by 2x2-conv tap 0 and tap 1
    TAPS = {0: (3, 1), 1: (2, 0)}

    def __init__(self, ct: nn.ConvTranspose2d):
        super().__init__()
        cin, cout = ct.in_channels, ct.out_channels
        w = ct.weight.detach()  # [cin, cout, 4, 4]
        k = torch.zeros(2, 2, cout, cin, 2, 2, dtype=w.dtype)
        for a in (0, 1):
            for b in (0, 1):
                for jy, ky in enumerate(self.TAPS[a]):
                    for jx, kx in enumerate(self.TAPS[b]):
                        k[a, b, :, :, jy, jx] = w[:, :, ky, kx].t()
        self.conv = nn.Conv2d(cin, 4 * cout, 2, bias=ct.bias is not None)
        self.conv.weight.data = k.reshape(4 * cout, cin, 2, 2)
        if ct.bias is not None:
            self.conv.bias.data = ct.bias.detach().repeat(4)
        self.cout = cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        c = self.cout
        # [B, H+1, W+1, 4*cout]: phase (a, e) sits at spatial offset (a, e), channel group 2a + e
        y = self.conv(F.pad(x, (1, 1, 1, 1))).permute(0, 2, 3, 1)
        phases = [y[:, a:a + h, e:e + w, (2 * a + e) * c:(2 * a + e + 1) * c] for a in (0, 1) for e in (0, 1)]
        stacked = torch.stack(phases, 3).reshape(b, h, w, 2, 2, c)  # [B, H, W, a, e, C]
        return stacked.permute(0, 1, 3, 2, 4, 5).reshape(b, 2 * h, 2 * w, c).permute(0, 3, 1, 2)


class ProjectionConvTranspose(nn.Module):
    """``ConvTranspose2d(stride 1, padding 0)`` applied to a 1x1 input, as a ``Linear``: the input's
    channels times the kernel give each output pixel directly. Other input sizes use the original layer."""

    def __init__(self, ct: nn.ConvTranspose2d):
        super().__init__()
        cin, cout, kh, kw = ct.weight.shape
        self.transposed = ct
        self.out_shape = (cout, kh, kw)
        self.linear = nn.Linear(cin, cout * kh * kw, bias=ct.bias is not None)
        self.linear.weight.data = ct.weight.detach().reshape(cin, -1).t().contiguous()
        if ct.bias is not None:
            self.linear.bias.data = ct.bias.detach().repeat_interleave(kh * kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (1, 1):
            return self.transposed(x)
        return self.linear(x.flatten(1)).reshape(x.shape[0], *self.out_shape)


def _is_dcgan_upsample(m: nn.Module) -> bool:
    return (isinstance(m, nn.ConvTranspose2d) and m.kernel_size == (4, 4) and m.stride == (2, 2)
            and m.padding == (1, 1) and m.output_padding == (0, 0) and m.dilation == (1, 1) and m.groups == 1)


def _is_projection(m: nn.Module) -> bool:
    return (isinstance(m, nn.ConvTranspose2d) and m.stride == (1, 1) and m.padding == (0, 0)
            and m.output_padding == (0, 0) and m.dilation == (1, 1) and m.groups == 1)


def _replace_children(module: nn.Module, is_target, build) -> int:
    """Swap every submodule for which ``is_target`` holds with ``build(submodule)``; returns how many."""
    replaced = 0
    for parent in list(module.modules()):  # listed first: the replacements are not visited
        for name, child in list(parent.named_children()):
            if is_target(child):
                setattr(parent, name, build(child))
                replaced += 1
    return replaced


def replace_transposed_convs(module: nn.Module) -> int:
    return _replace_children(module, _is_dcgan_upsample, PhaseConvTranspose)


def replace_projections(module: nn.Module) -> int:
    return _replace_children(module, _is_projection, ProjectionConvTranspose)


def for_int8(module: nn.Module) -> tuple[nn.Module, dict[str, int]]:
    """A rewritten copy of ``module`` (the original is untouched) and what was changed."""
    fast = copy.deepcopy(module).eval()
    with torch.no_grad():
        stats = {"folded_batch_norms": fold_batch_norms(fast),
                 "phase_convs": replace_transposed_convs(fast),
                 "projections": replace_projections(fast)}
    return fast, stats
