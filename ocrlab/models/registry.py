"""The model registry: each model file registers its builders where they are defined (as timm does).

``create(name, num_classes, in_channels)`` builds one by name, for the command line and the notebooks.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import torch.nn as nn

Builder = TypeVar("Builder", bound=Callable[..., nn.Module])

#: name → builder(num_classes=..., in_channels=...)
REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    """Decorator: make ``builder(num_classes=..., in_channels=...)`` available as ``create(name)``."""
    def add(builder: Builder) -> Builder:
        if name in REGISTRY:
            raise ValueError(f"a model named {name!r} is already registered")
        REGISTRY[name] = builder
        return builder
    return add


def create(name: str, num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """Build a registered model by name (``ocrlab.models.REGISTRY`` lists them)."""
    key = name.lower()
    if key not in REGISTRY:
        raise ValueError(f"Unknown model {name!r}; choose one of {', '.join(sorted(REGISTRY))}.")
    return REGISTRY[key](num_classes=num_classes, in_channels=in_channels)
