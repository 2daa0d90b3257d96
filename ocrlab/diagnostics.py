"""Look inside training: per-step loss and gradient norms, dead units, and exact numbers of plain SGD steps.

``fit`` reports per epoch; the lessons on depth (07) and activations (04) need per-step curves, gradient norms
and a bare optimiser, so these functions run ``fit`` with callbacks (``ocrlab.callbacks``) rather than a loop
of their own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .callbacks import GradientNorms, LossRecorder, StopAfterSteps
from .inputs import Data, check_labelled
from .train import fit


@dataclass
class StepTrace:
    """Per-step training loss and gradient L2 norms (``grad_norms[layer name][step]``)."""

    loss: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)

    def mean_loss(self, last: int) -> float:
        """Mean loss over the last ``last`` steps (smooths the per-batch noise)."""
        tail = self.loss[-last:]
        return sum(tail) / len(tail)

    def mean_grad_norm(self, layer: str, first: int | None = None) -> float:
        """Mean gradient norm of ``layer`` over the first ``first`` steps (all steps by default)."""
        values = self.grad_norms[layer][:first]
        return sum(values) / len(values)


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the model's ``nn.Conv2d`` layers in forward (definition) order."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def _fit_steps(model: nn.Module, train: Data, steps: int, batch_size: int, optimizer, seed: int,
               callbacks: list, **kwargs) -> None:
    """``fit`` for exactly ``steps`` optimiser steps at a constant learning rate, silently."""
    images, _ = check_labelled(train, "train")
    epochs = math.ceil(steps / math.ceil(len(images) / batch_size))
    fit(model, train, epochs=epochs, batch_size=batch_size, optimizer=optimizer, schedule="constant", seed=seed,
        callbacks=[*callbacks, StopAfterSteps(steps)], verbose=False, progress=False, **kwargs)


def trace_training(model: nn.Module, train: Data, *, steps: int, layers: list[str] | None = None,
                   batch_size: int = 128, lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 1e-4,
                   seed: int = 0, device: str | torch.device | None = None) -> StepTrace:
    """Train ``model`` for ``steps`` SGD steps on ``train``, recording the loss and the gradient norm of ``layers``.

    ``layers`` are module names (default: every conv layer); the gradient norm is the L2 norm of the layer's
    weight gradient, before the optimizer step. SGD with momentum and a constant learning rate, so the comparison
    is about the architecture, not the schedule. Runs on ``device`` (default: the best available).
    """
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    grads = GradientNorms(conv_layers(model) if layers is None else layers)
    losses = LossRecorder()
    _fit_steps(model, train, steps, batch_size,
               lambda params: torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay),
               seed, [grads, losses], device=device, channels_last=False)
    return StepTrace(losses.losses, grads.norms)


def sgd_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, steps: int, batch_size: int = 128,
              seed: int = 0) -> float:
    """``steps`` plain SGD updates (no momentum, schedule or weight decay) on ``(x, y)``; returns the last loss.

    Deliberately bare: notebook 04 wants to see what one too-large learning rate does. Float inputs are used
    as they are (no normalisation). For real training use ``ocrlab.train.fit``.
    """
    losses = LossRecorder()
    _fit_steps(model, (x, y), steps, batch_size, lambda params: torch.optim.SGD(params, lr=lr), seed, [losses],
               normalization=(0.0, 1.0), weight_decay=0.0, channels_last=False)
    return losses.losses[-1]


def layer_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor, per_weight: bool = False) -> list[float]:
    """‖∂loss/∂W‖ of every conv/linear weight, input side first, after one cross-entropy backward pass.

    ``per_weight=True`` divides each norm by √(number of weights), the root-mean-square gradient of one weight, so
    that layers of different sizes compare (a 1→16 conv has 16× fewer weights than a 16→16 one, hence a 4× smaller
    norm at the same per-weight gradient). The model's gradients are left as they were (cleared afterwards)."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    norms = [float(m.weight.grad.norm()) / (m.weight.numel() ** 0.5 if per_weight else 1.0)
             for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.zero_grad()
    return norms


@torch.no_grad()
def activation_stds(model: nn.Sequential, x: torch.Tensor) -> list[float]:
    """Standard deviation of every hidden layer's output (after its activation), input side first.

    A hidden layer is a ``Conv2d``/``Linear`` followed by its activation module; the final classifier is not
    counted. Shows whether an initialisation keeps the signal's scale through depth (notebook 04).
    """
    stds, h = [], x
    layers = list(model)
    for i, layer in enumerate(layers):
        h = layer(h)
        if i > 0 and isinstance(layers[i - 1], (nn.Conv2d, nn.Linear)) and not isinstance(layer, (nn.Conv2d, nn.Linear)):
            stds.append(float(h.float().std()))
    return stds


@torch.no_grad()
def dead_unit_fraction(model: nn.Sequential, x: torch.Tensor) -> list[float]:
    """Per hidden layer, the fraction of units whose pre-activation is ≤ 0 for *every* input in ``x``.

    For a ReLU such a unit outputs 0 and passes no gradient to its own weights for these inputs; a Leaky ReLU
    unit in the same state still passes slope·gradient and can recover.
    """
    fractions, h = [], x
    layers = list(model)
    for i, layer in enumerate(layers):
        h = layer(h)
        if isinstance(layer, nn.Linear) and i + 1 < len(layers):  # a hidden layer: an activation follows
            fractions.append(float((h <= 0).all(dim=0).float().mean()))
    return fractions


__all__ = ["StepTrace", "conv_layers", "trace_training", "sgd_steps", "layer_gradient_norms", "activation_stds",
           "dead_unit_fraction"]
