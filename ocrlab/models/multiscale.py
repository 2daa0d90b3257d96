"""Multi-scale features for text of very different sizes: a feature pyramid over the course ResNet, and dilated
("hollow", à trous) convolution stacks that widen the receptive field without adding parameters.

- Lin, Dollár, Girshick, He, Hariharan & Belongie, "Feature pyramid networks for object detection", CVPR 2017.
- Yu & Koltun, "Multi-scale context aggregation by dilated convolutions", ICLR 2016.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn as nn
from torchvision.ops import FeaturePyramidNetwork

from .resnet import ResNet, resnet


class ResNetFPN(nn.Module):
    """The course ResNet as a backbone, a feature pyramid (``torchvision.ops.FeaturePyramidNetwork``) over its three
    stages, and a classifier that pools *every* pyramid level.

    A plain ResNet classifies from its last stage only (stride 4: a 6-pixel glyph covers 1–2 of its cells). The
    FPN adds a top-down path with lateral 1×1 connections: each level ``P_i = conv3×3(lateral(C_i) +
    upsample(P_{i+1}))`` has ``fpn_channels`` maps that mix the deep stage's meaning with the fine stage's
    resolution (Lin et al. 2017). Global average pooling of each level, concatenated, feeds one linear layer.

    Input ``(N, in_channels, H, W)`` → logits ``(N, num_classes)``; ``pyramid(x)`` returns the levels
    ``{'p1': (N, F, H, W), 'p2': (N, F, H/2, W/2), 'p3': (N, F, H/4, W/4)}`` (F = ``fpn_channels``).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, depth: int = 8, width: int = 16,
                 fpn_channels: int = 32):
        super().__init__()
        if fpn_channels < 1:
            raise ValueError(f"fpn_channels must be ≥ 1, got {fpn_channels}")
        self.backbone: ResNet = resnet(depth, num_classes=num_classes, in_channels=in_channels, width=width)
        self.backbone.fc = nn.Identity()  # the backbone's own head is not used
        widths = [width * 2 ** i for i in range(len(self.backbone.stages))]
        self.fpn = FeaturePyramidNetwork(widths, fpn_channels)
        self.levels = len(widths)
        self.fc = nn.Linear(fpn_channels * self.levels, num_classes)

    def stages(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        """The backbone's stage outputs ``c1, c2, c3`` (strides 1, 2, 4)."""
        b = self.backbone
        expected = b.conv1.in_channels
        if x.ndim != 4 or x.shape[1] != expected:
            raise ValueError(f"ResNetFPN expects images (N, {expected}, H, W), got shape {tuple(x.shape)}: build it "
                             f"with in_channels={x.shape[1] if x.ndim == 4 else '?'}")
        x = b.relu(b.bn1(b.conv1(x)))
        out = OrderedDict()
        for i, stage in enumerate(b.stages, start=1):
            x = stage(x)
            out[f"c{i}"] = x
        return out

    def pyramid(self, x: torch.Tensor) -> "OrderedDict[str, torch.Tensor]":
        levels = self.fpn(self.stages(x))
        return OrderedDict((f"p{i}", v) for i, v in enumerate(levels.values(), start=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = [p.mean(dim=(2, 3)) for p in self.pyramid(x).values()]
        return self.fc(torch.cat(pooled, 1))


def conv_stack(channels: int = 8, dilations: Sequence[int] = (1, 1, 1, 1), kernel_size: int = 3,
               in_channels: int = 1) -> nn.Sequential:
    """A stack of k×k convolutions with ReLUs, one per entry of ``dilations``, each with "same" padding.

    Dilation ``d`` spreads the same k² weights over a (d(k−1)+1)² window, so ``conv_stack(dilations=(1, 2, 4, 8))``
    and ``conv_stack(dilations=(1, 1, 1, 1))`` have *identical* parameter counts but receptive fields of 31 vs 9
    pixels (Yu & Koltun 2016). Input ``(N, in_channels, H, W)`` → ``(N, channels, H, W)``.
    """
    if kernel_size % 2 == 0 or kernel_size < 1:
        raise ValueError(f"conv_stack needs an odd kernel_size for 'same' padding, got {kernel_size}")
    if not dilations or any(int(d) < 1 for d in dilations):
        raise ValueError(f"dilations must be a non-empty list of integers ≥ 1, got {dilations}")
    layers: list[nn.Module] = []
    c = in_channels
    for d in dilations:
        layers += [nn.Conv2d(c, channels, kernel_size, padding=d * (kernel_size // 2), dilation=int(d)),
                   nn.ReLU(inplace=True)]
        c = channels
    return nn.Sequential(*layers)


def effective_receptive_field(model: nn.Module, input_size: int = 64, in_channels: int = 1, trials: int = 8,
                              seed: int = 0) -> torch.Tensor:
    """Effective receptive field (Luo, Li, Urtasun & Zemel, NeurIPS 2016): ``|∂ out[centre] / ∂ input|`` averaged
    over ``trials`` random re-initialisations and random inputs, normalised to sum 1. Float ``(input_size,
    input_size)``. Unlike the theoretical receptive field it shows *how much* each pixel matters: a Gaussian-like
    blob concentrated in the middle, for plain stacks much narrower than their theoretical extent."""
    import copy

    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros(input_size, input_size, dtype=torch.float64)
    for t in range(trials):
        probe = copy.deepcopy(model).double()
        torch.manual_seed(seed * 1000 + t)
        for m in probe.modules():
            if isinstance(m, nn.Conv2d):
                m.reset_parameters()
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        x = torch.randn(1, in_channels, input_size, input_size, dtype=torch.float64, generator=gen,
                        requires_grad=True)
        out = probe(x)
        if out.ndim != 4:
            raise ValueError(f"model must map (N, C, H, W) to (N, C', H', W'), got {tuple(out.shape)}")
        out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
        total += x.grad[0].abs().sum(0)
    return (total / total.sum()).float()


def radius_of_mass(erf: torch.Tensor, fraction: float = 0.9) -> float:
    """Radius (pixels, Chebyshev distance from the centre) of the smallest centred square holding ``fraction`` of
    the map's total: one number for "how far does this network really look"."""
    h, w = erf.shape
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    dist = torch.maximum((yy - h // 2).abs(), (xx - w // 2).abs())
    total = erf.sum()
    for r in range(max(h, w)):
        if erf[dist <= r].sum() >= fraction * total:
            return float(r)
    return float(max(h, w))


__all__ = ["ResNetFPN", "conv_stack", "effective_receptive_field", "radius_of_mass"]
