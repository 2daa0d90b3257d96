"""Synthetic printed characters: the offline default dataset, rendered from the fonts matplotlib ships.

Each (font, character) glyph is rasterised once with FreeType (``matplotlib.ft2font``); the per-sample
variation (size, position, rotation, shear, stroke weight) is then a batched affine warp in torch, so a
60,000-image set renders in seconds and the same seed always gives identical tensors. Images follow MNIST's
format: ``uint8 (N, S, S)``, white ink (255) on black (0), int64 labels.
"""
from __future__ import annotations

import os
import string
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator, Sequence

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.ft2font import FT2Font

from .augment import random_affine_thetas

#: Bundled fonts by readable name → file in matplotlib's ``mpl-data/fonts/ttf``. No system fonts are used.
FONTS: dict[str, str] = {
    "DejaVu Sans": "DejaVuSans.ttf",
    "DejaVu Sans Bold": "DejaVuSans-Bold.ttf",
    "DejaVu Sans Oblique": "DejaVuSans-Oblique.ttf",
    "DejaVu Sans Bold Oblique": "DejaVuSans-BoldOblique.ttf",
    "DejaVu Serif": "DejaVuSerif.ttf",
    "DejaVu Serif Bold": "DejaVuSerif-Bold.ttf",
    "DejaVu Serif Italic": "DejaVuSerif-Italic.ttf",
    "DejaVu Serif Bold Italic": "DejaVuSerif-BoldItalic.ttf",
    "DejaVu Sans Mono": "DejaVuSansMono.ttf",
    "DejaVu Sans Mono Bold": "DejaVuSansMono-Bold.ttf",
    "DejaVu Sans Mono Oblique": "DejaVuSansMono-Oblique.ttf",
    "DejaVu Sans Mono Bold Oblique": "DejaVuSansMono-BoldOblique.ttf",
    "STIX": "STIXGeneral.ttf",
    "STIX Bold": "STIXGeneralBol.ttf",
    "STIX Italic": "STIXGeneralItalic.ttf",
    "STIX Bold Italic": "STIXGeneralBolIta.ttf",
    "Computer Modern Roman": "cmr10.ttf",
    "Computer Modern Bold": "cmb10.ttf",
    "Computer Modern Italic": "cmti10.ttf",
    "Computer Modern Sans": "cmss10.ttf",
    "Computer Modern Typewriter": "cmtt10.ttf",
}

#: The bundled fonts by family: every style (bold, italic, …) of one typeface design.
FAMILIES: dict[str, tuple[str, ...]] = {
    "DejaVu Sans": ("DejaVu Sans", "DejaVu Sans Bold", "DejaVu Sans Oblique", "DejaVu Sans Bold Oblique"),
    "DejaVu Serif": ("DejaVu Serif", "DejaVu Serif Bold", "DejaVu Serif Italic", "DejaVu Serif Bold Italic"),
    "DejaVu Sans Mono": ("DejaVu Sans Mono", "DejaVu Sans Mono Bold", "DejaVu Sans Mono Oblique",
                         "DejaVu Sans Mono Bold Oblique"),
    "STIX": ("STIX", "STIX Bold", "STIX Italic", "STIX Bold Italic"),
    "Computer Modern": ("Computer Modern Roman", "Computer Modern Bold", "Computer Modern Italic",
                        "Computer Modern Sans", "Computer Modern Typewriter"),
}

#: Held-out *styles*: one font from each family, never seen in training, while its siblings are. A test on them
#: measures generalisation to a new style of a known design, not to a new typeface (see ``family_split``).
TEST_FONTS: tuple[str, ...] = (
    "DejaVu Sans Bold Oblique",
    "DejaVu Serif Italic",
    "DejaVu Sans Mono Bold",
    "STIX Bold Italic",
    "Computer Modern Sans",
)
TRAIN_FONTS: tuple[str, ...] = tuple(name for name in FONTS if name not in TEST_FONTS)


def family_split(held_out: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(train_fonts, test_fonts)`` with every style of the family ``held_out`` in test and none in training:
    a test on typefaces never seen in any style."""
    if held_out not in FAMILIES:
        raise ValueError(f"Unknown font family {held_out!r}; choose one of {', '.join(FAMILIES)}.")
    test = FAMILIES[held_out]
    return tuple(f for f in FONTS if f not in test), test

DIGITS = string.digits
UPPERCASE = string.ascii_uppercase
LOWERCASE = string.ascii_lowercase
LETTERS = string.ascii_letters
PUNCTUATION = ".,;:!?'\"-()&$%#@/+*="
CHARSETS = {"digits": DIGITS, "letters": LETTERS, "uppercase": UPPERCASE, "lowercase": LOWERCASE,
            "alphanumeric": DIGITS + LETTERS, "printable": DIGITS + LETTERS + PUNCTUATION}

_EM = 0.8  # font size as a fraction of the canvas: leaves room for ascenders, descenders and wide glyphs
_CAP_CENTER = 0.36  # cap height is about 0.72 em, so centring it puts the baseline 0.36 em below the middle


@dataclass(frozen=True)
class Variation:
    """Ranges of the seeded random variation applied to each rendered glyph (all uniform)."""

    rotation: float = 8.0  #: ± degrees (tilted scans)
    scale: tuple[float, float] = (0.85, 1.15)  #: font-size factor
    shift: float = 0.08  #: ± fraction of the image size, in x and y
    shear: float = 0.15  #: ± horizontal shear (slanted print)
    stroke: tuple[int, ...] = (-1, 0, 0, 1, 2)  #: stroke weight change in high-resolution pixels (thin … bold)
    noise: float = 0.0  #: std of additive Gaussian noise, as a fraction of full ink

    @classmethod
    def none(cls) -> "Variation":
        """No variation: every glyph upright and centred, as designed."""
        return cls(rotation=0.0, scale=(1.0, 1.0), shift=0.0, shear=0.0, stroke=(0,), noise=0.0)


@dataclass
class SyntheticCharacters:
    """A rendered character set; unpacks like a dataset split: ``images, labels = make_characters(...)``."""

    images: torch.Tensor  #: uint8 (N, S, S)
    labels: torch.Tensor  #: int64 (N,), index into ``classes``
    font_index: torch.Tensor  #: int64 (N,), index into ``fonts``
    classes: tuple[str, ...]
    fonts: tuple[str, ...]
    seed: int = 0
    variation: Variation = field(default_factory=Variation)

    def __iter__(self) -> Iterator[torch.Tensor]:
        return iter((self.images, self.labels))

    def __len__(self) -> int:
        return len(self.labels)


def font_path(font: str) -> str:
    """The bundled TrueType file of a font name from ``FONTS`` (ValueError lists the names otherwise)."""
    if font not in FONTS:
        raise ValueError(f"Unknown font {font!r}. Bundled fonts: {', '.join(FONTS)}.")
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", FONTS[font])


@lru_cache(maxsize=64)
def _ft2font(font: str) -> FT2Font:
    return FT2Font(font_path(font))


def _rasterise(text: str, font: str, px: int) -> tuple[np.ndarray, int]:
    """Ink bitmap float32 [0, 1] of ``text`` at ``px`` pixels per em, and the row of its baseline."""
    ft = _ft2font(font)
    missing = [c for c in text if not c.isspace() and ft.get_char_index(ord(c)) == 0]
    if missing:
        raise ValueError(f"Font {font!r} has no glyph for {''.join(missing)!r}; choose another font or character.")
    ft.clear()
    ft.set_size(px, 72)  # at 72 dpi one point is one pixel
    ft.set_text(text, 0.0)
    ft.draw_glyphs_to_bitmap(antialiased=True)
    bitmap = np.asarray(ft.get_image(), dtype=np.float32) / 255.0
    baseline = bitmap.shape[0] - ft.get_descent() // 64
    return bitmap, baseline


@lru_cache(maxsize=8192)
def _glyph_canvas(char: str, font: str, canvas: int) -> torch.Tensor:
    """One glyph placed on a ``canvas``×``canvas`` float image: em box, baseline fixed, centred horizontally."""
    if len(char) != 1:
        raise ValueError(f"Expected one character, got {char!r} (use render_text for strings).")
    out = torch.zeros(canvas, canvas)
    if char.isspace():
        return out
    px = round(_EM * canvas)
    bitmap, baseline = _rasterise(char, font, px)
    h, w = bitmap.shape
    top = round(canvas / 2 + _CAP_CENTER * px) - baseline
    left = (canvas - w) // 2
    # Clip whatever would fall outside the canvas (very tall or wide glyphs in a few fonts).
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, canvas), min(left + w, canvas)
    out[y0:y1, x0:x1] = torch.from_numpy(bitmap[y0 - top:y1 - top, x0 - left:x1 - left].copy())
    return out


def _check_fonts(fonts: Sequence[str]) -> tuple[str, ...]:
    fonts = (fonts,) if isinstance(fonts, str) else tuple(fonts)
    if not fonts:
        raise ValueError("Give at least one font (see ocrlab.synth.FONTS).")
    for font in fonts:
        font_path(font)
    return fonts


def _stroke_weights(glyphs: torch.Tensor, weights: Sequence[int]) -> torch.Tensor:
    """Thicker (dilate, w > 0) or thinner (erode, w < 0) strokes via max-pooling: (W, G, 1, H, H)."""
    out = []
    for w in weights:
        g = glyphs
        for _ in range(abs(w)):
            g = F.max_pool2d(g, 3, 1, 1) if w > 0 else -F.max_pool2d(-g, 3, 1, 1)
        out.append(g)
    return torch.stack(out)


def make_characters(
    chars: str = DIGITS,
    fonts: Sequence[str] = TRAIN_FONTS,
    n_per_class: int = 1000,
    seed: int = 0,
    size: int = 28,
    variation: Variation | None = None,
) -> SyntheticCharacters:
    """Render ``n_per_class`` varied images of each character in ``chars``, fonts drawn at random from ``fonts``.

    Deterministic: the same arguments give identical tensors. Returns images ``uint8 (N, size, size)`` with
    ``N = len(chars) * n_per_class``, labels (index into ``chars``) and the font of each image.
    """
    if not chars or len(set(chars)) != len(chars):
        raise ValueError(f"chars must be a non-empty string of distinct characters, got {chars!r}")
    if n_per_class < 1 or size < 8:
        raise ValueError(f"n_per_class must be ≥ 1 and size ≥ 8, got n_per_class={n_per_class}, size={size}")
    fonts = _check_fonts(fonts)
    v = variation if variation is not None else Variation()
    hi = 2 * size  # render at twice the size, warp, then average-pool down: clean anti-aliasing
    glyphs = torch.stack([_glyph_canvas(c, f, hi) for f in fonts for c in chars])[:, None]  # (F*C, 1, hi, hi)
    weighted = _stroke_weights(glyphs, v.stroke)

    gen = torch.Generator().manual_seed(seed)
    n = len(chars) * n_per_class
    labels = torch.arange(len(chars)).repeat(n_per_class)[torch.randperm(n, generator=gen)]
    font_index = torch.randint(len(fonts), (n,), generator=gen)
    weight_index = torch.randint(len(v.stroke), (n,), generator=gen)
    thetas = random_affine_thetas(n, v.rotation, v.scale, v.shift, v.shear, gen)
    noise_seed = int(torch.randint(2**31 - 1, (1,), generator=gen))

    images = torch.empty(n, size, size, dtype=torch.uint8)
    noise_gen = torch.Generator().manual_seed(noise_seed)
    for start in range(0, n, 4096):
        sl = slice(start, min(start + 4096, n))
        src = weighted[weight_index[sl], font_index[sl] * len(chars) + labels[sl]]
        grid = F.affine_grid(thetas[sl], list(src.shape), align_corners=False)
        warped = F.avg_pool2d(F.grid_sample(src, grid, align_corners=False), 2)[:, 0]
        if v.noise > 0:
            warped = warped + v.noise * torch.randn(warped.shape, generator=noise_gen)
        images[sl] = (warped.clamp(0, 1) * 255).round().to(torch.uint8)
    return SyntheticCharacters(images, labels, font_index, tuple(chars), fonts, seed, v)


def render_character(char: str, font: str = "DejaVu Sans", size: int = 28) -> torch.Tensor:
    """One clean, centred glyph as ``uint8 (size, size)``, in the same layout as ``make_characters``."""
    _check_fonts([font])
    canvas = _glyph_canvas(char, font, 2 * size)[None, None]
    return (F.avg_pool2d(canvas, 2)[0, 0].clamp(0, 1) * 255).round().to(torch.uint8)


def render_text(text: str, font: str = "DejaVu Sans", height: int = 32, padding: int = 2) -> torch.Tensor:
    """A line of text as ``uint8 (height, W)``, white on black, baseline at a fixed height for every font."""
    _check_fonts([font])
    if not text:
        raise ValueError("text must not be empty")
    inner = height - 2 * padding
    px = round(_EM * inner)
    bitmap, baseline = _rasterise(text, font, px)
    h, w = bitmap.shape
    out = np.zeros((height, w + 2 * padding), dtype=np.float32)
    top = padding + round(inner / 2 + _CAP_CENTER * px) - baseline
    y0, y1 = max(top, 0), min(top + h, height)
    out[y0:y1, padding:padding + w] = bitmap[y0 - top:y1 - top]
    return torch.from_numpy((out * 255).round().astype(np.uint8))


def load_synthetic(
    split: str = "train",
    chars: str = DIGITS,
    n_per_class: int | None = None,
    seed: int = 0,
    size: int = 28,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A font-split synthetic set in MNIST's format: ``train`` uses ``TRAIN_FONTS``, ``test`` the held-out ``TEST_FONTS``.

    Default sizes mirror MNIST's 60,000/10,000 for digits (6,000 and 1,000 images per class).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if n_per_class is None:
        n_per_class = 6000 if split == "train" else 1000
    fonts = TRAIN_FONTS if split == "train" else TEST_FONTS
    data = make_characters(chars, fonts, n_per_class, seed=seed if split == "train" else seed + 1, size=size)
    return data.images, data.labels


__all__ = [
    "FONTS", "FAMILIES", "TRAIN_FONTS", "TEST_FONTS", "family_split", "DIGITS", "UPPERCASE", "LOWERCASE", "LETTERS", "PUNCTUATION", "CHARSETS",
    "Variation", "SyntheticCharacters", "font_path", "make_characters", "render_character", "render_text",
    "load_synthetic",
]


# ---------------------------------------------------------------------------------------------------------------
# Harder synthetic sets for notebooks 09–11: text at very different sizes, text over clutter, distorted glyphs.
# Each is one seeded, batched call; the same arguments always give identical tensors.
import math  # noqa: E402

#: cap height of an undistorted glyph as a fraction of the canvas (≈ 0.72 em, em = ``_EM`` × canvas)
CAP_FRACTION = 0.72 * _EM


@dataclass
class ScaledCharacters(SyntheticCharacters):
    """Characters at very different sizes: ``cap_height`` (float, pixels) of each image, for accuracy per size."""

    cap_height: torch.Tensor = field(default_factory=lambda: torch.empty(0))


@dataclass
class ClutteredCharacters(SyntheticCharacters):
    """Characters over cluttered backgrounds; ``clean`` holds the same glyphs on black (where the ink really is)."""

    clean: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.uint8))


@dataclass
class DistortedCharacters(SyntheticCharacters):
    """Rotated, sheared and elastically warped characters, with each image's ``angle`` (degrees) and ``shear``."""

    angle: torch.Tensor = field(default_factory=lambda: torch.empty(0))
    shear: torch.Tensor = field(default_factory=lambda: torch.empty(0))


def _sample_glyphs(chars: str, fonts: tuple[str, ...], n_per_class: int, hi: int, strokes: Sequence[int],
                   gen: torch.Generator):
    """Draw labels, fonts and stroke weights; return (labels, font_index, source glyphs (n, 1, hi, hi))."""
    if not chars or len(set(chars)) != len(chars):
        raise ValueError(f"chars must be a non-empty string of distinct characters, got {chars!r}")
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be ≥ 1, got {n_per_class}")
    glyphs = torch.stack([_glyph_canvas(c, f, hi) for f in fonts for c in chars])[:, None]
    weighted = _stroke_weights(glyphs, strokes)
    n = len(chars) * n_per_class
    labels = torch.arange(len(chars)).repeat(n_per_class)[torch.randperm(n, generator=gen)]
    font_index = torch.randint(len(fonts), (n,), generator=gen)
    weight_index = torch.randint(len(strokes), (n,), generator=gen)
    return labels, font_index, weighted[weight_index, font_index * len(chars) + labels]


def _warp_down(src: torch.Tensor, thetas: torch.Tensor, factor: int, displacement: torch.Tensor | None = None,
               chunk: int = 1024) -> torch.Tensor:
    """Warp high-resolution glyphs ``(n, 1, hi, hi)`` by ``thetas`` (+ an optional displacement field in normalised
    coordinates, ``(n, hi, hi, 2)``), then average-pool by ``factor``: float ``(n, hi/factor, hi/factor)`` in [0, 1]."""
    out = []
    for start in range(0, len(src), chunk):
        sl = slice(start, start + chunk)
        grid = F.affine_grid(thetas[sl], list(src[sl].shape), align_corners=False)
        if displacement is not None:
            grid = grid + displacement[sl]
        out.append(F.avg_pool2d(F.grid_sample(src[sl], grid, align_corners=False), factor)[:, 0])
    return torch.cat(out).clamp(0, 1)


def _to_uint8(images: torch.Tensor) -> torch.Tensor:
    return (images.clamp(0, 1) * 255).round().to(torch.uint8)


def make_multiscale_characters(
    chars: str = DIGITS,
    fonts: Sequence[str] = TRAIN_FONTS,
    n_per_class: int = 500,
    seed: int = 0,
    size: int = 32,
    cap_height: tuple[float, float] = (6.0, 28.0),
    rotation: float = 5.0,
    shear: float = 0.1,
) -> ScaledCharacters:
    """Characters whose cap height is drawn log-uniformly from ``cap_height`` pixels on a ``size``×``size`` canvas,
    each placed at a random position where it fits: small print and headlines in one data set.

    Returns ``ScaledCharacters``: images ``uint8 (N, size, size)``, labels, fonts and ``cap_height`` (pixels) per
    image. Rendered at 4× and average-pooled, so 6-pixel glyphs stay anti-aliased instead of aliased.
    """
    lo, hi_cap = cap_height
    if not 2 <= lo <= hi_cap or size < 8:
        raise ValueError(f"cap_height must be (min, max) with 2 ≤ min ≤ max and size ≥ 8, got {cap_height}, {size}")
    fonts = _check_fonts(fonts)
    gen = torch.Generator().manual_seed(seed)
    factor = 4
    labels, font_index, src = _sample_glyphs(chars, fonts, n_per_class, factor * size, (-2, 0, 0, 2, 4), gen)
    n = len(labels)
    caps = torch.exp(math.log(lo) + (math.log(hi_cap) - math.log(lo)) * torch.rand(n, generator=gen, dtype=torch.float64))
    s = caps / (CAP_FRACTION * size)  # scale factor of each glyph
    thetas = random_affine_thetas(n, rotation, (1.0, 1.0), 0.0, shear, gen).double()
    # Shift within the room the glyph leaves (cap box ≈ cap × 0.8 cap), in normalised coordinates.
    room_y = (1 - caps / size).clamp(min=0) * 0.9
    room_x = (1 - 0.8 * caps / size).clamp(min=0) * 0.9
    t = torch.stack([room_x * (2 * torch.rand(n, generator=gen, dtype=torch.float64) - 1),
                     room_y * (2 * torch.rand(n, generator=gen, dtype=torch.float64) - 1)], -1)
    a_inv = thetas[:, :, :2] / s[:, None, None]  # inverse of (s · A): A⁻¹ / s
    thetas = torch.cat([a_inv, -a_inv @ t[:, :, None]], 2).float()
    images = _to_uint8(_warp_down(src, thetas, factor))
    return ScaledCharacters(images, labels, font_index, tuple(chars), fonts, seed, Variation(), caps.float())


def _segments(n: int, k: int, size: int, gen: torch.Generator, width: tuple[float, float]) -> torch.Tensor:
    """``k`` random anti-aliased line segments per image, as float ``(n, size, size)`` in [0, 1] (max over segments)."""
    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32) + 0.5,
                            torch.arange(size, dtype=torch.float32) + 0.5, indexing="ij")
    p = torch.stack([xx, yy], -1)[None]  # (1, S, S, 2)
    out = torch.zeros(n, size, size)
    for _ in range(k):
        a = torch.rand(n, 2, generator=gen) * size
        length = size * (0.3 + 0.7 * torch.rand(n, generator=gen))
        angle = torch.rand(n, generator=gen) * math.pi
        b = a + length[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], -1)
        w = width[0] + (width[1] - width[0]) * torch.rand(n, generator=gen)
        ink = 0.5 + 0.5 * torch.rand(n, generator=gen)
        ab = (b - a)[:, None, None]
        u = (((p - a[:, None, None]) * ab).sum(-1) / (ab * ab).sum(-1).clamp(min=1e-6)).clamp(0, 1)
        dist = (p - a[:, None, None] - u[..., None] * ab).norm(dim=-1)
        out = torch.maximum(out, ink[:, None, None] * (w[:, None, None] / 2 + 0.5 - dist).clamp(0, 1))
    return out


def clutter_backgrounds(n: int, size: int, gen: torch.Generator, level: float = 1.0,
                        fragments: torch.Tensor | None = None) -> torch.Tensor:
    """Cluttered backgrounds float ``(n, size, size)`` in [0, 1]: a gradient, a smooth texture, random strokes and
    (when ``fragments`` images are given) pieces of other glyphs cut by the border, all scaled by ``level``."""
    ramp = torch.linspace(-1, 1, size)
    angle = torch.rand(n, generator=gen) * 2 * math.pi
    grad = (torch.cos(angle)[:, None, None] * ramp[None, None, :] + torch.sin(angle)[:, None, None] * ramp[None, :, None])
    background = 0.2 * level * torch.rand(n, 1, 1, generator=gen) * (grad + 1)
    coarse = torch.rand(n, 1, max(size // 6, 2), max(size // 6, 2), generator=gen)
    texture = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[:, 0].clamp(0, 1)
    background = background + 0.3 * level * texture
    k = max(1, round(3 * level))
    background = torch.maximum(background, level * _segments(n, k, size, gen, (1.0, 2.5)).clamp(0, 1) * 0.9)
    if fragments is not None and len(fragments):
        pick = torch.randint(len(fragments), (n,), generator=gen)
        frag = fragments[pick].float()[:, None] / 255
        # Shift each fragment so that only a part of it, cut by the border, stays on the canvas.
        side = torch.randint(4, (n,), generator=gen)
        off = 0.55 + 0.25 * torch.rand(n, generator=gen)  # fraction of the canvas the fragment is pushed out
        along = 0.6 * (2 * torch.rand(n, generator=gen) - 1)
        tx = torch.where(side < 2, torch.where(side == 0, off, -off), along) * 2
        ty = torch.where(side < 2, along, torch.where(side == 2, off, -off)) * 2
        eye = torch.eye(2).expand(n, 2, 2)
        thetas = torch.cat([eye, -torch.stack([tx, ty], -1)[:, :, None]], 2)
        grid = F.affine_grid(thetas, list(frag.shape), align_corners=False)
        moved = F.grid_sample(frag, grid, align_corners=False)[:, 0]
        background = torch.maximum(background, level * moved)
    return background.clamp(0, 1)


def make_cluttered_characters(
    chars: str = DIGITS,
    fonts: Sequence[str] = TRAIN_FONTS,
    n_per_class: int = 500,
    seed: int = 0,
    size: int = 32,
    clutter: float = 1.0,
    variation: Variation | None = None,
) -> ClutteredCharacters:
    """Characters over cluttered backgrounds (gradients, smooth textures, random ink strokes and fragments of other
    glyphs at the border): the page a scanner or a phone camera sees. ``clutter`` scales every component (0: clean).

    Returns ``ClutteredCharacters``: images ``uint8 (N, size, size)``, labels, fonts, and ``clean`` (the glyphs
    alone, for measuring where a model looks). The glyph is drawn over the clutter (ink = max).
    """
    if clutter < 0:
        raise ValueError(f"clutter must be ≥ 0, got {clutter}")
    v = variation if variation is not None else Variation(shift=0.1)
    glyphs = make_characters(chars, fonts, n_per_class, seed=seed, size=size, variation=v)
    gen = torch.Generator().manual_seed(seed + 7919)
    fragments = make_characters(LETTERS + DIGITS, fonts, max(1, len(glyphs) // 62 + 1), seed=seed + 1, size=size,
                                variation=v).images
    background = clutter_backgrounds(len(glyphs), size, gen, clutter, fragments if clutter > 0 else None)
    images = _to_uint8(torch.maximum(background, glyphs.images.float() / 255))
    return ClutteredCharacters(images, glyphs.labels, glyphs.font_index, glyphs.classes, glyphs.fonts, seed, v,
                               glyphs.images)


def elastic_displacement(n: int, size: int, alpha: float, sigma: float, gen: torch.Generator) -> torch.Tensor:
    """Smooth random displacement fields ``(n, size, size, 2)`` in normalised coordinates (Simard et al. 2003,
    "Best practices for CNNs applied to visual document analysis"): uniform noise, Gaussian-blurred (``sigma``
    pixels), scaled so a displacement of ``alpha`` is in pixels of the canvas."""
    field_ = torch.rand(n, 2, size, size, generator=gen) * 2 - 1
    if alpha == 0:
        return torch.zeros(n, size, size, 2)
    radius = max(1, int(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-x ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    blurred = F.conv2d(field_.reshape(-1, 1, size, size), kernel.view(1, 1, 1, -1), padding=(0, radius))
    blurred = F.conv2d(blurred, kernel.view(1, 1, -1, 1), padding=(radius, 0)).reshape(n, 2, size, size)
    blurred = blurred / blurred.abs().amax(dim=(2, 3), keepdim=True).clamp(min=1e-6)  # peak displacement = alpha
    return (alpha * 2 / size * blurred).permute(0, 2, 3, 1)


def make_distorted_characters(
    chars: str = DIGITS,
    fonts: Sequence[str] = TRAIN_FONTS,
    n_per_class: int = 500,
    seed: int = 0,
    size: int = 28,
    rotation: float | tuple[float, float] = 30.0,
    shear: float | tuple[float, float] = 0.4,
    elastic: float = 0.0,
    elastic_sigma: float = 4.0,
) -> DistortedCharacters:
    """Characters rotated by up to ± ``rotation`` degrees, sheared by up to ± ``shear`` and elastically warped
    (peak displacement ``elastic`` pixels, smoothness ``elastic_sigma``): tilted scans, slanted print, wavy paper.

    A pair ``(lo, hi)`` instead of a number draws the magnitude from [lo, hi] with a random sign: a test set of
    only strong distortions. Returns ``DistortedCharacters`` with the ``angle`` and ``shear`` of each image.
    """
    fonts = _check_fonts(fonts)
    gen = torch.Generator().manual_seed(seed)
    labels, font_index, src = _sample_glyphs(chars, fonts, n_per_class, 2 * size, (-1, 0, 0, 1, 2), gen)
    n = len(labels)

    def magnitude(spec) -> torch.Tensor:
        lo, hi = (0.0, float(spec)) if not isinstance(spec, (tuple, list)) else map(float, spec)
        if not 0 <= lo <= hi:
            raise ValueError(f"a distortion range must satisfy 0 ≤ lo ≤ hi, got {spec}")
        sign = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
        return sign * (lo + (hi - lo) * torch.rand(n, generator=gen))

    angle, slant = magnitude(rotation), magnitude(shear)
    thetas = affine_thetas(angle, slant, torch.empty(n).uniform_(0.9, 1.1, generator=gen))
    displacement = elastic_displacement(n, 2 * size, elastic, 2 * elastic_sigma, gen) if elastic > 0 else None
    # elastic is given in output pixels; the field lives on the 2× canvas, where the same normalised shift holds
    images = _to_uint8(_warp_down(src, thetas, 2, displacement))
    return DistortedCharacters(images, labels, font_index, tuple(chars), fonts, seed, Variation(), angle, slant)


def affine_thetas(angle: torch.Tensor, shear: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
    """Inverse affine maps ``(n, 2, 3)`` for ``F.affine_grid`` of a rotation by ``angle`` degrees after a horizontal
    ``shear`` (and a size factor), about the canvas centre: the deterministic twin of ``random_affine_thetas``."""
    angle = torch.as_tensor(angle, dtype=torch.float64).reshape(-1)
    shear = torch.as_tensor(shear, dtype=torch.float64).reshape(-1)
    scale = torch.ones_like(angle) if scale is None else torch.as_tensor(scale, dtype=torch.float64).reshape(-1)
    rad = torch.deg2rad(angle)
    cos, sin = torch.cos(rad), torch.sin(rad)
    a = torch.stack([torch.stack([cos, cos * shear - sin], -1), torch.stack([sin, sin * shear + cos], -1)], -2)
    inv = torch.linalg.inv(a * scale[:, None, None])
    return torch.cat([inv, torch.zeros(len(angle), 2, 1, dtype=torch.float64)], 2).float()


def render_distorted(char: str, font: str = "DejaVu Sans", size: int = 28, rotation: float = 0.0, shear: float = 0.0,
                     elastic: float = 0.0, seed: int = 0) -> torch.Tensor:
    """One glyph rotated by ``rotation`` degrees, sheared and elastically warped, as ``uint8 (size, size)``."""
    _check_fonts([font])
    src = _glyph_canvas(char, font, 2 * size)[None, None]
    gen = torch.Generator().manual_seed(seed)
    displacement = elastic_displacement(1, 2 * size, elastic, 8.0, gen) if elastic > 0 else None
    return _to_uint8(_warp_down(src, affine_thetas(rotation, shear), 2, displacement))[0]


def render_cluttered(char: str, font: str = "DejaVu Sans", size: int = 32, clutter: float = 1.0,
                     seed: int = 0) -> torch.Tensor:
    """One centred glyph over a cluttered background (``clutter_backgrounds``), as ``uint8 (size, size)``."""
    glyph = render_character(char, font, size).float() / 255
    gen = torch.Generator().manual_seed(seed)
    fragments = make_characters(LETTERS, TRAIN_FONTS, 1, seed=seed, size=size).images
    background = clutter_backgrounds(1, size, gen, clutter, fragments if clutter > 0 else None)[0]
    return _to_uint8(torch.maximum(background, glyph))


def render_multiscale_page(words: Sequence[str] = ("Invoice", "No. 4711", "total", "EUR 12.50", "page 2 of 3"),
                           fonts: Sequence[str] = ("DejaVu Sans", "DejaVu Serif Bold", "STIX Italic"),
                           heights: Sequence[int] = (34, 10, 14, 22, 8), size: tuple[int, int] = (96, 192),
                           seed: int = 0) -> torch.Tensor:
    """Short words at very different sizes on one canvas ``uint8 (H, W)``: the layout problem a feature pyramid
    addresses. Words are stacked top to bottom at random horizontal offsets (line heights ``heights``)."""
    gen = torch.Generator().manual_seed(seed)
    page = torch.zeros(size, dtype=torch.uint8)
    y = 0
    for i, (word, h) in enumerate(zip(words, heights)):
        line = render_text(word, fonts[i % len(fonts)], height=max(int(h), 6), padding=1)
        line = line[:, :size[1]]
        if y + line.shape[0] > size[0]:
            break
        x = int(torch.randint(0, max(1, size[1] - line.shape[1]), (1,), generator=gen))
        page[y:y + line.shape[0], x:x + line.shape[1]] = torch.maximum(page[y:y + line.shape[0], x:x + line.shape[1]],
                                                                        line)
        y += line.shape[0]
    return page


__all__ += ["CAP_FRACTION", "ScaledCharacters", "ClutteredCharacters", "DistortedCharacters",
            "make_multiscale_characters", "clutter_backgrounds", "make_cluttered_characters", "elastic_displacement",
            "make_distorted_characters", "affine_thetas", "render_distorted", "render_cluttered",
            "render_multiscale_page"]
