"""How big and how costly a model is: parameters, multiply-accumulates and the activations saved for backward.

Parameters are what a model stores; multiply-accumulates (MACs, one multiply plus one add) are what one forward
pass computes; saved activations are what training keeps in memory between the forward and the backward pass.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn as nn

from ..device import model_device


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters (weights and biases; BatchNorm's running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _conv_macs(module: nn.Conv2d, output: torch.Tensor) -> int:
    # each output value is a dot product over (in_channels / groups) × kh × kw inputs
    kh, kw = module.kernel_size
    return output.numel() * (module.in_channels // module.groups) * kh * kw


def _linear_macs(module: nn.Linear, output: torch.Tensor) -> int:
    return output.numel() * module.in_features


@torch.no_grad()
def count_macs(model: nn.Module, input_size: tuple[int, ...] = (1, 28, 28), per_layer: bool = False):
    """Multiply-accumulates of one forward pass on ONE input of shape ``input_size = (C, H, W)``.

    Counted: every ``nn.Conv2d`` (output values × in_channels/groups × kh × kw) and ``nn.Linear`` (output values ×
    in_features), measured with forward hooks on a real forward pass, so the spatial sizes are the true ones.
    Not counted: biases, BatchNorm, activations, pooling, additions of residual shortcuts and concatenations
    (all of them cost about one operation per activation, small next to the convolutions).
    Returns an ``int``, or with ``per_layer=True`` a dict ``layer name → MACs`` (a layer called twice sums).
    """
    counts: dict[str, int] = {}
    handles = []

    def hook(name):
        def record(module, _inputs, output):
            macs = _conv_macs(module, output) if isinstance(module, nn.Conv2d) else _linear_macs(module, output)
            counts[name] = counts.get(name, 0) + macs
        return record

    was_training = model.training
    try:
        for name, module in model.named_modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                handles.append(module.register_forward_hook(hook(name)))
        model.eval()
        model(torch.zeros(1, *input_size, device=model_device(model)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return counts if per_layer else sum(counts.values())


def saved_activation_bytes(model: nn.Module, input_size: tuple[int, ...] = (1, 28, 28), batch_size: int = 1) -> int:
    """Bytes of the tensors autograd keeps for the backward pass of one training-mode forward pass.

    Measured with ``torch.autograd.graph.saved_tensors_hooks``: each distinct storage is counted once (a tensor
    saved by two operations is not counted twice), parameters excluded. This is the training memory that grows with
    the batch size; on CUDA ``torch.cuda.max_memory_allocated`` measures the same thing plus workspace. The forward
    pass runs on a copy, so the caller's model (BatchNorm running statistics included) is left as it was.
    """
    model = copy.deepcopy(model)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    model.train()
    x = torch.zeros(batch_size, *input_size, device=model_device(model), requires_grad=False)
    with torch.random.fork_rng(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):  # dropout draws
        out = model(x)
    del out
    return sum(seen.values())


@dataclass(frozen=True)
class Complexity:
    """Parameters and multiply-accumulates of one model for one input size."""

    parameters: int
    macs: int
    input_size: tuple[int, ...]

    def __str__(self) -> str:
        return (f"{self.parameters:,} parameters, {self.macs / 1e6:,.2f} M multiply-accumulates per "
                f"{'×'.join(map(str, self.input_size))} image")


def complexity(model: nn.Module, input_size: tuple[int, ...] = (1, 28, 28)) -> Complexity:
    """``count_parameters`` and ``count_macs`` together."""
    return Complexity(count_parameters(model), count_macs(model, input_size), tuple(input_size))


__all__ = ["count_parameters", "count_macs", "saved_activation_bytes", "Complexity", "complexity"]
