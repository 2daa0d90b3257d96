"""LeNet-5: LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document recognition", 1998."""
from __future__ import annotations

import torch
import torch.nn as nn

from .registry import register


class LeNet5(nn.Module):
    """conv(6, 5×5) → pool → conv(16, 5×5) → pool → 120 → 84 → classes, for 28×28 (padded to 32) or 32×32 input.

    ``variant="classic"`` uses tanh and average pooling as in 1998; ``"modern"`` (the default) uses max pooling
    and ReLU, which trains faster. Input ``(N, C, H, W)`` → logits ``(N, num_classes)``.
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
            act = nn.Tanh
            stages = [nn.Conv2d(in_channels, 6, 5, padding=pad), act(), nn.AvgPool2d(2),  # C1, S2
                      nn.Conv2d(6, 16, 5), act(), nn.AvgPool2d(2)]  # C3, S4 → 16×5×5
        else:
            # Max-pool, then ReLU: exactly the same output as ReLU-then-pool (ReLU is monotonic, so it commutes
            # with max) with 4× fewer ReLU evaluations, as in PyTorch's own MNIST example. In-place saves memory.
            act = lambda: nn.ReLU(inplace=True)  # noqa: E731
            stages = [nn.Conv2d(in_channels, 6, 5, padding=pad), nn.MaxPool2d(2), act(),  # C1, S2
                      nn.Conv2d(6, 16, 5), nn.MaxPool2d(2), act()]  # C3, S4 → 16×5×5
        self.features = nn.Sequential(*stages)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), act(),  # C5 (a full 5×5 convolution = a dense layer)
            nn.Linear(120, 84), act(),  # F6
            nn.Linear(84, num_classes),  # output (the paper's RBF units replaced by a linear layer + softmax)
        )

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

