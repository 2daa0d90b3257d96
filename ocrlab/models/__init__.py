"""Models of the course, built from a few named blocks, each with its paper in the docstring.

``create(name, num_classes, in_channels)`` builds one by name (used by ``python -m ocrlab train``).
"""
from __future__ import annotations

from typing import Callable

import torch.nn as nn

from . import complexity
from .alexnet import AlexNet, vgg
from .densenet import DenseBlock, DenseLayer, DenseNet, Transition
from .lenet import LeNet5
from .resnet import BasicBlock, ResNet, conv1x1, conv3x3, plain, plain20, resnet, resnet20
from .attention import CBAM, ChannelAttention, SpatialAttention, SqueezeExcitation, attention_resnet
from .multiscale import ResNetFPN, conv_stack
from .text_conv import DeformableConv2d, DirectionalConv2d, OrientedConv2d, TextConvNet

#: name → factory(num_classes, in_channels) for the command line and notebooks
REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "lenet5": lambda num_classes=10, in_channels=1: LeNet5(num_classes, in_channels, "modern"),
    "lenet5-classic": lambda num_classes=10, in_channels=1: LeNet5(num_classes, in_channels, "classic"),
    "alexnet": lambda num_classes=10, in_channels=1: AlexNet(num_classes, in_channels),
    "vgg": lambda num_classes=10, in_channels=1: vgg(num_classes=num_classes, in_channels=in_channels),
    "resnet20": lambda num_classes=10, in_channels=1: resnet20(num_classes=num_classes, in_channels=in_channels),
    "plain20": lambda num_classes=10, in_channels=1: plain20(num_classes=num_classes, in_channels=in_channels),
    "densenet": lambda num_classes=10, in_channels=1: DenseNet(num_classes, in_channels),
}


def create(name: str, num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """Build a registered model by name (``ocrlab.models.REGISTRY`` lists them)."""
    key = name.lower()
    if key not in REGISTRY:
        raise ValueError(f"Unknown model {name!r}; choose one of {', '.join(REGISTRY)}.")
    return REGISTRY[key](num_classes=num_classes, in_channels=in_channels)


__all__ = ["LeNet5", "AlexNet", "vgg", "BasicBlock", "ResNet", "conv3x3", "conv1x1", "resnet", "plain", "resnet20",
           "plain20", "DenseLayer", "DenseBlock", "Transition", "DenseNet", "complexity", "REGISTRY", "create"]
__all__ += ["SqueezeExcitation", "ChannelAttention", "SpatialAttention", "CBAM", "attention_resnet", "ResNetFPN",
            "conv_stack", "OrientedConv2d", "DirectionalConv2d", "DeformableConv2d", "TextConvNet"]
