"""Layers written from scratch for the lessons, each equal to its PyTorch twin.

``Dropout`` is ``nn.Dropout`` (Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from
Overfitting", JMLR 2014, in its "inverted" form) and ``BatchNorm2d`` is ``nn.BatchNorm2d`` (Ioffe & Szegedy,
"Batch Normalization", ICML 2015), with the same parameter and buffer names so that state dicts load both ways.
Both are plain tensor code: autograd differentiates them.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn as nn


class Dropout(nn.Module):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the rest by 1/(1−p).

    The scaling keeps the expectation of every output equal to its input, so evaluation (``model.eval()``)
    is simply the identity. Random draws come from torch's global generator (``torch.manual_seed``).
    Unlike ``nn.Dropout``, ``p = 1`` is refused: nothing would survive and 1/(1−p) is undefined.
    Any shape in, the same shape out.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
            raise ValueError(f"dropout probability p must be a number in [0, 1), got {p!r}: p is the fraction of "
                             "elements set to zero in training (0.5 is the classic choice, 0 turns dropout off)")
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p)  # 1 with probability 1 − p
        return x * keep.div_(1 - self.p)  # the survivors scaled by 1/(1−p), as PyTorch does

    def extra_repr(self) -> str:
        return f"p={self.p}"


class BatchNorm2d(nn.Module):
    """Batch normalisation over N, H, W of each channel, then a learned scale γ (``weight``) and shift β (``bias``).

    Training: ``y = (x − mean) / sqrt(var + eps) · γ + β`` with the batch's mean and *biased* variance, and the
    running statistics updated as ``running ← (1 − momentum)·running + momentum·batch`` where ``running_var``
    takes the *unbiased* variance (× n/(n−1), n = N·H·W), as in PyTorch. Evaluation uses the running statistics.
    Buffers ``running_mean``, ``running_var``, ``num_batches_tracked`` are named as in ``nn.BatchNorm2d``.
    x ``(N, C, H, W)`` → ``(N, C, H, W)``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"num_features must be a positive int (the number of channels C), got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive (it keeps the division finite), got {eps!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1] (the weight of the new batch in the running "
                             f"statistics), got {momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, float(eps), float(momentum)
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != self.num_features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"BatchNorm2d({self.num_features}) expects input (N, {self.num_features}, H, W) with "
                             f"{self.num_features} channels, got {shape}; build it with num_features equal to the "
                             "previous layer's output channels")
        if self.training:
            n = x.shape[0] * x.shape[2] * x.shape[3]
            if n < 2:
                raise ValueError(f"BatchNorm2d in training needs more than one value per channel (N·H·W > 1), got "
                                 f"input {tuple(x.shape)}: use a larger batch, or call .eval() first")
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)  # biased: what normalises this batch
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))  # unbiased: an estimate for the data
                self.num_batches_tracked.add_(1)
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + self.eps)
        return x_hat * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


__all__ = ["Dropout", "BatchNorm2d"]
