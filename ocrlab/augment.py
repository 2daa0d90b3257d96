"""Batched data augmentation on the device: one random affine warp per image, no per-sample Python, no PIL.

Used by ``ocrlab.train.fit(augment=...)`` on normalised float batches ``(B, C, H, W)``, and by
``ocrlab.synth`` to vary rendered glyphs.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def random_affine_thetas(
    n: int,
    rotation: float = 0.0,
    scale: tuple[float, float] = (1.0, 1.0),
    shift: float = 0.0,
    shear: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random inverse affine maps ``(n, 2, 3)`` for ``F.affine_grid`` (output → input, normalised coordinates).

    ``rotation`` in ± degrees, ``scale`` a (min, max) size factor, ``shift`` ± fraction of the image size,
    ``shear`` ± horizontal shear. Drawn on the CPU from ``generator``, so results do not depend on the device.
    """
    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)

    angle = torch.deg2rad(uniform(-rotation, rotation))
    size = uniform(*scale)
    slant = uniform(-shear, shear)
    tx, ty = uniform(-shift, shift) * 2, uniform(-shift, shift) * 2  # normalised coordinates span [-1, 1]
    cos, sin = torch.cos(angle), torch.sin(angle)
    # Forward map A = R(angle) · Shear · size about the image centre; affine_grid wants its inverse.
    a = torch.stack([torch.stack([cos, cos * slant - sin], -1), torch.stack([sin, sin * slant + cos], -1)], -2)
    inv = torch.linalg.inv(a * size[:, None, None])
    t = torch.stack([tx, ty], -1)[:, :, None]
    return torch.cat([inv, -inv @ t], dim=2).float()


def background(images: torch.Tensor) -> torch.Tensor:
    """Each image's background value ``(B, 1, 1, 1)``: the median of its border pixels, whatever the polarity
    (ink-free borders are background in glyph and line images) and whatever normalisation was applied."""
    b = len(images)
    border = torch.cat([images[..., 0, :].reshape(b, -1), images[..., -1, :].reshape(b, -1),
                        images[..., :, 0].reshape(b, -1), images[..., :, -1].reshape(b, -1)], dim=1)
    return border.median(dim=1).values.reshape(b, 1, 1, 1)


def warp(images: torch.Tensor, thetas: torch.Tensor, fill: float | torch.Tensor | str = "background") -> torch.Tensor:
    """Apply per-image affine maps to a float batch ``(B, C, H, W)``; uncovered pixels get ``fill``: a value, a
    per-image tensor ``(B, 1, 1, 1)``, or ``"background"`` (each image's own background, see ``background``)."""
    if isinstance(fill, str):
        if fill != "background":
            raise ValueError(f"fill must be a number, a tensor or 'background', got {fill!r}")
        fill = background(images)
    grid = F.affine_grid(thetas.to(images.device, images.dtype), list(images.shape), align_corners=False)
    out = F.grid_sample(images - fill, grid, align_corners=False, padding_mode="zeros")
    return out + fill


@dataclass
class RandomAffine:
    """Random rotation, zoom, shift and shear of each image in a batch, on whatever device the batch is on.

    ``fill`` paints the pixels the warp uncovers: by default each image's own background (``background``), which
    is right for normalised batches, where blank paper is not 0; or a fixed value.
    """

    rotation: float = 10.0
    scale: tuple[float, float] = (0.9, 1.1)
    shift: float = 0.08
    shear: float = 0.1
    fill: float | str = "background"

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        thetas = random_affine_thetas(len(images), self.rotation, self.scale, self.shift, self.shear, generator)
        return warp(images, thetas, self.fill)
