"""Plain stacks for the activation lessons (notebook 04): deep conv stacks and MLPs, one activation throughout.

Each is seeded by its ``seed`` argument without touching the caller's random-number state. References: Glorot &
Bengio 2010 (Xavier init), He et al. 2015 (He init for ReLUs).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..activations import ACTIVATIONS


def _make_activation(name: str, negative_slope: float) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return nn.LeakyReLU(negative_slope) if name == "leaky_relu" else ACTIVATIONS[name][1]()


def deep_stack(activation: str, depth: int = 10, width: int = 16, in_channels: int = 1, num_classes: int = 10,
               negative_slope: float = 0.01, seed: int = 0) -> nn.Sequential:
    """A plain stack of ``depth`` 3×3 conv layers (``width`` channels, 'same' padding) + global pool + linear.

    Each activation gets its textbook initialisation so the comparison is fair: Xavier (Glorot) for
    sigmoid/tanh, He (Kaiming) for the ReLU family. Input ``(N, C, H, W)`` → logits ``(N, num_classes)``.
    """
    if depth < 1:
        raise ValueError(f"depth must be ≥ 1, got {depth}")
    with torch.random.fork_rng():  # seeded weights without resetting the caller's random numbers
        torch.manual_seed(seed)
        return _deep_stack(activation, depth, width, in_channels, num_classes, negative_slope)


def _deep_stack(activation, depth, width, in_channels, num_classes, negative_slope) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = in_channels
    for _ in range(depth):
        conv = nn.Conv2d(channels, width, 3, padding=1)
        if activation in ("sigmoid", "tanh"):
            nn.init.xavier_normal_(conv.weight)
        else:
            nn.init.kaiming_normal_(conv.weight, a=negative_slope if activation == "leaky_relu" else 0.0,
                                    nonlinearity="leaky_relu")
        nn.init.zeros_(conv.bias)
        layers += [conv, _make_activation(activation, negative_slope)]
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)]
    return nn.Sequential(*layers)


def mlp(activation: str, hidden: tuple[int, ...] = (256, 256, 256), in_features: int = 784, num_classes: int = 10,
        negative_slope: float = 0.1, seed: int = 0) -> nn.Sequential:
    """Flatten → (Linear → activation) per hidden width → Linear, with PyTorch's default initialisation."""
    with torch.random.fork_rng():  # seeded weights without resetting the caller's random numbers
        torch.manual_seed(seed)
        layers: list[nn.Module] = [nn.Flatten()]
        d = in_features
        for h in hidden:
            layers += [nn.Linear(d, h), _make_activation(activation, negative_slope)]
            d = h
        return nn.Sequential(*layers, nn.Linear(d, num_classes))


__all__ = ["deep_stack", "mlp"]
