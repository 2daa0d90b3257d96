"""Pooling explorer: move a glyph by a pixel or two and watch how much its stroke features change, with and
without pooling. A thin view over ``ocrlab.strokes.stroke_features`` and ``ocrlab.strokes.shift_change``."""
from __future__ import annotations

import ipywidgets as W
import torch

from ..strokes import STROKE_BANK, shift_change, shift_images, stroke_features
from ..synth import FONTS, render_character
from ._display import Explorer
from ._png import figure_png, new_figure

POOLS = {"none": None, "2×2": 2, "4×4": 4, "global": "global"}


def pooling_panels_png(image: torch.Tensor, shifted: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
                       change: float) -> bytes:
    """Glyph, shifted glyph and their summed (pooled) stroke features side by side, as PNG."""
    fig = new_figure(9.0, 2.6)
    axes = fig.subplots(1, 4)
    hi = float(torch.maximum(a.sum(1).max(), b.sum(1).max())) or 1.0
    for ax, data, title, cmap, vmax in [(axes[0], image, "glyph", "gray", 255), (axes[1], shifted, "shifted", "gray", 255),
                                        (axes[2], a[0].sum(0), "features", "magma", hi),
                                        (axes[3], b[0].sum(0), f"features, shifted\nchange {change:.0%}", "magma", hi)]:
        ax.imshow(data.numpy(), cmap=cmap, vmin=0, vmax=vmax)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return figure_png(fig)


class PoolingExplorer(Explorer):
    """``PoolingExplorer()`` in a cell: controls ``text``, ``font``, ``dx``, ``dy``, ``pool``, ``op``; ``change``
    holds the last measured relative feature change and ``image`` the PNG."""

    def __init__(self, char: str = "A", font: str = "DejaVu Sans"):
        self.text = W.Text(value=char, description="Character", layout=W.Layout(width="160px"))
        self.font = W.Dropdown(options=list(FONTS), value=font, description="Font")
        self.dx = W.IntSlider(value=1, min=-3, max=3, description="shift x")
        self.dy = W.IntSlider(value=0, min=-3, max=3, description="shift y")
        self.pool = W.ToggleButtons(options=list(POOLS), value="none", description="Pooling")
        self.op = W.ToggleButtons(options=["max", "avg"], value="max", description="Op")
        self.image = W.Image(format="png")
        self.status = W.HTML()
        self.change: float | None = None
        for control in (self.text, self.font, self.dx, self.dy, self.pool, self.op):
            control.observe(lambda _change: self.update(), "value")
        self.ui = W.VBox([W.HBox([self.text, self.font]), W.HBox([self.dx, self.dy]), self.pool, self.op,
                          self.status, self.image])
        self.ui.add_class("ocrlab-pooling-explorer")
        self.update()

    def update(self) -> None:
        try:
            glyph = render_character(self.text.value[:1] or " ", self.font.value)
            shifted = shift_images(glyph, self.dx.value, self.dy.value)
            pool = POOLS[self.pool.value]
            a, b = stroke_features(glyph, pool, self.op.value), stroke_features(shifted, pool, self.op.value)
            self.change = shift_change(glyph[None], self.dx.value, self.dy.value, pool, self.op.value)
            self.image.value = pooling_panels_png(glyph, shifted, a, b, self.change)
            self.status.value = (f"{len(STROKE_BANK)} stroke maps of {a.shape[-2]}×{a.shape[-1]}; relative change "
                                 f"after a ({self.dx.value}, {self.dy.value}) px shift: <b>{self.change:.1%}</b>")
        except ValueError as err:
            self.status.value = f"<span style='color:#b00'>⚠ {err}</span>"
