"""Attention blocks that re-weight feature maps: which channels matter (squeeze-and-excitation) and where to look
(spatial attention, CBAM). Each block keeps the attention it applied (``last_attention``) so it can be drawn, and
``forward(x, return_attention=True)`` returns it with the output.

- Hu, Shen & Sun, "Squeeze-and-excitation networks", CVPR 2018.
- Woo, Park, Lee & Kweon, "CBAM: Convolutional block attention module", ECCV 2018.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .resnet import BasicBlock, ResNet


def _check_channels(x: torch.Tensor, channels: int, block: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{block} expects a batch of feature maps (N, C, H, W), got shape {tuple(x.shape)}")
    if x.shape[1] != channels:
        raise ValueError(f"{block} was built for {channels} channels but the input has {x.shape[1]} "
                         f"(shape {tuple(x.shape)}): build it with channels={x.shape[1]}")


def _check_odd(kernel_size: int, block: str) -> int:
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"{block} needs an odd kernel_size ≥ 1 so that the map keeps its size (padding "
                         f"(k−1)/2), got {kernel_size!r}: use 3, 5 or 7")
    return kernel_size


def _hidden(channels: int, reduction: int) -> int:
    if channels < 1 or reduction < 1:
        raise ValueError(f"channels and reduction must be ≥ 1, got channels={channels}, reduction={reduction}")
    return max(1, channels // reduction)


class _ChannelReweighting(nn.Module):
    """Scales each channel by the weight ``attention(x)`` ``(N, C)`` computes; keeps the last one for drawing."""

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        a = self.attention(x)
        self.last_attention = a.detach()
        y = x * a[:, :, None, None]
        return (y, a) if return_attention else y


class SqueezeExcitation(_ChannelReweighting):
    """Channel attention (Hu et al. 2018): ``s = σ(W₂ relu(W₁ avgpool(x)))``, ``y = s · x`` per channel.

    Squeeze: global average pooling gives one number per channel. Excite: a bottleneck MLP (``channels →
    channels / reduction → channels``) and a sigmoid give a weight in [0, 1] per channel.
    Input ``(N, C, H, W)`` → output ``(N, C, H, W)``; attention ``(N, C)``.
    Parameters: ``2·C·(C/r) + C/r + C``.
    """

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = _hidden(channels, reduction)
        self.channels = channels
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)
        self.last_attention: torch.Tensor | None = None

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        _check_channels(x, self.channels, "SqueezeExcitation")
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))


class ChannelAttention(_ChannelReweighting):
    """CBAM's channel attention (Woo et al. 2018): SE with a shared MLP over *both* average- and max-pooled
    descriptors, ``s = σ(MLP(avgpool x) + MLP(maxpool x))``. Input ``(N, C, H, W)``; attention ``(N, C)``."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        hidden = _hidden(channels, reduction)
        self.channels = channels
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels))
        self.last_attention: torch.Tensor | None = None

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        _check_channels(x, self.channels, "ChannelAttention")
        return torch.sigmoid(self.mlp(x.mean(dim=(2, 3))) + self.mlp(x.amax(dim=(2, 3))))


class SpatialAttention(nn.Module):
    """Spatial attention (Woo et al. 2018): ``m = σ(conv_k([mean_c x; max_c x]))``, ``y = m · x`` at every pixel.

    Two maps summarise the channels at each position (their mean and max); a k×k conv (odd k, "same" padding)
    turns them into one weight in [0, 1] per pixel: *where* the block lets features through.
    Input ``(N, C, H, W)`` (any C) → output ``(N, C, H, W)``; attention ``(N, 1, H, W)``. Parameters ``2·k² + 1``.
    """

    def __init__(self, kernel_size: int = 7):
        super().__init__()
        k = _check_odd(kernel_size, "SpatialAttention")
        self.conv = nn.Conv2d(2, 1, k, padding=k // 2)
        self.last_attention: torch.Tensor | None = None

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"SpatialAttention expects (N, C, H, W), got shape {tuple(x.shape)}")
        return torch.sigmoid(self.conv(torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)))

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        m = self.attention(x)
        self.last_attention = m.detach()
        y = x * m
        return (y, m) if return_attention else y


class CBAM(nn.Module):
    """Convolutional block attention module (Woo et al. 2018): channel attention, then spatial attention.

    Input ``(N, C, H, W)`` → output ``(N, C, H, W)``; attention ``(channel (N, C), spatial (N, 1, H, W))``.
    """

    def __init__(self, channels: int, reduction: int = 4, kernel_size: int = 7):
        super().__init__()
        self.channel = ChannelAttention(channels, reduction)
        self.spatial = SpatialAttention(kernel_size)

    @property
    def last_attention(self):
        return self.channel.last_attention, self.spatial.last_attention

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        y, a = self.channel(x, return_attention=True)
        y, m = self.spatial(y, return_attention=True)
        return (y, (a, m)) if return_attention else y


def _attention_module(kind: str | None, channels: int, reduction: int, kernel_size: int) -> nn.Module | None:
    if kind is None or kind == "none":
        return None
    if kind == "se":
        return SqueezeExcitation(channels, reduction)
    if kind == "spatial":
        return SpatialAttention(kernel_size)
    if kind == "cbam":
        return CBAM(channels, reduction, kernel_size)
    raise ValueError(f"Unknown attention {kind!r}; choose 'se', 'spatial', 'cbam' or None")


class AttentionBlock(BasicBlock):
    """A ``BasicBlock`` whose residual branch is re-weighted by an attention module before the shortcut is added,
    as in SE-ResNet (Hu et al. 2018, Fig. 3) and CBAM (Woo et al. 2018, Fig. 3): ``y = relu(A(F(x)) + x)``.

    Subclasses fix the attention kind (``SEBlock``, ``CBAMBlock``, ``SpatialBlock``) so ``ResNet`` can build them.
    """

    kind: str | None = None
    reduction: int = 4
    kernel_size: int = 7

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 shortcut: bool = True):
        super().__init__(inplanes, planes, stride, downsample, shortcut)
        self.attention = _attention_module(self.kind, planes, self.reduction, self.kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.attention is not None:
            out = self.attention(out)
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class SEBlock(AttentionBlock):
    kind = "se"


class SpatialBlock(AttentionBlock):
    kind = "spatial"


class CBAMBlock(AttentionBlock):
    kind = "cbam"


_BLOCKS = {None: BasicBlock, "none": BasicBlock, "se": SEBlock, "spatial": SpatialBlock, "cbam": CBAMBlock}


def attention_resnet(depth: int = 8, attention: str | None = "se", **kwargs) -> ResNet:
    """The course ResNet (``depth = 6n + 2``) with an attention module in every block: ``'se'``, ``'spatial'``,
    ``'cbam'``, or ``None`` for the plain ResNet control (same weights otherwise). ``kwargs`` go to ``ResNet``."""
    if attention not in _BLOCKS:
        raise ValueError(f"Unknown attention {attention!r}; choose 'se', 'spatial', 'cbam' or None")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 with n ≥ 1 (8, 14, 20, …), got {depth}")
    n = (depth - 2) // 6
    return ResNet(_BLOCKS[attention], (n, n, n), **kwargs)


def attention_maps(model: nn.Module) -> dict[str, torch.Tensor]:
    """The attention each module of ``model`` applied in its last forward pass, by module name: ``(N, C)`` channel
    weights (SE, CBAM's channel part) and ``(N, 1, H, W)`` spatial maps."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, (SqueezeExcitation, ChannelAttention, SpatialAttention)) and \
                module.last_attention is not None:
            out[name] = module.last_attention
    return out


__all__ = ["SqueezeExcitation", "ChannelAttention", "SpatialAttention", "CBAM", "AttentionBlock", "SEBlock",
           "SpatialBlock", "CBAMBlock", "attention_resnet", "attention_maps"]
