"""Convolution and pooling from scratch, with the same contract as PyTorch.

Notebooks 01–03 derive each function here by hand, check it against ``torch.nn.functional`` and then use
this version. Their size arithmetic is in ``ocrlab.sizes``. Everything is plain tensor code: the vectorised ``conv2d`` builds the im2col patch tensor with
``Tensor.unfold`` (a strided view), lays it out as a matrix and multiplies it with the weight, so autograd
differentiates it for free. Reference: Dumoulin & Visin, "A guide to convolution arithmetic for deep
learning" (2016), arXiv:1603.07285.

Shapes follow PyTorch: input ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``), weight
``(C_out, C_in / groups, kH, kW)``, output ``(N, C_out, H_out, W_out)``.
"""
from __future__ import annotations

import math

import torch
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


# ------------------------------------------------------------------------------------------------- backward
def conv2d_backward(x: torch.Tensor, weight: torch.Tensor, grad_out: torch.Tensor, stride: Pair = 1,
                    padding: Pair = 0, dilation: Pair = 1, groups: int = 1
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of ``conv2d`` w.r.t. its input, weight and bias, each computed as a convolution (no autograd).

    - ``grad_x`` is a transposed convolution: insert ``s − 1`` zeros between the entries of ``grad_out``, pad it
      by ``d·(k − 1)`` ("full" correlation) and correlate it with the weight flipped in space and with input and
      output channels swapped (per group). Rows of the padded input that no window reached get 0; then the
      padding is cropped off.
    - ``grad_weight[o, c] = Σ_n x_pad[n, c] ⋆ grad_out[n, o]``: the batch plays the channels' role, and the
      forward's stride becomes the dilation of the ``grad_out`` "kernel" (and the dilation the stride).
    - ``grad_bias = grad_out`` summed over N, H, W.

    x ``(N, C_in, H, W)`` (or ``(C_in, H, W)``), weight ``(C_out, C_in/groups, kH, kW)``, grad_out ``(N, C_out,
    H_out, W_out)`` → ``grad_x`` like x, ``grad_weight`` like weight, ``grad_bias (C_out,)``. Padding: int or pair.
    Reference: Dumoulin & Visin (2016), arXiv:1603.07285, section 4 (transposed convolution arithmetic).
    """
    if isinstance(padding, str):
        raise ValueError(f"conv2d_backward takes padding as an int or a pair, got {padding!r}: pass the number of "
                         "pixels the forward pass padded on each side")
    x4, squeeze, (sh, sw), (dh, dw) = _conv_args(x, weight, None, stride, padding, dilation, groups)
    ph, pw = _pair(padding, "padding", minimum=0)
    n, c_in, h, w = x4.shape
    c_out, c_per_group, kh, kw = weight.shape
    hp, wp = h + 2 * ph, w + 2 * pw
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    if not isinstance(grad_out, torch.Tensor):
        raise ValueError(f"grad_out must be a torch.Tensor, got {type(grad_out).__name__}")
    expected = (c_out, ho, wo) if squeeze else (n, c_out, ho, wo)
    if tuple(grad_out.shape) != expected:
        raise ValueError(f"grad_out must have the shape of the forward output {expected} (N, C_out, H_out, W_out) "
                         f"for x {tuple(x.shape)}, weight {tuple(weight.shape)}, stride {(sh, sw)}, padding "
                         f"{(ph, pw)}, dilation {(dh, dw)}; got {tuple(grad_out.shape)}")
    g4 = grad_out.unsqueeze(0) if squeeze else grad_out
    out_per_group = c_out // groups

    # grad_x: stride-dilate grad_out, pad it fully, correlate with the flipped, channel-swapped weight.
    dilated = g4.new_zeros(n, c_out, (ho - 1) * sh + 1, (wo - 1) * sw + 1)
    dilated[:, :, ::sh, ::sw] = g4
    eh, ew = dh * (kh - 1), dw * (kw - 1)  # effective kernel size − 1
    reached_h, reached_w = (ho - 1) * sh + eh + 1, (wo - 1) * sw + ew + 1  # padded rows/cols some window reached
    full = F.pad(dilated, (ew, ew + wp - reached_w, eh, eh + hp - reached_h))  # + zeros for the unreached ones
    flipped = (weight.reshape(groups, out_per_group, c_per_group, kh, kw).transpose(1, 2)
               .reshape(c_in, out_per_group, kh, kw).flip(-2, -1))
    grad_xp = conv2d(full, flipped, dilation=(dh, dw), groups=groups)  # (N, C_in, H + 2P, W + 2P)
    grad_x = grad_xp[:, :, ph:ph + h, pw:pw + w]

    # grad_weight: x_pad correlated with grad_out, batch as channels, one group at a time.
    xp = F.pad(x4, (pw, pw, ph, ph)).transpose(0, 1)  # (C_in, N, Hp, Wp)
    gt = g4.transpose(0, 1)  # (C_out, N, Ho, Wo)
    grad_weight = torch.cat([
        conv2d(xp[g * c_per_group:(g + 1) * c_per_group], gt[g * out_per_group:(g + 1) * out_per_group],
               stride=(dh, dw), dilation=(sh, sw))[:, :, :kh, :kw].transpose(0, 1)  # (C_out/G, C_in/G, kH, kW)
        for g in range(groups)])

    grad_bias = g4.sum(dim=(0, 2, 3))
    return (grad_x[0] if squeeze else grad_x), grad_weight, grad_bias


def max_pool2d_backward(x: torch.Tensor, grad_out: torch.Tensor, kernel_size: Pair, stride: Pair | None = None,
                        padding: Pair = 0, dilation: Pair = 1) -> torch.Tensor:
    """Gradient of ``max_pool2d`` w.r.t. its input: each window's ``grad_out`` goes to the window's arg-max.

    Every other pixel of the window gets 0; where windows overlap (kernel > stride) a pixel that is the maximum
    of several windows receives the sum. Ties: the first maximum in row-major order within the window, which is
    what PyTorch's CPU kernel picks (``val > maxval``, checked in the tests). x ``(N, C, H, W)`` (or ``(C, H,
    W)``), grad_out ``(N, C, H_out, W_out)`` → grad_x with the shape of x.
    """
    x4, squeeze, k, s, p, d = _pool_args(x, kernel_size, stride, padding, dilation, "Max-pooling")
    n, c, h, w = x4.shape
    hp, wp = h + 2 * p[0], w + 2 * p[1]
    ho, wo = (hp - d[0] * (k[0] - 1) - 1) // s[0] + 1, (wp - d[1] * (k[1] - 1) - 1) // s[1] + 1
    if not isinstance(grad_out, torch.Tensor):
        raise ValueError(f"grad_out must be a torch.Tensor, got {type(grad_out).__name__}")
    expected = (c, ho, wo) if squeeze else (n, c, ho, wo)
    if tuple(grad_out.shape) != expected:
        raise ValueError(f"grad_out must have the shape of the pooled output {expected} for x {tuple(x.shape)}, "
                         f"kernel {k}, stride {s}, padding {p}; got {tuple(grad_out.shape)}")
    g4 = grad_out.unsqueeze(0) if squeeze else grad_out
    xp = F.pad(x4, (p[1], p[1], p[0], p[0]), value=-math.inf) if any(p) else x4
    tap = patches(xp, k, s, d).reshape(n, c, ho, wo, k[0] * k[1]).argmax(dim=-1)  # first max of each window
    rows = torch.arange(ho).view(-1, 1) * s[0] + (tap // k[1]) * d[0]  # where it lies in the padded input
    cols = torch.arange(wo).view(1, -1) * s[1] + (tap % k[1]) * d[1]
    grad_xp = g4.new_zeros(n, c, hp * wp).scatter_add_(2, (rows * wp + cols).reshape(n, c, -1),
                                                       g4.reshape(n, c, -1))  # overlapping windows accumulate
    grad_x = grad_xp.view(n, c, hp, wp)[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
    return grad_x[0] if squeeze else grad_x


__all__ = ["conv2d", "conv2d_loops", "convolve2d", "patches", "max_pool2d", "avg_pool2d", "global_avg_pool2d",
           "conv2d_backward", "max_pool2d_backward"]
