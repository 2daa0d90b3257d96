"""AlexNet's ideas at character scale: Krizhevsky, Sutskever & Hinton, "ImageNet classification with deep
convolutional neural networks", NeurIPS 2012 — more layers, ReLU, Dropout in the dense layers.

``conv_style="vgg"`` replaces each large kernel by a stack of 3×3 convolutions (Simonyan & Zisserman, "Very deep
convolutional networks for large-scale image recognition", ICLR 2015): two 3×3 layers see a 5×5 field with
fewer parameters and one more non-linearity.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .registry import register


def conv_relu(in_channels: int, out_channels: int, kernel_size: int = 3) -> list[nn.Module]:
    """A 'same'-padded convolution followed by ReLU (the pair AlexNet is made of)."""
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2), nn.ReLU(inplace=True)]


def vgg_block(in_channels: int, out_channels: int, num_convs: int) -> nn.Sequential:
    """``num_convs`` 3×3 conv–ReLU layers then a 2×2 max pool: receptive field grows by 2 per layer."""
    layers = []
    for i in range(num_convs):
        layers += conv_relu(in_channels if i == 0 else out_channels, out_channels, 3)
    return nn.Sequential(*layers, nn.MaxPool2d(2))


class AlexNet(nn.Module):
    """Five conv layers (ReLU, 3 max pools) then a Dropout–dense–ReLU classifier, sized for 28×28 characters.

    ``conv_style="alexnet"``: 5×5 → pool → 3×3 → pool → 3×3 ×3 → pool, as in the 2012 paper (its 11×11 stride-4
    stem would erase a 28 px glyph, so the first kernel is 5×5). ``conv_style="vgg"``: three VGG blocks of
    (2, 2, 3) 3×3 convolutions. ``dropout`` is Dropout's drop probability in the classifier (0 disables it).
    ``width`` scales the channels (w, 2w, 4w). Input ``(N, C, 28, 28)`` → logits ``(N, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5, width: int = 32,
                 hidden: int = 256, conv_style: str = "alexnet"):
        super().__init__()
        if conv_style not in ("alexnet", "vgg"):
            raise ValueError(f"conv_style must be 'alexnet' or 'vgg', got {conv_style!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout is a probability in [0, 1), got {dropout}")
        w = width
        if conv_style == "alexnet":
            self.features = nn.Sequential(
                *conv_relu(in_channels, w, 5), nn.MaxPool2d(2),  # 28 → 14
                *conv_relu(w, 2 * w, 3), nn.MaxPool2d(2),  # 14 → 7
                *conv_relu(2 * w, 4 * w, 3), *conv_relu(4 * w, 4 * w, 3), *conv_relu(4 * w, 2 * w, 3),
                nn.MaxPool2d(2),  # 7 → 3
                nn.AdaptiveAvgPool2d(3),  # 32 px inputs end at 4×4: pool to 3×3 so the classifier fits both
            )
            out_channels = 2 * w
        else:
            self.features = nn.Sequential(vgg_block(in_channels, w, 2), vgg_block(w, 2 * w, 2),
                                          vgg_block(2 * w, 4 * w, 3), nn.AdaptiveAvgPool2d(3))
            out_channels = 4 * w
        self.dropout = dropout
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(out_channels * 3 * 3, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@register("alexnet")
def alexnet(**kwargs) -> AlexNet:
    """The course's AlexNet-style network (``AlexNet``'s defaults)."""
    return AlexNet(**kwargs)


@register("vgg")
def vgg(**kwargs) -> AlexNet:
    """The VGG-style variant: 3×3 stacks instead of larger kernels."""
    return AlexNet(conv_style="vgg", **kwargs)


__all__ = ["conv_relu", "vgg_block", "AlexNet", "alexnet", "vgg"]
