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
               negative_slope: float = 0.01, seed: int = 0, init: str | float | None = None) -> nn.Sequential:
    """A plain stack of ``depth`` 3×3 conv layers (``width`` channels, 'same' padding) + global pool + linear.

    ``init`` sets the conv weights (biases start at 0): ``"xavier"`` (Glorot: Var(w) = 2/(fan_in + fan_out)),
    ``"he"`` (Kaiming: Var(w) = 2/fan_in, /(1 + a²) for a Leaky ReLU of slope a), ``"default"`` (PyTorch's own
    ``nn.Conv2d`` init, Var(w) = 1/(3·fan_in)), a number (normal weights with that standard deviation, e.g.
    AlexNet's 0.01), or ``None``: the textbook one for the activation, Xavier for sigmoid/tanh and He for the
    ReLU family. Input ``(N, C, H, W)`` → logits ``(N, num_classes)``.
    """
    if depth < 1:
        raise ValueError(f"depth must be ≥ 1, got {depth}")
    if init is None:
        init = "xavier" if activation in ("sigmoid", "tanh") else "he"
    if isinstance(init, bool) or not (init in ("xavier", "he", "default")
                                      or (isinstance(init, (int, float)) and init > 0)):
        raise ValueError(f"init must be 'xavier', 'he', 'default', a positive standard deviation or None (the "
                         f"textbook init for the activation), got {init!r}")
    with torch.random.fork_rng():  # seeded weights without resetting the caller's random numbers
        torch.manual_seed(seed)
        return _deep_stack(activation, depth, width, in_channels, num_classes, negative_slope, init)


def _init_conv(conv: nn.Conv2d, init: str | float, activation: str, negative_slope: float) -> None:
    if init == "xavier":
        nn.init.xavier_normal_(conv.weight)
    elif init == "he":
        nn.init.kaiming_normal_(conv.weight, a=negative_slope if activation == "leaky_relu" else 0.0,
                                nonlinearity="leaky_relu")
    elif init != "default":
        nn.init.normal_(conv.weight, std=float(init))
    if init != "default":
        nn.init.zeros_(conv.bias)


def _deep_stack(activation, depth, width, in_channels, num_classes, negative_slope, init) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = in_channels
    for _ in range(depth):
        conv = nn.Conv2d(channels, width, 3, padding=1)
        _init_conv(conv, init, activation, negative_slope)
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
