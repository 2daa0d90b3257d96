"""Deformable explorer: type a character, pick a font, rotate, shear and warp it, and see where a trained model's
deformable convolution samples (learned positions vs the regular grid). A thin view over
``ocrlab.blockviz.sampling_on`` and ``draw_sampling``."""
from __future__ import annotations

import ipywidgets as W
import torch
import torch.nn as nn

from ..blockviz import draw_sampling, sampling_on
from ..inputs import input_normalization, preprocess
from ..synth import FONTS, render_distorted
from ._png import figure_png, new_figure
from ._display import Explorer


def deformable_panel_png(model: nn.Module, char: str, font: str, rotation: float, shear: float, elastic: float,
                         size: int = 28, classes: str | None = None) -> tuple[bytes, str, float]:
    """Distort the glyph, run ``model``; return the PNG of the sampling positions, a prediction line and the mean
    offset length (input pixels of the deformable layer)."""
    image = render_distorted(char, font, size, rotation, shear, elastic)
    positions, regular, stride = sampling_on(model, image)
    shift = float((positions - regular).norm(dim=-1).mean())
    with torch.no_grad():
        was = model.training
        model.eval()
        probs = torch.softmax(model(preprocess(image[None], input_normalization(model))), 1)[0]
        model.train(was)
    top = int(probs.argmax())
    fig = new_figure(3.2, 3.4)
    draw_sampling(fig.subplots(1, 1), image, positions, regular, stride,
                  title=f"rotation {rotation:+.0f}°, shear {shear:+.2f}")
    label = classes[top] if classes else str(top)
    return figure_png(fig), f"prediction <b>{label}</b> ({float(probs[top]):.0%}); mean offset {shift:.2f} cells", shift


class DeformableExplorer(Explorer):
    """``DeformableExplorer(model, classes)`` in a cell: controls ``text``, ``font``, ``rotation``, ``shear``,
    ``elastic``; ``image`` holds the PNG, ``status`` the prediction and ``shift`` the mean offset length."""

    def __init__(self, model: nn.Module, classes: str | None = None, char: str = "4", font: str = "DejaVu Serif Italic",
                 size: int = 28):
        self.model, self.classes, self.size = model, classes, size
        self.text = W.Text(value=char, description="Character", layout=W.Layout(width="160px"))
        self.font = W.Dropdown(options=list(FONTS), value=font, description="Font")
        self.rotation = W.FloatSlider(value=25.0, min=-45.0, max=45.0, step=5.0, description="rotation °")
        self.shear = W.FloatSlider(value=0.0, min=-0.6, max=0.6, step=0.1, description="shear")
        self.elastic = W.FloatSlider(value=0.0, min=0.0, max=3.0, step=0.5, description="elastic px")
        self.image = W.Image(format="png")
        self.status = W.HTML()
        self.shift: float | None = None
        for control in (self.text, self.font, self.rotation, self.shear, self.elastic):
            control.observe(lambda _change: self.update(), "value")
        self.ui = W.VBox([W.HBox([self.text, self.font]), W.HBox([self.rotation, self.shear]), self.elastic,
                          self.status, self.image])
        self.ui.add_class("ocrlab-deformable-explorer")
        self.update()

    def update(self) -> None:
        try:
            png, line, self.shift = deformable_panel_png(self.model, self.text.value[:1] or " ", self.font.value,
                                                         self.rotation.value, self.shear.value, self.elastic.value,
                                                         self.size, self.classes)
            self.image.value, self.status.value = png, line
        except ValueError as err:
            self.status.value = f"<span style='color:#b00'>⚠ {err}</span>"
