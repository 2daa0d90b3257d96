"""Size arithmetic of convolutions and pooling: output sizes, padding, cost and receptive fields.

Notebook 02 derives each formula, checks it against the shapes PyTorch produces, and then uses these. Reference:
Dumoulin & Visin, "A guide to convolution arithmetic for deep learning" (2016), arXiv:1603.07285; Araujo et al.,
"Computing Receptive Fields of Convolutional Neural Networks", Distill 2019.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn as nn

from .conv import Pair, _pair
from .device import model_device


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
    """How many image rows (or columns) at the far end no window covers; padding is not counted.

    The last window spans padded indices up to ``last = (H_out − 1)·S + D·(F − 1)``; the image occupies padded
    indices ``P … P + H − 1``, so ``max(0, P + H − 1 − last)`` image rows are never seen. "Covers" means lying
    inside a window's span (its extent): with D > 1 a row between two dilated taps counts as covered. The floor
    in ``output_size`` is the cause: ``(H + 2P − D·(F−1) − 1) mod S`` padded rows are unreached, and only those
    beyond the right/bottom padding are image pixels. E.g. H=28, F=3, S=2: 1 dropped with P=0, none with P=1.
    Not counted: rows *between* windows when S > D·(F−1)+1 (a 1×1 stride-2 convolution sees every other row);
    that is subsampling by design, not the floor's loss at the end.
    """
    out = output_size(size, kernel, stride, padding, dilation)
    last = (out - 1) * stride + dilation * (kernel - 1)  # padded index of the last covered row
    return max(0, padding + size - 1 - last)


class OutputSizeReport(NamedTuple):
    """Everything the output-size calculator shows, computed without raising (invalid input → ``valid=False``)."""

    valid: bool
    size: int | None  #: output length, None when invalid
    dropped: int  #: image rows/columns (padding excluded) that no window covers, see ``dropped_pixels``
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
    if dropped:  # unreached padding alone loses nothing: no message then
        message += (f"; stride {stride} does not divide {numerator} evenly: the last {dropped} image "
                    f"row(s)/column(s) are never seen by any window (dropped)")
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
    x = torch.ones(1, in_channels, input_size, input_size, dtype=torch.float64, device=model_device(probe),
                   requires_grad=True)
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


__all__ = ["output_size", "explain_output_size", "OutputSizeReport", "dropped_pixels", "same_padding",
           "transposed_output_size", "conv2d_macs", "receptive_field", "ReceptiveField", "LayerRF",
           "gradient_receptive_field"]
