"""Hand-made kernels and what they see: stroke detectors on glyphs, and how pooling absorbs small shifts.

Notebook 01 filters glyphs with ``KERNEL_PRESETS``; notebook 03 uses four stroke detectors as a fixed first
layer and measures how much their (pooled) responses change when a glyph moves by a pixel or two.
"""
from __future__ import annotations

import torch

from .conv import avg_pool2d, conv2d, max_pool2d


def _t(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


#: Hand-made kernels for the kernel explorer and notebook 01. Stroke detectors respond to a bright line
#: (white ink) of the given orientation on a dark background: positive along the line, negative beside it.
KERNEL_PRESETS: dict[str, torch.Tensor] = {
    "identity": _t([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_blur": torch.full((3, 3), 1 / 9),
    "gaussian_blur": _t([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "sharpen": _t([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "laplacian": _t([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "sobel_x": _t([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _t([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "horizontal_stroke": _t([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]]) / 3,
    "vertical_stroke": _t([[-1, 2, -1], [-1, 2, -1], [-1, 2, -1]]) / 3,
    "diagonal_stroke": _t([[-1, -1, 2], [-1, 2, -1], [2, -1, -1]]) / 3,  # '/' (rising to the right)
    "antidiagonal_stroke": _t([[2, -1, -1], [-1, 2, -1], [-1, -1, 2]]) / 3,  # '\'
    "box_blur_5": torch.full((5, 5), 1 / 25),
    "gaussian_blur_5": _t([[1, 4, 6, 4, 1]]).T @ _t([[1, 4, 6, 4, 1]]) / 256,
    "horizontal_stroke_5": _t([[-1] * 5, [-1] * 5, [4] * 5, [-1] * 5, [-1] * 5]) / 10,
    "vertical_stroke_5": _t([[-1] * 5, [-1] * 5, [4] * 5, [-1] * 5, [-1] * 5]).T / 10,
}


def filter_image(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Cross-correlate one image with one kernel, keeping its size ('same' zero padding): what a conv layer sees.

    ``image`` ``(H, W)`` of any dtype (uint8 is scaled to [0, 1]), ``kernel`` ``(k, k)`` → float32 ``(H, W)``.
    """
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"image and kernel must be 2-D, got shapes {tuple(image.shape)} and {tuple(kernel.shape)}")
    x = image.float() / 255.0 if image.dtype == torch.uint8 else image.float()
    return conv2d(x[None, None], kernel.float()[None, None], padding="same")[0, 0]


# ------------------------------------------------------------------------------ pooling and small shifts
#: The four stroke detectors notebook 03 uses as a fixed first layer: | − / \\
STROKE_BANK = ("vertical_stroke", "horizontal_stroke", "diagonal_stroke", "antidiagonal_stroke")


def shift_images(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Move ``images (..., H, W)`` right by ``dx`` and down by ``dy`` pixels (negative: left/up), filling with 0."""
    h, w = images.shape[-2:]
    if abs(dx) >= w or abs(dy) >= h:
        raise ValueError(f"shift ({dx}, {dy}) moves the whole {h}×{w} image out of view")
    out = torch.zeros_like(images)
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def stroke_features(images: torch.Tensor, pool: int | str | None = None, op: str = "max") -> torch.Tensor:
    """Stroke-detector responses (ReLU) of glyphs, optionally pooled: ``(N, H, W)`` uint8 → ``(N, 4, h, w)``.

    ``pool``: None/1 (no pooling), k (k×k pooling with stride k) or ``'global'`` (one value per map).
    """
    if op not in ("max", "avg"):
        raise ValueError(f"op must be 'max' or 'avg', got {op!r}")
    x = images.float() / 255 if images.dtype == torch.uint8 else images.float()
    x = x.reshape(-1, 1, *x.shape[-2:])
    bank = torch.stack([KERNEL_PRESETS[name] for name in STROKE_BANK])[:, None]
    features = conv2d(x, bank, padding=1).clamp_(min=0)  # ReLU
    if pool in (None, 1):
        return features
    if pool == "global":
        return features.amax(dim=(-2, -1), keepdim=True) if op == "max" else features.mean(dim=(-2, -1), keepdim=True)
    return max_pool2d(features, pool) if op == "max" else avg_pool2d(features, pool)


def shift_change(images: torch.Tensor, dx: int, dy: int, pool: int | str | None = None, op: str = "max") -> float:
    """Mean relative change ‖f(x) − f(shift(x))‖ / ‖f(x)‖ of ``stroke_features`` when glyphs move by (dx, dy)."""
    a = stroke_features(images, pool, op).flatten(1)
    b = stroke_features(shift_images(images, dx, dy), pool, op).flatten(1)
    return float(((a - b).norm(dim=1) / a.norm(dim=1).clamp(min=1e-8)).mean())


__all__ = ["KERNEL_PRESETS", "filter_image", "STROKE_BANK", "shift_images", "stroke_features", "shift_change"]
