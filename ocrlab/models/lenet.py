"""LeNet-5: LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document recognition", 1998."""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from .registry import register


class LeNet5(nn.Module):
    """conv(6, 5×5) → pool → conv(16, 5×5) → pool → 120 → 84 → classes, for 28×28 (padded to 32) or 32×32 input.

    Layers carry the paper's names (``features.C1``, ``S2``, ``C3``, ``S4``; ``classifier.C5``, ``F6``, ``output``), so
    the feature-map explorer and ``count_macs`` speak the lesson's language. ``variant="classic"`` uses tanh and
    average pooling; ``"modern"`` (the default) uses max pooling and ReLU. Neither keeps what the 1998 network also
    had: C3's partial connection table, the scaled tanh 1.7159·tanh(2x/3), trainable subsampling coefficients and
    the RBF output units with fixed bitmap codes. Input ``(N, C, H, W)`` → logits ``(N, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, variant: str = "modern", input_size: int = 28):
        super().__init__()
        if variant not in ("classic", "modern"):
            raise ValueError(f"variant must be 'classic' or 'modern', got {variant!r}")
        if input_size not in (28, 32):
            raise ValueError(f"LeNet5 expects 28×28 or 32×32 images, got input_size={input_size}")
        self.variant = variant
        pad = 2 if input_size == 28 else 0  # 28×28 inputs are padded to the 32×32 field LeNet was designed for
        if variant == "classic":
            features = [("C1", nn.Conv2d(in_channels, 6, 5, padding=pad)), ("tanh1", nn.Tanh()),
                        ("S2", nn.AvgPool2d(2)),
                        ("C3", nn.Conv2d(6, 16, 5)), ("tanh3", nn.Tanh()), ("S4", nn.AvgPool2d(2))]  # → 16×5×5
            act = nn.Tanh
        else:
            # Max-pool, then ReLU: exactly the same output as ReLU-then-pool (ReLU is monotonic, so it commutes
            # with max) with 4× fewer ReLU evaluations, as in PyTorch's own MNIST example. In-place saves memory.
            act = lambda: nn.ReLU(inplace=True)  # noqa: E731
            features = [("C1", nn.Conv2d(in_channels, 6, 5, padding=pad)), ("S2", nn.MaxPool2d(2)),
                        ("relu2", act()),
                        ("C3", nn.Conv2d(6, 16, 5)), ("S4", nn.MaxPool2d(2)), ("relu4", act())]  # → 16×5×5
        self.features = nn.Sequential(OrderedDict(features))
        self.classifier = nn.Sequential(OrderedDict([
            ("flatten", nn.Flatten()),
            ("C5", nn.Linear(16 * 5 * 5, 120)), ("act5", act()),  # C5: a full 5×5 convolution = a dense layer
            ("F6", nn.Linear(120, 84)), ("act6", act()),
            ("output", nn.Linear(84, num_classes)),  # the paper's RBF units replaced by a linear layer + softmax
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


@register("lenet5")
def lenet5(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """The course's LeNet-5: max pooling and ReLU."""
    return LeNet5(num_classes, in_channels, "modern")


@register("lenet5-classic")
def lenet5_classic(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5 as in 1998: average pooling and tanh."""
    return LeNet5(num_classes, in_channels, "classic")

