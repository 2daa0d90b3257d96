"""Models of the course, built from a few named blocks, each with its paper in the docstring.

Each model file registers its builders (``@register``); ``create(name, num_classes, in_channels)`` builds one by
name (used by ``python -m ocrlab train``) and ``REGISTRY`` lists them.
"""
from __future__ import annotations

from . import complexity
from .alexnet import AlexNet, alexnet, vgg
from .densenet import DenseBlock, DenseLayer, DenseNet, Transition, densenet
from .lenet import LeNet5, lenet5, lenet5_classic
from .registry import REGISTRY, create, register
from .resnet import BasicBlock, ResNet, conv1x1, conv3x3, plain, plain20, resnet, resnet20
from .stacks import deep_stack, mlp
from .attention import CBAM, ChannelAttention, SpatialAttention, SqueezeExcitation, attention_resnet
from .multiscale import ResNetFPN, conv_stack
from .text_conv import DeformableConv2d, DirectionalConv2d, OrientedConv2d, TextConvNet

__all__ = ["LeNet5", "lenet5", "lenet5_classic", "AlexNet", "alexnet", "vgg", "BasicBlock", "ResNet", "conv3x3",
           "conv1x1", "resnet", "plain", "resnet20", "plain20", "DenseLayer", "DenseBlock", "Transition", "DenseNet",
           "densenet", "deep_stack", "mlp", "complexity", "REGISTRY", "create", "register",
           "SqueezeExcitation", "ChannelAttention", "SpatialAttention", "CBAM", "attention_resnet", "ResNetFPN",
           "conv_stack", "OrientedConv2d", "DirectionalConv2d", "DeformableConv2d", "TextConvNet"]
