"""Activation functions from scratch (notebook 04), each with its derivative's story in the docstring.

The networks notebook 04 experiments with are in ``ocrlab.models.stacks``; its measurements (gradient norms per
layer, dead units) in ``ocrlab.diagnostics``.

References: Glorot & Bengio 2010 (vanishing gradients, Xavier init); He et al. 2015 (ReLU init);
Maas et al. 2013 (Leaky ReLU).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn


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


__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "ACTIVATIONS", "activation_curve"]
