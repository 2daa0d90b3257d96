"""Look inside training: per-step loss and the gradient norm of chosen layers (notebook 07, plain vs residual).

``fit`` reports per epoch; the depth lesson needs per-step curves and gradients, so this short loop records them.
Same data handling as ``fit`` (uint8 on the device, normalised per batch, seeded shuffling).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .inputs import Data, check_labelled, normalization_stats, preprocess
from .train import seed_everything


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


def trace_training(model: nn.Module, train: Data, *, steps: int, layers: list[str] | None = None,
                   batch_size: int = 128, lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 1e-4,
                   seed: int = 0) -> StepTrace:
    """Train ``model`` for ``steps`` SGD steps on ``train``, recording the loss and the gradient norm of ``layers``.

    ``layers`` are module names (default: every conv layer); the gradient norm is the L2 norm of the layer's
    weight gradient, before the optimizer step. Plain SGD with momentum and a constant learning rate, so the
    comparison is about the architecture, not the schedule. Runs on the CPU.
    """
    images, labels = check_labelled(train, "train")
    seed_everything(seed)
    modules = dict(model.named_modules())
    layers = conv_layers(model) if layers is None else layers
    missing = [name for name in layers if name not in modules]
    if missing:
        raise ValueError(f"No layer named {missing} in the model; choose among {conv_layers(model)[:5]}…")
    norm = normalization_stats(images)
    model.input_normalization = norm
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    trace = StepTrace(grad_norms={name: [] for name in layers})
    model.train()
    perm = torch.randperm(len(labels), generator=gen)
    cursor = 0
    for step in range(steps):
        if cursor + batch_size > len(labels):
            perm, cursor = torch.randperm(len(labels), generator=gen), 0
        idx = perm[cursor:cursor + batch_size]
        cursor += batch_size
        loss = F.cross_entropy(model(preprocess(images[idx], norm)), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for name in layers:
            trace.grad_norms[name].append(float(modules[name].weight.grad.norm()))
        opt.step()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise RuntimeError(f"The loss became {value} at step {step + 1}; lower lr (now {lr:g}).")
        trace.loss.append(value)
    model.eval()
    return trace


__all__ = ["StepTrace", "conv_layers", "trace_training"]
