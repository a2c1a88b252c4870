"""Small-image convolutions as one matrix multiply, for training on a CPU.

oneDNN's convolution backward is slow where the image is small and the channels many. On the AMX Xeon that this
was measured on (batch 64, channels-last, bf16), DCGAN's 256 -> 512 convolution from 8x8 to 4x4 took 41 ms
forward and backward, and the 512 -> 256 transposed convolution from 4x4 to 8x8 took 42 ms; as im2col plus one
bf16 matmul (which AMX runs at about 2.4 TFLOP/s) they take 18 and 21 ms. In fp32 with oneDNN held to AVX2 the
same two layers go from 98 and 91 ms to 55 and 57. Where the image side is 8 px or more,
oneDNN is as fast or faster, and with few channels the matmul's many small pieces cost more than they save
(docs/benchmarks.md). So the matmul path is taken only for layers whose small side has at most
:data:`MAX_POSITIONS` pixels and whose channels multiply to at least :data:`MIN_CHANNEL_PRODUCT`.

:func:`use_matmul_convolutions` swaps a network's plain ``nn.Conv2d`` / ``nn.ConvTranspose2d`` layers for
subclasses that hold the same parameters (same state-dict keys) and take the matmul path only while running in
bf16 or fp32 on the CPU, eagerly. Tracing, ONNX export, ``torch.compile``, other dtypes and other devices run the
parent class's convolution, unchanged.

The backward passes are written with differentiable ops and recompute their operands from the saved inputs
when autograd records them (``create_graph``), so penalties that differentiate twice (R1) stay exact.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: the matmul path is taken when the small side of a layer (a convolution's output, a transposed
#: convolution's input) has at most this many pixels per image: 4x4
MAX_POSITIONS = 16
#: and only for layers with at least this many input x output channels (256 x 512): below it the matmul's gain
#: is smaller than the cost of its im2col pieces, and a whole step gets slower. A transposed convolution of a 1x1
#: input (a generator's latent -> 4x4 layer) is a plain matmul and always takes the path.
MIN_CHANNEL_PRODUCT = 256 * 512


def _im2col(xh: torch.Tensor, k: int, s: int, ho: int, wo: int) -> torch.Tensor:
    """Padded NHWC ``[B, H, W, C]`` -> patches ``[B, ho, wo, k*k*C]`` (tap-major, channel-minor)."""
    last_h, last_w = s * (ho - 1) + 1, s * (wo - 1) + 1
    taps = [xh[:, i:i + last_h:s, j:j + last_w:s, :] for i in range(k) for j in range(k)]
    return torch.cat(taps, dim=3)


def _col2im(cols: torch.Tensor, k: int, s: int, hp: int, wp: int) -> torch.Tensor:
    """The adjoint of :func:`_im2col`: patches ``[B, ho, wo, k*k*C]`` summed into padded NHWC ``[B, hp, wp, C]``."""
    b, ho, wo, kkc = cols.shape
    c = kkc // (k * k)
    taps = cols.view(b, ho, wo, k * k, c)
    out = cols.new_zeros(b, hp, wp, c)
    last_h, last_w = s * (ho - 1) + 1, s * (wo - 1) + 1
    for t in range(k * k):
        i, j = divmod(t, k)
        out[:, i:i + last_h:s, j:j + last_w:s, :] += taps[:, :, :, t, :]
    return out


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    """NCHW (any memory format) -> a contiguous NHWC tensor (free for channels-last input)."""
    return x.permute(0, 2, 3, 1).contiguous()


def _nchw_view(xh: torch.Tensor) -> torch.Tensor:
    """Contiguous NHWC -> the NCHW view of it, which is channels-last in memory."""
    return xh.permute(0, 3, 1, 2)


def _weight_matrix(w: torch.Tensor) -> torch.Tensor:
    """``[A, B, k, k]`` -> ``[A, k*k*B]`` in the patches' order: a convolution's ``[O, C, k, k]`` weight as
    rows per output channel, a transposed convolution's ``[C, O, k, k]`` as rows per input channel."""
    return w.permute(0, 2, 3, 1).reshape(w.shape[0], -1)


def _patches(x: torch.Tensor, k: int, s: int, p: int) -> tuple[torch.Tensor, int, int]:
    b, _, h, w = x.shape
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    xh = F.pad(_nhwc(x), (0, 0, p, p, p, p))
    return _im2col(xh, k, s, ho, wo).reshape(b * ho * wo, -1), ho, wo


class _Conv2dMatmul(torch.autograd.Function):
    """``conv2d(x, w, stride=s, padding=p)`` (no bias, groups 1) as im2col + one matmul."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, s: int, p: int) -> torch.Tensor:
        cols, ho, wo = _patches(x, w.shape[-1], s, p)
        out = cols @ _weight_matrix(w).t()
        ctx.save_for_backward(x, w, cols)
        ctx.geometry = (s, p, ho, wo)
        return _nchw_view(out.view(x.shape[0], ho, wo, w.shape[0]))

    @staticmethod
    def backward(ctx, gy: torch.Tensor):
        x, w, cols = ctx.saved_tensors
        s, p, ho, wo = ctx.geometry
        if torch.is_grad_enabled():  # create_graph: build the patches from x so the graph reaches it
            cols, _, _ = _patches(x, w.shape[-1], s, p)
        b, c, h, wd = x.shape
        o, _, k, _ = w.shape
        gm = _nhwc(gy).view(b * ho * wo, o)
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gcols = (gm @ _weight_matrix(w)).view(b, ho, wo, k * k * c)
            gxp = _col2im(gcols, k, s, h + 2 * p, wd + 2 * p)
            gx = _nchw_view(gxp[:, p:p + h, p:p + wd, :].contiguous())
        if ctx.needs_input_grad[1]:
            gw = (gm.t() @ cols).view(o, k, k, c).permute(0, 3, 1, 2)
        return gx, gw, None, None


class _ConvTranspose2dMatmul(torch.autograd.Function):
    """``conv_transpose2d(x, w, stride=s, padding=p)`` (no bias, groups 1) as one matmul + col2im."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, s: int, p: int) -> torch.Tensor:
        b, c, h, wd = x.shape
        _, o, k, _ = w.shape
        hp, wp = (h - 1) * s + k, (wd - 1) * s + k
        cols = (_nhwc(x).view(b * h * wd, c) @ _weight_matrix(w)).view(b, h, wd, k * k * o)
        yp = cols.view(b, k, k, o) if h == wd == 1 else _col2im(cols, k, s, hp, wp)
        ctx.save_for_backward(x, w)
        ctx.geometry = (s, p)
        return _nchw_view(yp[:, p:hp - p, p:wp - p, :].contiguous())

    @staticmethod
    def backward(ctx, gy: torch.Tensor):
        x, w = ctx.saved_tensors
        s, p = ctx.geometry
        b, c, h, wd = x.shape
        _, o, k, _ = w.shape
        gyh = F.pad(_nhwc(gy), (0, 0, p, p, p, p))
        gcols = _im2col(gyh, k, s, h, wd).reshape(b * h * wd, k * k * o)
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = _nchw_view((gcols @ _weight_matrix(w).t()).view(b, h, wd, c))
        if ctx.needs_input_grad[1]:
            gw = (_nhwc(x).view(b * h * wd, c).t() @ gcols).view(c, k, k, o).permute(0, 3, 1, 2)
        return gx, gw, None, None


def conv2d_matmul(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int,
                  padding: int) -> torch.Tensor:
    """``F.conv2d`` (square kernel, groups 1, zero padding) computed as im2col + matmul, in ``x``'s dtype."""
    y = _Conv2dMatmul.apply(x, weight.to(x.dtype), stride, padding)
    return y if bias is None else y + bias.to(x.dtype).view(1, -1, 1, 1)


def conv_transpose2d_matmul(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int,
                            padding: int) -> torch.Tensor:
    """``F.conv_transpose2d`` (square kernel, groups 1, no output padding) computed as matmul + col2im."""
    y = _ConvTranspose2dMatmul.apply(x, weight.to(x.dtype), stride, padding)
    return y if bias is None else y + bias.to(x.dtype).view(1, -1, 1, 1)


def _cpu_eager_dtype(x: torch.Tensor) -> torch.dtype | None:
    """The dtype this call computes in (bf16 or fp32) when it runs on the CPU, eagerly; else None (take the
    usual convolution)."""
    if x.device.type != "cpu" or torch.jit.is_tracing() or torch.jit.is_scripting():
        return None
    if torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling():
        return None
    if torch.is_autocast_enabled("cpu"):
        return torch.bfloat16 if torch.get_autocast_dtype("cpu") == torch.bfloat16 else None
    return x.dtype if x.dtype in (torch.bfloat16, torch.float32) else None


class MatmulConv2d(nn.Conv2d):
    """``nn.Conv2d`` that computes small outputs on the CPU as one matmul (module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = _cpu_eager_dtype(x)
        if dtype is not None:
            k, s, p = self.kernel_size[0], self.stride[0], self.padding[0]
            ho, wo = (x.shape[-2] + 2 * p - k) // s + 1, (x.shape[-1] + 2 * p - k) // s + 1
            if ho * wo <= MAX_POSITIONS and self.in_channels * self.out_channels >= MIN_CHANNEL_PRODUCT:
                return conv2d_matmul(x.to(dtype), self.weight, self.bias, s, p)
        return super().forward(x)


class MatmulConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` that computes small inputs on the CPU as one matmul (module docstring)."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        dtype = _cpu_eager_dtype(x)
        positions = x.shape[-2] * x.shape[-1]
        wide = self.in_channels * self.out_channels >= MIN_CHANNEL_PRODUCT
        if dtype is not None and output_size is None and (positions == 1 or (positions <= MAX_POSITIONS and wide)):
            return conv_transpose2d_matmul(x.to(dtype), self.weight, self.bias, self.stride[0], self.padding[0])
        return super().forward(x, output_size)


def _square(value: tuple) -> bool:
    return len(set(value)) == 1


def _eligible(m: nn.Module) -> type[nn.Module] | None:
    """The matmul class for a plain, square, dense, zero-padded convolution; None for anything else
    (subclasses such as circular or parametrized layers keep their own forward)."""
    if type(m) is nn.Conv2d:
        target: type[nn.Module] = MatmulConv2d
    elif type(m) is nn.ConvTranspose2d:
        target = MatmulConvTranspose2d
        if any(m.output_padding):
            return None
    else:
        return None
    if isinstance(m.padding, str) or m.groups != 1 or m.padding_mode != "zeros" or any(d != 1 for d in m.dilation):
        return None
    if not (_square(m.kernel_size) and _square(m.stride) and _square(m.padding)):
        return None
    return target


def use_matmul_convolutions(module: nn.Module) -> int:
    """Swap ``module``'s eligible convolutions for their matmul subclasses, in place; returns how many.

    Parameters, buffers and hooks move over as they are, so state dicts, optimizers and EMA copies see
    the same tensors under the same names."""
    swapped = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            target = _eligible(child)
            if target is None:
                continue
            replacement = target.__new__(target)
            replacement.__dict__.update(child.__dict__)
            setattr(parent, name, replacement)
            swapped += 1
    return swapped


def matmul_convolutions_pay_off(device: torch.device, precision: str) -> bool:
    """True where the swap was measured faster: training on a CPU in fp32, or in bf16 where the CPU runs it
    natively (AMX). Emulated bf16 (AVX2 CPUs) has slower matmuls still; on CUDA cuDNN is the fast path."""
    from .precision import native_bf16

    if device.type != "cpu":
        return False
    return precision == "fp32" or (precision == "bf16" and native_bf16(device))
