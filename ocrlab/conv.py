"""Convolution, pooling and their arithmetic from scratch, with the same contract as PyTorch.

Notebooks 01–03 derive each function here by hand, check it against ``torch.nn.functional`` and then use
this version. Everything is plain tensor code: the vectorised ``conv2d`` builds the im2col patch tensor with
``Tensor.unfold`` (a strided view), lays it out as a matrix and multiplies it with the weight, so autograd
differentiates it for free. Reference: Dumoulin & Visin, "A guide to convolution arithmetic for deep
learning" (2016), arXiv:1603.07285.

Shapes follow PyTorch: input ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``), weight
``(C_out, C_in / groups, kH, kW)``, output ``(N, C_out, H_out, W_out)``.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

Pair = int | tuple[int, int]


# --------------------------------------------------------------------------------------------- argument checks
def _pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """``3 → (3, 3)``, ``(2, 3) → (2, 3)``; ValueError for anything else or for a value below ``minimum``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        pair = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                      for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        what = "positive" if minimum == 1 else f"≥ {minimum}"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return pair


def _check_window(h: int, w: int, k: tuple[int, int], d: tuple[int, int], p: tuple[int, int], what: str) -> None:
    """The (dilated) window must fit in the padded input."""
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    padded = (h + 2 * p[0], w + 2 * p[1])
    if eff[0] > padded[0] or eff[1] > padded[1]:
        dil = f" (kernel {k[0]}×{k[1]} with dilation {d[0]}×{d[1]})" if d != (1, 1) else ""
        raise ValueError(
            f"{what} window {eff[0]}×{eff[1]}{dil} is larger than the padded input {padded[0]}×{padded[1]} "
            f"(input {h}×{w}, padding {p[0]}×{p[1]}): use a smaller kernel or dilation, or more padding.")


def _batched(x: torch.Tensor, name: str = "x") -> tuple[torch.Tensor, bool]:
    """Accept ``(N, C, H, W)`` or unbatched ``(C, H, W)`` like PyTorch; return a 4-D view and whether to squeeze."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim == 4:
        return x, False
    if x.ndim == 3:
        return x.unsqueeze(0), True
    raise ValueError(f"{name} must have 4 dimensions (N, C, H, W) or 3 (C, H, W), got {x.ndim} with shape "
                     f"{tuple(x.shape)}; a single image (H, W) needs x[None, None].")


def _same_padding(k: tuple[int, int], d: tuple[int, int]) -> tuple[int, int, int, int]:
    """PyTorch's ``padding='same'``: total d·(k−1) per dimension, the odd extra pixel on the right/bottom."""
    th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
    return (tw // 2, tw - tw // 2, th // 2, th - th // 2)  # F.pad order: left, right, top, bottom


# --------------------------------------------------------------------------------------------------- im2col
def patches(x: torch.Tensor, kernel_size: Pair, stride: Pair = 1, dilation: Pair = 1) -> torch.Tensor:
    """All (dilated) windows of an already padded ``x (N, C, H, W)`` as a view ``(N, C, H_out, W_out, kH, kW)``.

    This is im2col without the copy: ``Tensor.unfold`` slides a window of the *effective* size
    ``d·(k−1)+1`` with the given stride, and slicing every ``d``-th element keeps the dilated taps.
    """
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    windows = x.unfold(2, eh, sh).unfold(3, ew, sw)  # (N, C, H_out, W_out, eh, ew)
    return windows[..., ::dh, ::dw]


def _pad(x: torch.Tensor, padding, k, d, value: float = 0.0) -> torch.Tensor:
    if padding == "same":
        return F.pad(x, _same_padding(k, d), value=value)
    if padding == "valid":
        return x
    ph, pw = _pair(padding, "padding", minimum=0)
    return F.pad(x, (pw, pw, ph, ph), value=value) if (ph or pw) else x


def _conv_args(x, weight, bias, stride, padding, dilation, groups):
    """Validate conv2d's arguments the way a learner needs: what is wrong, with the values given."""
    x4, squeeze = _batched(x)
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ValueError(f"weight must have 4 dimensions (C_out, C_in/groups, kH, kW), got {shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    n, c_in, h, w = x4.shape
    c_out, c_per_group, kh, kw = weight.shape
    if c_in % groups:
        raise ValueError(f"input channels ({c_in}) must be divisible by groups ({groups})")
    if c_out % groups:
        raise ValueError(f"output channels of the weight ({c_out}) must be divisible by groups ({groups})")
    if c_per_group * groups != c_in:
        raise ValueError(
            f"weight expects {c_per_group} input channels per group × {groups} group(s) = {c_per_group * groups}, "
            f"but the input has {c_in} channels (x.shape={tuple(x4.shape)}, weight.shape={tuple(weight.shape)})")
    if min(kh, kw) < 1:
        raise ValueError(f"kernel size must be positive, got {kh}×{kw}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != c_out):
        raise ValueError(f"bias must have shape ({c_out},) to match the weight's output channels, "
                         f"got {tuple(bias.shape)}")
    s = _pair(stride, "stride")
    d = _pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        if padding == "same" and s != (1, 1):
            raise ValueError(f"padding='same' needs stride 1 (as in PyTorch), got stride={stride!r}")
        total = (0, 0) if padding == "valid" else (d[0] * (kh - 1), d[1] * (kw - 1))  # 'same' pads d·(k−1) in all
        _check_window(h + total[0], w + total[1], (kh, kw), d, (0, 0), "Convolution")
    else:
        p = _pair(padding, "padding", minimum=0)
        _check_window(h, w, (kh, kw), d, p, "Convolution")
    return x4, squeeze, s, d


# ------------------------------------------------------------------------------------------------ convolution
def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride: Pair = 1,
           padding: Pair | str = 0, dilation: Pair = 1, groups: int = 1) -> torch.Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` computes it, vectorised with im2col.

    ``out[n, o, i, j] = bias[o] + Σ_{c,u,v} x_pad[n, g·C/G + c, i·s + u·d, j·s + v·d] · weight[o, c, u, v]``
    where ``g`` is the group of output channel ``o``. x ``(N, C_in, H, W)`` → ``(N, C_out, H_out, W_out)``.
    """
    x4, squeeze, s, d = _conv_args(x, weight, bias, stride, padding, dilation, groups)
    c_out, c_per_group, kh, kw = weight.shape
    cols = patches(_pad(x4, padding, (kh, kw), d), (kh, kw), s, d)  # (N, C_in, Ho, Wo, kh, kw)
    n, _, ho, wo = cols.shape[:4]
    # im2col: one row per output pixel, one column per (channel, u, v) of a group → (N, G, Ho·Wo, C/G·kH·kW)
    cols = cols.reshape(n, groups, c_per_group, ho, wo, kh, kw).permute(0, 1, 3, 4, 2, 5, 6)
    cols = cols.reshape(n, groups, ho * wo, c_per_group * kh * kw)
    w = weight.reshape(groups, c_out // groups, c_per_group * kh * kw).transpose(1, 2)  # (G, C/G·kH·kW, C_out/G)
    out = (cols @ w).permute(0, 1, 3, 2).reshape(n, c_out, ho, wo)  # one matrix product per group
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out[0] if squeeze else out


def conv2d_loops(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride: Pair = 1,
                 padding: Pair | str = 0, dilation: Pair = 1, groups: int = 1) -> torch.Tensor:
    """The same cross-correlation written as the plain loops notebook 01 derives first (slow: for teaching).

    One Python loop per image, output channel and output pixel; the innermost sum over the window
    ``Σ_{c,u,v}`` is a single tensor product. Same shapes and results as ``conv2d``.
    """
    x4, squeeze, (sh, sw), (dh, dw) = _conv_args(x, weight, bias, stride, padding, dilation, groups)
    c_out, c_per_group, kh, kw = weight.shape
    xp = _pad(x4, padding, (kh, kw), (dh, dw))
    n, _, hp, wp = xp.shape
    ho = (hp - dh * (kh - 1) - 1) // sh + 1
    wo = (wp - dw * (kw - 1) - 1) // sw + 1
    out_per_group = c_out // groups
    rows = []
    for b in range(n):
        channels = []
        for o in range(c_out):
            g = o // out_per_group
            xg = xp[b, g * c_per_group:(g + 1) * c_per_group]
            pixels = []
            for i in range(ho):
                for j in range(wo):
                    window = xg[:, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw]
                    value = (window * weight[o]).sum()
                    pixels.append(value + bias[o] if bias is not None else value)
            channels.append(torch.stack(pixels).reshape(ho, wo))
        rows.append(torch.stack(channels))
    out = torch.stack(rows)
    return out[0] if squeeze else out


def convolve2d(image: torch.Tensor, kernel: torch.Tensor, mode: str = "valid") -> torch.Tensor:
    """True 2-D convolution of one image ``(H, W)`` with one kernel ``(kH, kW)``: the kernel is flipped.

    ``(I * K)(i, j) = Σ_m Σ_n I(m, n) K(i − m, j − n)``. Deep-learning "convolution" (``conv2d`` here and in
    PyTorch) skips the flip, i.e. it is cross-correlation; the two agree for symmetric kernels and a learned
    kernel simply learns the flipped weights. ``mode``: ``'valid'`` (default, (H−kH+1)×(W−kW+1), only
    positions where the kernel fits), ``'full'`` ((H+kH−1)×(W+kW−1), every overlap) or ``'same'`` (H×W,
    the centre of 'full', as in ``scipy.signal.convolve2d``).
    """
    if not isinstance(image, torch.Tensor) or image.ndim != 2:
        raise ValueError(f"image must be a 2-D tensor (H, W), got shape "
                         f"{tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__}")
    if not isinstance(kernel, torch.Tensor) or kernel.ndim != 2:
        raise ValueError(f"kernel must be a 2-D tensor (kH, kW), got shape "
                         f"{tuple(kernel.shape) if isinstance(kernel, torch.Tensor) else type(kernel).__name__}")
    if mode not in ("valid", "full", "same"):
        raise ValueError(f"mode must be 'valid', 'full' or 'same', got {mode!r}")
    (h, w), (kh, kw) = image.shape, kernel.shape
    if mode == "valid" and (kh > h or kw > w):
        raise ValueError(f"kernel {kh}×{kw} is larger than the image {h}×{w}: use mode='full' or 'same'")
    dtype = torch.promote_types(image.dtype, kernel.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float32
    flipped = kernel.to(dtype).flip(0, 1)
    x = image.to(dtype)[None, None]
    if mode == "valid":
        return conv2d(x, flipped[None, None])[0, 0]
    full = conv2d(F.pad(x, (kw - 1, kw - 1, kh - 1, kh - 1)), flipped[None, None])[0, 0]
    if mode == "full":
        return full
    top, left = (kh - 1) // 2, (kw - 1) // 2
    return full[top:top + h, left:left + w]


# ----------------------------------------------------------------------------------------------------- pooling
def _pool_args(x, kernel_size, stride, padding, dilation, name):
    x4, squeeze = _batched(x)
    k = _pair(kernel_size, "kernel_size")
    s = _pair(stride if stride is not None else kernel_size, "stride")
    p = _pair(padding, "padding", minimum=0)
    d = _pair(dilation, "dilation")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"padding {p} must be at most half the kernel size {k} (as in PyTorch): "
                         "a window made mostly of padding has nothing to pool")
    _check_window(x4.shape[2], x4.shape[3], k, d, p, name)
    return x4, squeeze, k, s, p, d


def max_pool2d(x: torch.Tensor, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0,
               dilation: Pair = 1) -> torch.Tensor:
    """Max over each window, like ``F.max_pool2d`` (stride defaults to the kernel size; padding is −∞).

    ``(N, C, H, W)`` → ``(N, C, H_out, W_out)`` with ``H_out = output_size(H, k, s, p, d)``.
    """
    x4, squeeze, k, s, p, d = _pool_args(x, kernel_size, stride, padding, dilation, "Max-pooling")
    xp = F.pad(x4, (p[1], p[1], p[0], p[0]), value=-math.inf) if any(p) else x4
    out = patches(xp, k, s, d).amax(dim=(-2, -1))
    return out[0] if squeeze else out


def avg_pool2d(x: torch.Tensor, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0,
               count_include_pad: bool = True) -> torch.Tensor:
    """Mean over each window, like ``F.avg_pool2d`` (zero padding counted in the mean unless told otherwise).

    ``(N, C, H, W)`` → ``(N, C, H_out, W_out)`` with ``H_out = output_size(H, k, s, p)``.
    """
    x4, squeeze, k, s, p, d = _pool_args(x, kernel_size, stride, padding, 1, "Average-pooling")
    xp = F.pad(x4, (p[1], p[1], p[0], p[0])) if any(p) else x4
    total = patches(xp, k, s, d).sum(dim=(-2, -1))
    if count_include_pad or not any(p):
        out = total / (k[0] * k[1])
    else:
        ones = F.pad(torch.ones_like(x4[:1, :1]), (p[1], p[1], p[0], p[0]))
        out = total / patches(ones, k, s, d).sum(dim=(-2, -1))
    return out[0] if squeeze else out


def global_avg_pool2d(x: torch.Tensor) -> torch.Tensor:
    """Mean over all positions of each channel: ``(N, C, H, W)`` → ``(N, C)`` (``nn.AdaptiveAvgPool2d(1)``)."""
    x4, _ = _batched(x)
    return x4.mean(dim=(-2, -1))


# ------------------------------------------------------------------------------------------------- arithmetic
def _positive(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be {'positive' if minimum == 1 else f'≥ {minimum}'}, got {value}")
    return value


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one dimension: ⌊(H + 2P − D·(F−1) − 1) / S⌋ + 1.

    With D = 1 this is the familiar ⌊(H + 2P − F) / S⌋ + 1. The floor means a stride that does not divide
    evenly silently drops the last rows/columns (see ``dropped_pixels``). ValueError when the dilated kernel
    D·(F−1)+1 is larger than the padded input H + 2P.
    """
    _positive(size, "input size")
    _positive(kernel, "kernel size")
    _positive(stride, "stride")
    _positive(padding, "padding", minimum=0)
    _positive(dilation, "dilation")
    effective = dilation * (kernel - 1) + 1
    if effective > size + 2 * padding:
        dil = f" (kernel {kernel} with dilation {dilation})" if dilation != 1 else ""
        raise ValueError(f"kernel of effective size {effective}{dil} is larger than the padded input "
                         f"{size} + 2·{padding} = {size + 2 * padding}: use a smaller kernel or more padding")
    return (size + 2 * padding - effective) // stride + 1


def dropped_pixels(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """How many rows (or columns) at the far end of the padded input no window reaches.

    Zero when the stride divides ``H + 2P − D·(F−1) − 1`` evenly; otherwise the floor in ``output_size``
    discards the remainder: ``(H + 2P − D·(F−1) − 1) mod S`` pixels (padding included) are never seen.
    """
    out = output_size(size, kernel, stride, padding, dilation)
    last_covered = (out - 1) * stride + dilation * (kernel - 1)  # index in the padded input
    return size + 2 * padding - (last_covered + 1)


class OutputSizeReport(NamedTuple):
    """Everything the output-size calculator shows, computed without raising (invalid input → ``valid=False``)."""

    valid: bool
    size: int | None  #: output length, None when invalid
    dropped: int  #: padded-input pixels no window reaches (0 when the stride divides evenly)
    formula: str  #: the formula with the numbers substituted
    message: str  #: the result, or what is wrong / what gets dropped


def explain_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
                        ) -> OutputSizeReport:
    """``output_size`` with its working shown: a learner-facing report that flags, rather than raises on, bad input."""
    effective = dilation * (kernel - 1) + 1
    numerator = size + 2 * padding - effective
    formula = (f"⌊({size} + 2·{padding} − {dilation}·({kernel}−1) − 1) / {stride}⌋ + 1"
               f" = ⌊{numerator} / {stride}⌋ + 1")
    try:
        out = output_size(size, kernel, stride, padding, dilation)
    except ValueError as err:
        return OutputSizeReport(False, None, 0, formula, f"invalid: {err}")
    dropped = dropped_pixels(size, kernel, stride, padding, dilation)
    message = f"output {out}×{out}"
    if dropped:
        message += (f"; stride {stride} does not divide {numerator} evenly: the last {dropped} row(s)/column(s) "
                    f"of the padded input are never covered by a window (dropped)")
    return OutputSizeReport(True, out, dropped, f"{formula} = {out}", message)


def same_padding(kernel: int, dilation: int = 1) -> int:
    """Padding that keeps the size at stride 1: P = D·(F−1)/2 (ValueError when that is not a whole number)."""
    _positive(kernel, "kernel size")
    _positive(dilation, "dilation")
    total = dilation * (kernel - 1)
    if total % 2:
        raise ValueError(f"'same' size with symmetric padding needs D·(F−1) even, got D={dilation}, F={kernel} "
                         f"(total padding {total}); PyTorch's padding='same' pads one more pixel on one side")
    return total // 2


def transposed_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
                           dilation: int = 1) -> int:
    """Output length of a transposed convolution: (H − 1)·S − 2P + D·(F − 1) + output_padding + 1.

    It inverts ``output_size``'s shape map; ``output_padding`` (< max(S, D), as in PyTorch) picks which of the
    input sizes that a strided convolution maps to the same output you get back.
    """
    _positive(size, "input size")
    _positive(kernel, "kernel size")
    _positive(stride, "stride")
    _positive(padding, "padding", minimum=0)
    _positive(output_padding, "output_padding", minimum=0)
    _positive(dilation, "dilation")
    if output_padding >= max(stride, dilation):
        raise ValueError(f"output_padding ({output_padding}) must be smaller than stride ({stride}) or dilation "
                         f"({dilation}), as in PyTorch")
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ValueError(f"transposed convolution output would be {out} ≤ 0 (input {size}, kernel {kernel}, "
                         f"stride {stride}, padding {padding}): use less padding")
    return out


def conv2d_macs(input_shape: Sequence[int], weight_shape: Sequence[int], stride: Pair = 1, padding: Pair = 0,
                dilation: Pair = 1, groups: int = 1) -> int:
    """Multiply–accumulates of one conv2d call: N · C_out · H_out · W_out · (C_in/groups) · kH · kW (FLOPs ≈ 2×)."""
    n, _, h, w = input_shape
    c_out, c_per_group, kh, kw = weight_shape
    s, p, d = _pair(stride, "stride"), _pair(padding, "padding", 0), _pair(dilation, "dilation")
    ho, wo = output_size(h, kh, s[0], p[0], d[0]), output_size(w, kw, s[1], p[1], d[1])
    return n * c_out * ho * wo * c_per_group * kh * kw


# ------------------------------------------------------------------------------------------- receptive field
class LayerRF(NamedTuple):
    """One row of a receptive-field table: the layer, its (kernel, stride, dilation) and the RF after it."""

    name: str
    kernel: int
    stride: int
    dilation: int
    size: int  #: receptive field (input pixels) of one output pixel after this layer
    jump: int  #: distance in input pixels between neighbouring output pixels after this layer


class ReceptiveField(NamedTuple):
    """Receptive field of a stack: ``size`` input pixels per output pixel, ``jump`` between neighbours."""

    size: int
    jump: int
    layers: tuple[LayerRF, ...]

    def table(self) -> str:
        """The per-layer growth as aligned text."""
        lines = [f"{'layer':<28}{'k':>3}{'s':>3}{'d':>3}{'RF':>6}{'jump':>6}"]
        lines += [f"{r.name[:27]:<28}{r.kernel:>3}{r.stride:>3}{r.dilation:>3}{r.size:>6}{r.jump:>6}"
                  for r in self.layers]
        return "\n".join(lines)


_NEUTRAL = (nn.ReLU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.ELU, nn.SiLU, nn.Identity, nn.BatchNorm2d,
            nn.Dropout, nn.Dropout2d, nn.GroupNorm, nn.InstanceNorm2d)


def _square(value, name: str, layer: str) -> int:
    if isinstance(value, int):
        return value
    if len(set(value)) != 1:
        raise ValueError(f"{layer}: receptive_field handles square {name}s only, got {tuple(value)}")
    return int(value[0])


def _layer_params(layer, index: int) -> tuple[str, int, int, int] | None:
    """(name, kernel, stride, dilation) of one layer, None for layers that do not change the spatial grid."""
    if isinstance(layer, (tuple, list)):
        if not 1 <= len(layer) <= 3:
            raise ValueError(f"layer {index}: give (kernel, stride) or (kernel, stride, dilation), got {layer!r}")
        k, s, d = (tuple(layer) + (1, 1))[:3]
        for value, what in ((k, "kernel"), (s, "stride"), (d, "dilation")):
            _positive(value, f"layer {index} {what}")
        return f"({k}, {s}, {d})", k, s, d
    if isinstance(layer, _NEUTRAL):
        return None
    if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        name = type(layer).__name__
        k = _square(layer.kernel_size, "kernel", name)
        s = _square(layer.stride, "stride", name)
        d = _square(getattr(layer, "dilation", 1), "dilation", name)
        return f"{index}: {name}", k, s, d
    raise ValueError(f"layer {index} ({type(layer).__name__}) has no receptive field rule: receptive_field takes "
                     "Conv2d, MaxPool2d, AvgPool2d, activations/normalisation (ignored) or (k, s, d) tuples; "
                     "pass only the convolutional part of a model")


def receptive_field(layers) -> ReceptiveField:
    """Receptive field of a stack of conv/pool layers: r ← r + (k − 1)·d·j,  j ← j·s, from r = j = 1.

    ``layers``: an ``nn.Module`` (its leaf modules in order), a list of modules, or (kernel, stride[, dilation])
    tuples. Activations and normalisation layers are skipped. Reference: Araujo et al., "Computing Receptive
    Fields of Convolutional Neural Networks", Distill 2019.
    """
    if isinstance(layers, nn.Module):
        layers = [m for m in layers.modules() if not list(m.children())]
    size, jump, rows = 1, 1, []
    for index, layer in enumerate(layers):
        params = _layer_params(layer, index)
        if params is None:
            continue
        name, k, s, d = params
        size += (k - 1) * d * jump
        jump *= s
        rows.append(LayerRF(name, k, s, d, size, jump))
    return ReceptiveField(size, jump, tuple(rows))


def gradient_receptive_field(model: nn.Module, input_size: int = 64, in_channels: int = 1) -> tuple[int, int]:
    """Measured receptive field: (rows, cols) of input pixels with a non-zero gradient for the centre output pixel.

    The RF is a property of the wiring, not of the weights, so a copy of the model gets all-positive weights
    (and max-pooling becomes average pooling) so that no gradient cancels or is routed to a single argmax;
    then the bounding box of ∂out[centre]/∂input is exactly the set of pixels that can influence it.
    ``input_size`` must be large enough that the receptive field is not clipped by the border.
    """
    probe = _positive_copy(model)
    x = torch.ones(1, in_channels, input_size, input_size, dtype=torch.float64, requires_grad=True)
    out = probe(x)
    if out.ndim != 4:
        raise ValueError(f"model must map (N, C, H, W) to (N, C', H', W'), got output shape {tuple(out.shape)}")
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    hit = x.grad[0].abs().sum(0) > 0
    rows, cols = hit.any(1).nonzero(), hit.any(0).nonzero()
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == input_size - 1 or cols[-1] == input_size - 1:
        raise ValueError(f"the receptive field reaches the border of the {input_size}×{input_size} probe input: "
                         "pass a larger input_size")
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def _positive_copy(model: nn.Module) -> nn.Module:
    import copy

    probe = copy.deepcopy(model).double()
    for name, module in list(probe.named_modules()):
        for param_name, param in module.named_parameters(recurse=False):
            with torch.no_grad():
                param.fill_(0.0 if param_name == "bias" else 0.1)
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.MaxPool2d):
                if _square(child.dilation, "dilation", "MaxPool2d") != 1:
                    raise ValueError("gradient_receptive_field cannot probe a dilated MaxPool2d")
                setattr(module, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
    if isinstance(probe, nn.MaxPool2d):
        probe = nn.AvgPool2d(probe.kernel_size, probe.stride, probe.padding)
    return probe


# ---------------------------------------------------------------------------------------------- kernel presets
def _t(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


#: Hand-made kernels for the kernel explorer and notebook 01. Stroke detectors respond to a bright line
#: (white ink) of the given orientation on a dark background: positive along the line, negative beside it.
KERNEL_PRESETS: dict[str, torch.Tensor] = {
    "identity": _t([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_blur": torch.full((3, 3), 1 / 9),
    "gaussian_blur": _t([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "sharpen": _t([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "laplacian": _t([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "sobel_x": _t([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _t([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "horizontal_stroke": _t([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]]) / 3,
    "vertical_stroke": _t([[-1, 2, -1], [-1, 2, -1], [-1, 2, -1]]) / 3,
    "diagonal_stroke": _t([[-1, -1, 2], [-1, 2, -1], [2, -1, -1]]) / 3,  # '/' (rising to the right)
    "antidiagonal_stroke": _t([[2, -1, -1], [-1, 2, -1], [-1, -1, 2]]) / 3,  # '\'
    "box_blur_5": torch.full((5, 5), 1 / 25),
    "gaussian_blur_5": _t([[1, 4, 6, 4, 1]]).T @ _t([[1, 4, 6, 4, 1]]) / 256,
    "horizontal_stroke_5": _t([[-1] * 5, [-1] * 5, [4] * 5, [-1] * 5, [-1] * 5]) / 10,
    "vertical_stroke_5": _t([[-1] * 5, [-1] * 5, [4] * 5, [-1] * 5, [-1] * 5]).T / 10,
}


def filter_image(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Cross-correlate one image with one kernel, keeping its size ('same' zero padding): what a conv layer sees.

    ``image`` ``(H, W)`` of any dtype (uint8 is scaled to [0, 1]), ``kernel`` ``(k, k)`` → float32 ``(H, W)``.
    """
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"image and kernel must be 2-D, got shapes {tuple(image.shape)} and {tuple(kernel.shape)}")
    x = image.float() / 255.0 if image.dtype == torch.uint8 else image.float()
    return conv2d(x[None, None], kernel.float()[None, None], padding="same")[0, 0]


# ------------------------------------------------------------------------------ pooling and small shifts
#: The four stroke detectors notebook 03 uses as a fixed first layer: | − / \\
STROKE_BANK = ("vertical_stroke", "horizontal_stroke", "diagonal_stroke", "antidiagonal_stroke")


def shift_images(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Move ``images (..., H, W)`` right by ``dx`` and down by ``dy`` pixels (negative: left/up), filling with 0."""
    h, w = images.shape[-2:]
    if abs(dx) >= w or abs(dy) >= h:
        raise ValueError(f"shift ({dx}, {dy}) moves the whole {h}×{w} image out of view")
    out = torch.zeros_like(images)
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def stroke_features(images: torch.Tensor, pool: int | str | None = None, op: str = "max") -> torch.Tensor:
    """Stroke-detector responses (ReLU) of glyphs, optionally pooled: ``(N, H, W)`` uint8 → ``(N, 4, h, w)``.

    ``pool``: None/1 (no pooling), k (k×k pooling with stride k) or ``'global'`` (one value per map).
    """
    if op not in ("max", "avg"):
        raise ValueError(f"op must be 'max' or 'avg', got {op!r}")
    x = images.float() / 255 if images.dtype == torch.uint8 else images.float()
    x = x.reshape(-1, 1, *x.shape[-2:])
    bank = torch.stack([KERNEL_PRESETS[name] for name in STROKE_BANK])[:, None]
    features = relu_(conv2d(x, bank, padding=1))
    if pool in (None, 1):
        return features
    if pool == "global":
        return features.amax(dim=(-2, -1), keepdim=True) if op == "max" else features.mean(dim=(-2, -1), keepdim=True)
    return max_pool2d(features, pool) if op == "max" else avg_pool2d(features, pool)


def relu_(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(min=0)


def shift_change(images: torch.Tensor, dx: int, dy: int, pool: int | str | None = None, op: str = "max") -> float:
    """Mean relative change ‖f(x) − f(shift(x))‖ / ‖f(x)‖ of ``stroke_features`` when glyphs move by (dx, dy)."""
    a = stroke_features(images, pool, op).flatten(1)
    b = stroke_features(shift_images(images, dx, dy), pool, op).flatten(1)
    return float(((a - b).norm(dim=1) / a.norm(dim=1).clamp(min=1e-8)).mean())


__all__ = [
    "conv2d", "conv2d_loops", "convolve2d", "patches", "max_pool2d", "avg_pool2d", "global_avg_pool2d",
    "output_size", "explain_output_size", "OutputSizeReport", "dropped_pixels", "same_padding", "transposed_output_size", "conv2d_macs", "receptive_field",
    "ReceptiveField", "LayerRF", "gradient_receptive_field", "KERNEL_PRESETS", "filter_image", "STROKE_BANK",
    "shift_images", "stroke_features", "shift_change",
]
