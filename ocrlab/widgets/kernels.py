"""Kernel explorer: edit a 3×3 or 5×5 kernel (or pick a preset) and see what it does to a glyph or a digit.

A thin view over ``ocrlab.strokes.filter_image`` and ``ocrlab.strokes.KERNEL_PRESETS``; ``KernelExplorer().result``
holds the last computed output so tests can check what the widget shows.
"""
from __future__ import annotations

import ipywidgets as W
import torch

from ..strokes import KERNEL_PRESETS, filter_image
from ..synth import FONTS, render_character
from ._display import Explorer
from ._png import figure_png, new_figure

CUSTOM = "custom"


def kernel_panels_png(image: torch.Tensor, kernel: torch.Tensor, output: torch.Tensor, shared_scale: bool) -> bytes:
    """Input, kernel and output side by side as PNG; ``shared_scale`` puts input and output on one colour scale."""
    fig = new_figure(9.0, 3.0)
    axes = fig.subplots(1, 3)
    x = image.float() / 255 if image.dtype == torch.uint8 else image.float()
    lo, hi = (min(float(x.min()), float(output.min())), max(float(x.max()), float(output.max()))) if shared_scale \
        else (None, None)
    k_abs = float(kernel.abs().max()) or 1.0
    panels = [(x, "input", "gray", lo, hi), (kernel, f"kernel {kernel.shape[0]}×{kernel.shape[1]}", "RdBu_r", -k_abs,
                                             k_abs), (output, "output (cross-correlation)", "magma", lo, hi)]
    for ax, (data, title, cmap, vmin, vmax) in zip(axes, panels):
        im = ax.imshow(data.detach().numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    for (i, j), v in ((ij, float(kernel[ij])) for ij in [(i, j) for i in range(kernel.shape[0])
                                                         for j in range(kernel.shape[1])]):
        axes[1].text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=8)
    return figure_png(fig)


class KernelExplorer(Explorer):
    """Interactive kernel explorer: ``KernelExplorer()`` in a cell shows it.

    Controls (attributes): ``source`` ('character' or 'digit'), ``text``, ``font``, ``digit``, ``preset``,
    ``kernel_size``, ``cells`` (the kernel entries), ``scale`` ('separate' or 'shared'). ``result`` is the last
    output tensor and ``image`` the PNG widget showing input, kernel and output.
    """

    def __init__(self, char: str = "A", font: str = "DejaVu Sans", preset: str = "sobel_x",
                 digits: torch.Tensor | None = None, source: str = "character"):
        self._digits = digits
        self._updating = False
        self.source = W.ToggleButtons(options=["character", "digit"], value=source, description="Source")
        self.text = W.Text(value=char, description="Character", layout=W.Layout(width="160px"))
        self.font = W.Dropdown(options=list(FONTS), value=font, description="Font")
        self.digit = W.IntSlider(value=0, min=0, max=max(0, len(digits) - 1) if digits is not None else 999,
                                 description="Digit #")
        self.preset = W.Dropdown(options=list(KERNEL_PRESETS) + [CUSTOM], value=preset, description="Preset")
        self.preset.add_class("ocrlab-kernel-preset")
        self.kernel_size = W.ToggleButtons(options=[3, 5], value=KERNEL_PRESETS[preset].shape[0],
                                           description="Kernel")
        self.scale = W.ToggleButtons(options=["separate", "shared"], value="separate", description="Colour scale")
        self.cells = [[W.FloatText(value=0.0, layout=W.Layout(width="64px")) for _ in range(5)] for _ in range(5)]
        self.grid = W.GridBox([c for row in self.cells for c in row],
                              layout=W.Layout(grid_template_columns="repeat(5, 70px)"))
        self.image = W.Image(format="png")
        self.image.add_class("ocrlab-kernel-output")
        self.status = W.HTML()
        self.result: torch.Tensor | None = None
        self.input_image: torch.Tensor | None = None

        self.preset.observe(self._on_preset, "value")
        self.kernel_size.observe(self._on_kernel_size, "value")
        for cell in (c for row in self.cells for c in row):
            cell.observe(self._on_cell, "value")
        for control in (self.source, self.text, self.font, self.digit, self.scale):
            control.observe(lambda _change: self.update(), "value")
        self._load_preset(preset)
        self.ui = W.VBox([
            W.HBox([self.source, self.text, self.font]), self.digit,
            W.HBox([self.preset, self.kernel_size, self.scale]), self.grid, self.status, self.image])
        self.ui.add_class("ocrlab-kernel-explorer")
        self.update()

    # ------------------------------------------------------------------ pure-ish pieces the callbacks use
    def kernel(self) -> torch.Tensor:
        """The kernel currently in the grid, ``(k, k)`` float32."""
        k = self.kernel_size.value
        return torch.tensor([[self.cells[i][j].value for j in range(k)] for i in range(k)], dtype=torch.float32)

    def current_image(self) -> torch.Tensor:
        """The chosen input as ``uint8 (28, 28)``: a rendered character or a digit from ``load_digits``."""
        if self.source.value == "digit":
            if self._digits is None:
                from ..data import load_digits
                self._digits = load_digits(split="test", verbose=False)[0]
                self.digit.max = len(self._digits) - 1
            return self._digits[min(self.digit.value, len(self._digits) - 1)]
        return render_character(self.text.value[:1] or " ", self.font.value)

    # ------------------------------------------------------------------ callbacks (tests call them via .value)
    def _load_preset(self, name: str) -> None:
        kernel = KERNEL_PRESETS[name]
        self._updating = True
        try:
            self.kernel_size.value = kernel.shape[0]
            for i in range(5):
                for j in range(5):
                    cell = self.cells[i][j]
                    cell.value = round(float(kernel[i, j]), 4) if i < kernel.shape[0] and j < kernel.shape[1] else 0.0
                    cell.layout.visibility = "visible" if i < kernel.shape[0] and j < kernel.shape[1] else "hidden"
        finally:
            self._updating = False

    def _on_preset(self, change) -> None:
        if change["new"] != CUSTOM:
            self._load_preset(change["new"])
            self.update()

    def _on_kernel_size(self, change) -> None:
        if self._updating:
            return
        k = change["new"]
        for i in range(5):
            for j in range(5):
                self.cells[i][j].layout.visibility = "visible" if i < k and j < k else "hidden"
        self._mark_custom()
        self.update()

    def _on_cell(self, _change) -> None:
        if not self._updating:
            self._mark_custom()
            self.update()

    def _mark_custom(self) -> None:
        if self.preset.value != CUSTOM:
            self._updating = True
            try:
                self.preset.value = CUSTOM
            finally:
                self._updating = False

    def update(self) -> None:
        """Recompute the output and redraw; any error is shown in ``status``, never swallowed."""
        if self._updating:
            return
        try:
            self.text.layout.display = "none" if self.source.value == "digit" else None
            self.font.layout.display = "none" if self.source.value == "digit" else None
            self.digit.layout.display = None if self.source.value == "digit" else "none"
            image, kernel = self.current_image(), self.kernel()
            self.input_image = image
            self.result = filter_image(image, kernel)
            self.image.value = kernel_panels_png(image, kernel, self.result, self.scale.value == "shared")
            self.status.value = (f"output range [{float(self.result.min()):.2f}, {float(self.result.max()):.2f}], "
                                 f"'same' padding keeps {tuple(image.shape)}")
        except ValueError as err:  # e.g. a character the font lacks: say so in the widget
            self.status.value = f"<span style='color:#b00'>⚠ {err}</span>"
