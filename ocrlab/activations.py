"""Activation functions from scratch and the two experiments of notebook 04: vanishing gradients in deep
sigmoid stacks, and ReLUs that die after a too-high learning rate (and Leaky ReLU's fix).

References: Glorot & Bengio 2010 (vanishing gradients, Xavier init); He et al. 2015 (ReLU init);
Maas et al. 2013 (Leaky ReLU).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(0, x): sparse (exact zeros for x < 0) and a gradient of exactly 1 or 0."""
    return torch.where(x > 0, x, torch.zeros_like(x))


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """x for x > 0, slope·x otherwise: a small gradient survives on the negative side, so units cannot die."""
    return torch.where(x > 0, x, negative_slope * x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """1 / (1 + e^−x); its derivative σ(1−σ) is at most 1/4, which is why deep sigmoid stacks vanish."""
    return 1 / (1 + torch.exp(-x))


def tanh(x: torch.Tensor) -> torch.Tensor:
    """(e^x − e^−x) / (e^x + e^−x) = 2σ(2x) − 1: zero-centred, derivative at most 1."""
    return 2 * sigmoid(2 * x) - 1


def gelu(x: torch.Tensor) -> torch.Tensor:
    """x·Φ(x) with Φ the standard normal CDF (Hendrycks & Gimpel 2016), as in transformers."""
    return x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))


#: From-scratch activations by name, with their PyTorch modules for building networks.
ACTIVATIONS: dict[str, tuple[Callable[..., torch.Tensor], type[nn.Module]]] = {
    "relu": (relu, nn.ReLU), "leaky_relu": (leaky_relu, nn.LeakyReLU), "sigmoid": (sigmoid, nn.Sigmoid),
    "tanh": (tanh, nn.Tanh), "gelu": (gelu, nn.GELU),
}


def activation_curve(name: str, x: torch.Tensor, negative_slope: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """Values and derivatives (by autograd) of activation ``name`` at points ``x`` (1-D): ``(f(x), f'(x))``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    fn = ACTIVATIONS[name][0]
    x = x.detach().double().requires_grad_(True)
    y = fn(x, negative_slope) if name == "leaky_relu" else fn(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), grad


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
    torch.manual_seed(seed)
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


def layer_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """‖∂loss/∂W‖ of every conv/linear weight, input side first, after one cross-entropy backward pass."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    norms = [float(m.weight.grad.norm()) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.zero_grad()
    return norms


def mlp(activation: str, hidden: tuple[int, ...] = (256, 256, 256), in_features: int = 784, num_classes: int = 10,
        negative_slope: float = 0.1, seed: int = 0) -> nn.Sequential:
    """Flatten → (Linear → activation) per hidden width → Linear, with PyTorch's default initialisation."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Flatten()]
    d = in_features
    for h in hidden:
        layers += [nn.Linear(d, h), _make_activation(activation, negative_slope)]
        d = h
    return nn.Sequential(*layers, nn.Linear(d, num_classes))


@torch.no_grad()
def dead_unit_fraction(model: nn.Sequential, x: torch.Tensor) -> list[float]:
    """Per hidden layer, the fraction of units whose pre-activation is ≤ 0 for *every* input in ``x``.

    For a ReLU such a unit outputs 0 and gets zero gradient for all these inputs: it is dead and stays dead.
    A Leaky ReLU unit in the same state still passes slope·gradient and can recover.
    """
    fractions, h = [], x
    layers = list(model)
    for i, layer in enumerate(layers):
        h = layer(h)
        if isinstance(layer, nn.Linear) and i + 1 < len(layers):  # a hidden layer: an activation follows
            fractions.append(float((h <= 0).all(dim=0).float().mean()))
    return fractions


def sgd_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, steps: int, batch_size: int = 128,
              seed: int = 0) -> float:
    """``steps`` plain SGD updates on random mini-batches of ``(x, y)`` (float inputs); returns the last loss.

    Deliberately bare (no momentum, schedule or clipping): notebook 04 wants to see what one too-large
    learning rate does. For real training use ``ocrlab.train.fit``.
    """
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        idx = torch.randint(len(x), (batch_size,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach())


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` classified as ``y``."""
    return float((model(x).argmax(1) == y).float().mean())


__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "ACTIVATIONS", "activation_curve", "deep_stack",
           "layer_gradient_norms", "mlp", "dead_unit_fraction", "sgd_steps", "accuracy"]
