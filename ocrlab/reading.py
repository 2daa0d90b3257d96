"""Read a line of separate characters (a postal code, a cheque amount): cut it into characters, classify each.

The oldest segmentation trick of document OCR: sum the ink in each column (the column projection); blank columns
separate characters. It works for printed digits and separated handwriting; touching characters need more (a
sliding window or a sequence model, later in the course).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .train import predict


def column_profile(line: torch.Tensor) -> torch.Tensor:
    """Ink per column of a line image ``(H, W)`` (white ink on black): ``float32 (W,)``."""
    if line.dim() != 2:
        raise ValueError(f"line must be one image (H, W), got shape {tuple(line.shape)}")
    return line.float().sum(0)


def segment_columns(line: torch.Tensor, threshold: float = 0.0, min_width: int = 2) -> list[tuple[int, int]]:
    """Split a line ``(H, W)`` at blank columns: ``[(start, end), …]`` column ranges (end exclusive) of each character.

    A column is ink when its profile exceeds ``threshold``; runs narrower than ``min_width`` columns (specks) are
    dropped.
    """
    ink = (column_profile(line) > threshold).tolist()
    segments, start = [], None
    for x, on in enumerate(ink + [False]):
        if on and start is None:
            start = x
        elif not on and start is not None:
            if x - start >= min_width:
                segments.append((start, x))
            start = None
    return segments


def character_cell(line: torch.Tensor, segment: tuple[int, int], size: int = 28, style: str = "line") -> torch.Tensor:
    """One segment as a ``uint8 (size, size)`` image in the layout a classifier was trained on.

    ``style="line"``: keep the line's full height (baseline and size as in ``synth.render_character`` when the line
    was rendered with ``synth.render_text(height=size, padding=0)``), centre horizontally. ``style="mnist"``: crop
    to the ink, fit it in a 20×20 box and centre it in 28×28, as MNIST's digits were prepared.
    """
    if style not in ("line", "mnist"):
        raise ValueError(f"style must be 'line' or 'mnist', got {style!r}")
    crop = line[:, segment[0]:segment[1]].float()
    if style == "mnist":
        rows = (crop.sum(1) > 0).nonzero().flatten()
        if len(rows):
            crop = crop[int(rows[0]):int(rows[-1]) + 1]
        box = round(size * 20 / 28)
    else:
        box = size
    h, w = crop.shape
    scale = min(box / h, box / w) if style == "mnist" else size / h
    nh, nw = max(1, round(h * scale)), max(1, min(size, round(w * scale)))
    resized = F.interpolate(crop[None, None], size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)[0, 0]
    out = torch.zeros(size, size)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top:top + nh, left:left + nw] = resized
    return out.clamp(0, 255).round().to(torch.uint8)


@dataclass
class Reading:
    """What ``read_line`` found: the text, each character's image, probability and column range."""

    text: str
    cells: torch.Tensor  #: ``uint8 (N, size, size)``
    confidence: torch.Tensor  #: probability of each chosen character ``(N,)``
    segments: list[tuple[int, int]]


def read_line(model: nn.Module, line: torch.Tensor, classes: Sequence[str], size: int = 28,
              style: str = "line", threshold: float = 0.0) -> Reading:
    """Segment ``line`` with ``segment_columns``, classify each cell with ``model``, return the text and confidences."""
    segments = segment_columns(line, threshold)
    if not segments:
        raise ValueError("No ink found in the line: is it white ink on black (like MNIST)? Try 255 - line.")
    cells = torch.stack([character_cell(line, s, size, style) for s in segments])
    probs = predict(model, cells)
    best = probs.max(1)
    return Reading("".join(str(classes[int(i)]) for i in best.indices), cells, best.values, segments)


def join_characters(images: torch.Tensor, gap: int = 4) -> torch.Tensor:
    """Glue character images ``(N, H, W)`` into one line, cropping their blank side columns and leaving ``gap``."""
    parts = []
    for image in images:
        cols = (image.float().sum(0) > 0).nonzero().flatten()
        if len(cols):
            image = image[:, int(cols[0]):int(cols[-1]) + 1]
        parts += [image, torch.zeros(image.shape[0], gap, dtype=image.dtype)]
    return torch.cat([torch.zeros(images.shape[1], gap, dtype=images.dtype)] + parts, 1)


__all__ = ["column_profile", "segment_columns", "character_cell", "Reading", "read_line", "join_characters"]
