"""Model inputs: validate image batches, normalise them, and remember how a model wants its inputs.

Training, evaluation, plots, the feature-map explorer and the reader all turn images into the normalised float
batch a model expects; this small module is that one step, so none of them has to import the trainer.
Images are ``uint8 (N, H, W)`` / ``(N, C, H, W)`` (scaled by 1/255) or float in [0, 1].
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

Data = tuple[torch.Tensor, torch.Tensor]  #: (images, labels)


def as_image_batch(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    """Validate images and give them a channel axis: ``(N, H, W)`` → ``(N, 1, H, W)``; ``(N, C, H, W)`` kept."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() == 3:
        images = images[:, None]
    if images.dim() != 4:
        raise ValueError(f"{name} must have shape (N, H, W) or (N, C, H, W); got {tuple(images.shape)}")
    if len(images) == 0:
        raise ValueError(f"{name} is empty")
    return images


def check_labelled(data: Data, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate ``(images, labels)``: images batched with a channel axis, labels int64 class indices ≥ 0."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name} must be a pair (images, labels), got {type(data).__name__}")
    images, labels = as_image_batch(data[0], f"{name} images"), data[1]
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1:
        raise ValueError(f"{name} labels must be a 1-D tensor; got {getattr(labels, 'shape', type(labels))}")
    if len(labels) != len(images):
        raise ValueError(f"{name}: {len(images)} images but {len(labels)} labels; they must match one to one")
    if labels.dtype.is_floating_point:
        raise ValueError(f"{name} labels must be integer class indices, got dtype {labels.dtype}")
    if labels.min() < 0:
        raise ValueError(f"{name} labels must be ≥ 0, found {int(labels.min())}")
    return images, labels.long()


def normalization_stats(images: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of images scaled to [0, 1] (uint8 images are divided by 255)."""
    x = as_image_batch(images)
    scale = 255.0 if x.dtype == torch.uint8 else 1.0
    total, total_sq, count = 0.0, 0.0, 0
    for chunk in x.split(8192):
        c = chunk.double() / scale
        total, total_sq, count = total + c.sum().item(), total_sq + (c * c).sum().item(), count + c.numel()
    mean = total / count
    return mean, math.sqrt(max(total_sq / count - mean * mean, 1e-12))


def preprocess(images: torch.Tensor, normalization: tuple[float, float], channels_last: bool = False) -> torch.Tensor:
    """uint8 or float images → normalised float32 batch ``(N, C, H, W)`` on the images' device."""
    x = as_image_batch(images)
    mean, std = normalization
    if x.dtype == torch.uint8:
        x = x.float().div_(255.0).sub_(mean).div_(std)  # a fresh float tensor: safe to work in place
    else:
        x = (x.float() - mean) / std  # never modify the caller's float images
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def input_normalization(model: nn.Module) -> tuple[float, float]:
    """The (mean, std) a model was trained with by ``fit``; (0, 1) with a warning for other models."""
    norm = getattr(model, "input_normalization", None)
    if norm is None:
        print("Note: this model was not trained with ocrlab.train.fit, so inputs are only scaled to [0, 1]; "
              "pass normalization=(mean, std) if it expects something else.")
        return (0.0, 1.0)
    return tuple(norm)
