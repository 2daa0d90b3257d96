"""DenseNet for 28–32 px characters: Huang, Liu, van der Maaten & Weinberger, "Densely connected convolutional
networks", CVPR 2017.

Inside a dense block every layer receives the concatenation of all earlier feature maps and adds ``growth_rate``
new ones, so features are reused instead of recomputed. ``bottleneck=True`` puts a 1×1 conv (to ``bn_size ×
growth_rate`` channels) before each 3×3 (DenseNet-B); transitions between blocks compress the channels by
``compression`` and halve the resolution (DenseNet-C). Both: DenseNet-BC. Layout follows torchvision's.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .registry import register


class DenseLayer(nn.Module):
    """BN–ReLU–(1×1 conv)–BN–ReLU–3×3 conv: ``(N, C_in, H, W)`` → ``growth_rate`` new maps ``(N, k, H, W)``."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4, bottleneck: bool = True,
                 drop_rate: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = [nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True)]
        if bottleneck:
            inner = bn_size * growth_rate
            layers += [nn.Conv2d(in_channels, inner, 1, bias=False), nn.BatchNorm2d(inner), nn.ReLU(inplace=True)]
            in_channels = inner
        layers.append(nn.Conv2d(in_channels, growth_rate, 3, padding=1, bias=False))
        if drop_rate > 0:
            layers.append(nn.Dropout(drop_rate))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class DenseBlock(nn.Module):
    """``num_layers`` dense layers, each fed all earlier maps: ``(N, C, H, W)`` → ``(N, C + L·k, H, W)``."""

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4,
                 bottleneck: bool = True, drop_rate: float = 0.0):
        super().__init__()
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, bottleneck, drop_rate)
            for i in range(num_layers))
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN–ReLU–1×1 conv (``in → out`` channels)–2×2 average pool: compresses and halves the resolution."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.AvgPool2d(2))


class DenseNet(nn.Module):
    """stem 3×3 conv → dense blocks separated by transitions → BN–ReLU → global avg pool → linear.

    Defaults: a DenseNet-BC with growth rate 12 and three blocks of 6 layers (≈ 0.1 M parameters), comparable to
    resnet20. Input ``(N, in_channels, H, W)`` → logits ``(N, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, growth_rate: int = 12,
                 block_config: tuple[int, ...] = (6, 6, 6), num_init_features: int | None = None, bn_size: int = 4,
                 bottleneck: bool = True, compression: float = 0.5, drop_rate: float = 0.0):
        super().__init__()
        if not 0 < compression <= 1:
            raise ValueError(f"compression must be in (0, 1], got {compression}")
        channels = num_init_features or 2 * growth_rate
        blocks: list[nn.Module] = [nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)]
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, channels, growth_rate, bn_size, bottleneck, drop_rate)
            blocks.append(block)
            channels = block.out_channels
            if i < len(block_config) - 1:
                out = int(channels * compression)
                blocks.append(Transition(channels, out))
                channels = out
        blocks += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


@register("densenet")
def densenet(**kwargs) -> DenseNet:
    """The course's DenseNet-BC (``DenseNet``'s defaults)."""
    return DenseNet(**kwargs)


__all__ = ["DenseLayer", "DenseBlock", "Transition", "DenseNet", "densenet"]
