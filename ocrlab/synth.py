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
