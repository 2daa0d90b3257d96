"""Models of the course, built from a few named blocks, each with its paper in the docstring.

``create(name, num_classes, in_channels)`` builds one by name (used by ``python -m ocrlab train``).
"""
from __future__ import annotations

from typing import Callable

import torch.nn as nn

from .lenet import LeNet5

#: name → factory(num_classes, in_channels) for the command line and notebooks
REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "lenet5": lambda num_classes=10, in_channels=1: LeNet5(num_classes, in_channels, "modern"),
    "lenet5-classic": lambda num_classes=10, in_channels=1: LeNet5(num_classes, in_channels, "classic"),
}


def create(name: str, num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """Build a registered model by name (``ocrlab.models.REGISTRY`` lists them)."""
    key = name.lower()
    if key not in REGISTRY:
        raise ValueError(f"Unknown model {name!r}; choose one of {', '.join(REGISTRY)}.")
    return REGISTRY[key](num_classes=num_classes, in_channels=in_channels)


__all__ = ["LeNet5", "REGISTRY", "create"]
