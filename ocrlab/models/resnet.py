"""ResNet for 28–32 px characters: He, Zhang, Ren & Sun, "Deep residual learning for image recognition", CVPR 2016.

The CIFAR-style family of the paper's section 4.2: a 3×3 stem, three stages of ``n`` ``BasicBlock``s with widths
``w, 2w, 4w`` (the last two halve the resolution), global average pooling and one linear layer: depth ``6n + 2``
(resnet20: n = 3). ``shortcut=False`` removes every shortcut, giving the *plain* network of equal depth that the
paper compares against (its Fig. 6). Layout follows torchvision's ``models/resnet.py``.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .registry import register


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3×3 convolution with padding 1 (no bias: a BatchNorm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1×1 convolution: changes the number of channels (and with stride 2, the resolution) of a shortcut."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 conv–BN layers plus a shortcut: ``y = relu(F(x) + shortcut(x))``.

    Contract: input ``(N, inplanes, H, W)`` → output ``(N, planes, H/stride, W/stride)``. ``downsample`` maps ``x``
    to the output's shape when they differ (1×1 conv + BN). With ``shortcut=False`` the block is plain:
    ``y = relu(F(x))``, same layers and parameters except the unused ``downsample``.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 shortcut: bool = True):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class ResNet(nn.Module):
    """stem conv3x3 → ``len(layers)`` stages of blocks (width doubling, resolution halving) → avg pool → linear.

    ``zero_init_residual=True`` starts each block's last BN at γ = 0 so every residual block begins as the
    identity (Goyal et al. 2017, "Accurate, large minibatch SGD: training ImageNet in 1 hour").
    Input ``(N, in_channels, H, W)`` (28 or 32 px) → logits ``(N, num_classes)``.
    """

    def __init__(self, block: type[BasicBlock] = BasicBlock, layers: tuple[int, ...] = (3, 3, 3),
                 num_classes: int = 10, in_channels: int = 1, width: int = 16, shortcut: bool = True,
                 zero_init_residual: bool = False):
        super().__init__()
        self.shortcut = shortcut
        self.inplanes = width
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.stages = nn.Sequential(*[self._make_layer(block, width * 2 ** i, n, stride=1 if i == 0 else 2)
                                      for i, n in enumerate(layers)])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.inplanes, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def _make_layer(self, block: type[BasicBlock], planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        """One stage: the first block may change width/resolution (with a 1×1 downsample shortcut), the rest keep it."""
        downsample = None
        if self.shortcut and (stride != 1 or self.inplanes != planes * block.expansion):
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.shortcut)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, shortcut=self.shortcut) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.stages(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _resnet(depth: int, shortcut: bool, **kwargs) -> ResNet:
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 with n ≥ 1 (8, 14, 20, 32, 44, 56, …), got {depth}")
    n = (depth - 2) // 6
    return ResNet(BasicBlock, (n, n, n), shortcut=shortcut, **kwargs)


def resnet(depth: int = 20, **kwargs) -> ResNet:
    """Residual network of ``depth = 6n + 2`` weighted layers (He et al. 2016, section 4.2)."""
    return _resnet(depth, True, **kwargs)


def plain(depth: int = 20, **kwargs) -> ResNet:
    """The same network with every shortcut removed: the paper's "plain" baseline."""
    return _resnet(depth, False, **kwargs)


@register("resnet20")
def resnet20(**kwargs) -> ResNet:
    return resnet(20, **kwargs)


@register("plain20")
def plain20(**kwargs) -> ResNet:
    return plain(20, **kwargs)


__all__ = ["conv3x3", "conv1x1", "BasicBlock", "ResNet", "resnet", "plain", "resnet20", "plain20"]
