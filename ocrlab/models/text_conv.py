"""Convolutions shaped for text: direction-sensitive kernels (strokes are lines: horizontal bars, vertical stems,
diagonals) and deformable convolution, whose sampling grid bends to follow a rotated, slanted or warped glyph.

- Oriented line kernels: the 1×k / k×1 "asymmetric" convolutions of Szegedy et al., "Rethinking the Inception
  architecture" (CVPR 2016), extended to diagonals with a fixed line mask.
- Dai, Qi, Xiong, Li, Zhang, Hu & Wei, "Deformable convolutional networks", ICCV 2017.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import deform_conv2d


def _check_odd(kernel_size: int, name: str) -> int:
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"{name} needs an odd kernel_size ≥ 1 (a kernel with a centre pixel), got {kernel_size!r}: "
                         "use 3, 5 or 7")
    return kernel_size


def _check_input(x: torch.Tensor, channels: int, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} expects (N, {channels}, H, W), got shape {tuple(x.shape)}: "
                         f"build it with in_channels={x.shape[1] if x.ndim == 4 else '?'}")


def line_mask(kernel_size: int, angle: float) -> torch.Tensor:
    """A ``kernel_size``² 0/1 mask of the pixels within half a pixel of the line through the centre at ``angle``
    degrees (0: horizontal →, 90: vertical ↑, 45: rising diagonal ╱, 135: falling diagonal ╲)."""
    k = _check_odd(kernel_size, "line_mask")
    c = k // 2
    yy, xx = torch.meshgrid(torch.arange(k) - c, torch.arange(k) - c, indexing="ij")
    rad = math.radians(angle)
    # distance of pixel (x, −y) (image rows grow downwards) from the line through 0 with direction (cos, sin)
    dist = (xx * math.sin(rad) + yy * math.cos(rad)).abs().float()
    return (dist <= 0.5 + 1e-6).float()


class OrientedConv2d(nn.Module):
    """A k×k convolution whose weights live only on a line at ``angle`` degrees (``line_mask``): a learned stroke
    detector for one direction with ``k`` taps per input–output pair instead of ``k²``.

    ``angle=0`` is a 1×k kernel, ``angle=90`` a k×1 kernel. Input ``(N, in_channels, H, W)`` → ``(N, out_channels,
    H', W')`` with "same" padding by default. Parameters: ``out·in·k (+ out)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 5, angle: float = 0.0,
                 stride: int = 1, bias: bool = True):
        super().__init__()
        k = _check_odd(kernel_size, "OrientedConv2d")
        self.in_channels, self.out_channels, self.kernel_size, self.angle, self.stride = \
            in_channels, out_channels, k, float(angle), stride
        mask = line_mask(k, angle)
        self.register_buffer("mask", mask, persistent=False)
        self.register_buffer("index", mask.flatten().nonzero()[:, 0], persistent=False)
        self.taps = nn.Parameter(torch.empty(out_channels, in_channels, len(self.index)))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        bound = 1 / math.sqrt(in_channels * len(self.index))
        nn.init.uniform_(self.taps, -math.sqrt(3) * bound * math.sqrt(2), math.sqrt(3) * bound * math.sqrt(2))

    @property
    def weight(self) -> torch.Tensor:
        """The full k×k kernel ``(out, in, k, k)``: zero off the line."""
        w = self.taps.new_zeros(self.out_channels, self.in_channels, self.kernel_size ** 2)
        w[:, :, self.index] = self.taps
        return w.view(self.out_channels, self.in_channels, self.kernel_size, self.kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, "OrientedConv2d")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.kernel_size // 2)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, angle={self.angle:g}"


class DirectionalConv2d(nn.Module):
    """Several ``OrientedConv2d`` branches side by side (default: horizontal, both diagonals, vertical), their
    outputs concatenated: each output channel is a detector for strokes of one direction.

    ``out_channels`` must be divisible by ``len(angles)``. Input ``(N, in, H, W)`` → ``(N, out, H/stride, W/stride)``.
    Parameters: ``out·in·k (+ out)``, i.e. ``k`` times fewer than a k×k conv (5 vs 25 per pair at k = 5).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 5,
                 angles: Sequence[float] = (0, 45, 90, 135), stride: int = 1, bias: bool = True):
        super().__init__()
        if not angles or out_channels % len(angles):
            raise ValueError(f"out_channels ({out_channels}) must be a multiple of the number of angles "
                             f"({len(angles)})")
        self.in_channels = in_channels
        self.branches = nn.ModuleList(OrientedConv2d(in_channels, out_channels // len(angles), kernel_size, a, stride,
                                                     bias) for a in angles)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_channels, "DirectionalConv2d")
        return torch.cat([b(x) for b in self.branches], 1)


class DeformableConv2d(nn.Module):
    """Deformable convolution v1 (Dai et al. 2017) on ``torchvision.ops.deform_conv2d``.

    A plain conv samples the input on a fixed k×k grid around each output pixel. Here a second convolution (the
    *offset predictor*, ``2·k²`` output channels: a (Δy, Δx) per kernel tap, per output pixel) moves every tap;
    the input is read at the fractional positions by bilinear interpolation. The offset predictor starts at zero,
    so at initialisation the layer **equals** ``nn.Conv2d`` with the same ``weight`` and ``bias``, and learning
    bends the grid only where the loss asks for it.

    Input ``(N, in_channels, H, W)`` → ``(N, out_channels, H', W')`` with ``H' = ⌊(H + 2P − k)/S⌋ + 1``.
    Parameters: ``out·in·k² (+ out)`` for the kernel, plus ``2k²·in·k² + 2k²`` for the offset predictor.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1, bias: bool = True):
        super().__init__()
        k = _check_odd(kernel_size, "DeformableConv2d")
        if in_channels < 1 or out_channels < 1 or stride < 1 or padding < 0 or dilation < 1:
            raise ValueError(f"invalid DeformableConv2d({in_channels}, {out_channels}, {kernel_size}, stride={stride},"
                             f" padding={padding}, dilation={dilation})")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, k
        self.stride, self.padding, self.dilation = stride, padding, dilation
        reference = nn.Conv2d(in_channels, out_channels, k, stride, padding, dilation, bias=bias)  # same init
        self.weight = nn.Parameter(reference.weight.detach().clone())
        self.bias = nn.Parameter(reference.bias.detach().clone()) if bias else None
        self.offset = nn.Conv2d(in_channels, 2 * k * k, k, stride, padding, dilation)
        nn.init.zeros_(self.offset.weight)
        nn.init.zeros_(self.offset.bias)
        self.last_offsets: torch.Tensor | None = None

    @classmethod
    def from_conv(cls, conv: nn.Conv2d) -> "DeformableConv2d":
        """A deformable layer that starts as a copy of ``conv`` (square kernel, no groups)."""
        k, s, p, d = conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.dilation[0]
        if conv.groups != 1 or isinstance(conv.padding, str):
            raise ValueError("from_conv needs a conv without groups and with numeric padding")
        layer = cls(conv.in_channels, conv.out_channels, k, s, p, d, conv.bias is not None)
        with torch.no_grad():
            layer.weight.copy_(conv.weight)
            if conv.bias is not None:
                layer.bias.copy_(conv.bias)
        return layer

    def offsets(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted offsets ``(N, 2k², H', W')``: channel ``2t`` is Δy and ``2t + 1`` is Δx of tap ``t`` (row-major)."""
        _check_input(x, self.in_channels, "DeformableConv2d")
        return self.offset(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        off = self.offsets(x)
        self.last_offsets = off.detach()
        return deform_conv2d(x, off, self.weight, self.bias, stride=self.stride, padding=self.padding,
                             dilation=self.dilation)

    def sampling_positions(self, x: torch.Tensor) -> torch.Tensor:
        """Where each tap reads the input: ``(N, H', W', k², 2)`` as (row, column) in input pixels, offsets
        included. Without offsets these are the regular grid ``(i·S − P + u·D, j·S − P + v·D)``."""
        with torch.no_grad():
            off = self.offsets(x)
        n, _, ho, wo = off.shape
        k = self.kernel_size
        u, v = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
        taps = torch.stack([u.flatten(), v.flatten()], -1).float() * self.dilation  # (k², 2)
        i, j = torch.meshgrid(torch.arange(ho), torch.arange(wo), indexing="ij")
        base = torch.stack([i, j], -1).float() * self.stride - self.padding  # (H', W', 2)
        grid = base[:, :, None, :] + taps[None, None]  # (H', W', k², 2)
        return grid[None] + off.view(n, k * k, 2, ho, wo).permute(0, 3, 4, 1, 2)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}")


class TextConvNet(nn.Module):
    """A small CNN for 28×28 characters whose middle convolutions are ``conv``: ``'plain'`` (3×3), ``'directional'``
    (oriented line kernels, ``DirectionalConv2d``, both middle layers) or ``'deformable'`` (the *last* middle layer
    a 3×3 ``DeformableConv2d``, as Dai et al. deform only the last layers, where the features already say where the
    strokes are). Everything else is shared, so the variants differ only in how these layers sample their input.

    conv3×3(1→w) → BN–ReLU → maxpool 2 → X(w→2w) → BN–ReLU → maxpool 2 → X(2w→4w) → BN–ReLU → avgpool → linear.
    Input ``(N, in_channels, 28, 28)`` → logits ``(N, num_classes)``.
    """

    def __init__(self, conv: str = "plain", num_classes: int = 10, in_channels: int = 1, width: int = 16,
                 kernel_size: int = 3):
        super().__init__()
        if conv not in ("plain", "directional", "deformable"):
            raise ValueError(f"conv must be 'plain', 'directional' or 'deformable', got {conv!r}")
        self.conv_kind = conv

        def middle(cin: int, cout: int, last: bool = False) -> nn.Module:
            if conv == "plain" or (conv == "deformable" and not last):
                return nn.Conv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False)
            if conv == "directional":
                return DirectionalConv2d(cin, cout, max(kernel_size, 5), bias=False)
            return DeformableConv2d(cin, cout, kernel_size, padding=kernel_size // 2, bias=False)

        w = width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            middle(w, 2 * w), nn.BatchNorm2d(2 * w), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            middle(2 * w, 4 * w, last=True), nn.BatchNorm2d(4 * w), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


__all__ = ["line_mask", "OrientedConv2d", "DirectionalConv2d", "DeformableConv2d", "TextConvNet"]
