"""Activation explorer: an activation function and its derivative, with the Leaky ReLU slope as a slider.
A thin view over ``ocrlab.activations.activation_curve``."""
from __future__ import annotations

import ipywidgets as W
import torch

from ..activations import ACTIVATIONS, activation_curve
from ._display import Explorer
from ._png import figure_png, new_figure


class ActivationExplorer(Explorer):
    """``ActivationExplorer()`` in a cell: controls ``activation`` and ``slope``; ``curve`` holds (f(x), f'(x))."""

    def __init__(self, activation: str = "sigmoid"):
        self.activation = W.Dropdown(options=list(ACTIVATIONS), value=activation, description="Activation")
        self.slope = W.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.01, description="leaky slope")
        self.image = W.Image(format="png")
        self.status = W.HTML()
        self.x = torch.linspace(-6, 6, 601)
        self.curve: tuple[torch.Tensor, torch.Tensor] | None = None
        for control in (self.activation, self.slope):
            control.observe(lambda _change: self.update(), "value")
        self.ui = W.VBox([W.HBox([self.activation, self.slope]), self.status, self.image])
        self.ui.add_class("ocrlab-activation-explorer")
        self.update()

    def update(self) -> None:
        y, dy = activation_curve(self.activation.value, self.x, self.slope.value)
        self.curve = (y, dy)
        fig = new_figure(7.5, 3.0)
        ax1, ax2 = fig.subplots(1, 2)
        ax1.plot(self.x, y)
        ax1.set_title(f"{self.activation.value}(x)")
        ax2.plot(self.x, dy, color="tab:orange")
        ax2.set_title("derivative")
        for ax in (ax1, ax2):
            ax.axhline(0, color="gray", linewidth=0.5)
            ax.axvline(0, color="gray", linewidth=0.5)
        self.image.value = figure_png(fig)
        self.status.value = (f"max derivative {float(dy.max()):.3g}; after 10 layers at best "
                             f"{float(dy.max()) ** 10:.3g}× the gradient (ignoring weights)")
