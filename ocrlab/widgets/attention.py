"""Attention explorer: type a character, pick a font and a clutter level, and see where a trained attention model
looks (spatial maps over the input) and which channels it keeps (bars). A thin view over
``ocrlab.blockviz.attention_on`` and ``draw_attention``."""
from __future__ import annotations

import ipywidgets as W
import torch.nn as nn

from ..blockviz import attention_on, draw_attention
from ..synth import FONTS, render_cluttered
from ._png import figure_png, new_figure
from ._display import Explorer


def attention_panels_png(model: nn.Module, char: str, font: str, clutter: float, seed: int, size: int = 32,
                         classes: str | None = None) -> tuple[bytes, str]:
    """Render the glyph over clutter, run ``model``; return the PNG of its attention and a one-line prediction."""
    image = render_cluttered(char, font, size, clutter, seed)
    probs, maps = attention_on(model, image[None])
    top = int(probs[0].argmax())
    label = classes[top] if classes else str(top)
    fig = new_figure(2.0 * (1 + len(maps)), 2.3)
    draw_attention(fig.subplots(1, 1 + len(maps)), image, maps, title=f"input: '{char}'")
    return figure_png(fig), f"prediction <b>{label}</b> ({float(probs[0, top]):.0%})"


class AttentionExplorer(Explorer):
    """``AttentionExplorer(model, classes)`` in a cell: controls ``text``, ``font``, ``clutter``, ``seed``;
    ``image`` holds the PNG and ``status`` the prediction."""

    def __init__(self, model: nn.Module, classes: str | None = None, char: str = "7", font: str = "DejaVu Serif Italic",
                 size: int = 32):
        self.model, self.classes, self.size = model, classes, size
        self.text = W.Text(value=char, description="Character", layout=W.Layout(width="160px"))
        self.font = W.Dropdown(options=list(FONTS), value=font, description="Font")
        self.clutter = W.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.25, description="clutter")
        self.seed = W.IntSlider(value=0, min=0, max=20, description="background")
        self.image = W.Image(format="png")
        self.status = W.HTML()
        for control in (self.text, self.font, self.clutter, self.seed):
            control.observe(lambda _change: self.update(), "value")
        self.ui = W.VBox([W.HBox([self.text, self.font]), W.HBox([self.clutter, self.seed]), self.status, self.image])
        self.ui.add_class("ocrlab-attention-explorer")
        self.update()

    def update(self) -> None:
        try:
            png, line = attention_panels_png(self.model, self.text.value[:1] or " ", self.font.value,
                                             self.clutter.value, self.seed.value, self.size, self.classes)
            self.image.value, self.status.value = png, line
        except ValueError as err:
            self.status.value = f"<span style='color:#b00'>⚠ {err}</span>"
