"""Feature-map explorer: pick an input (a dataset image or any typed character) and a layer, see every channel.

A thin view over ``ocrlab.features`` (after CNN Explainer, Wang et al. 2020). The forward pass runs only when the
input changes; changing the layer or the colour scale only redraws. ``FeatureMapExplorer(...).result`` holds the
last ``FeatureMaps`` and ``.limits`` the colour limits in use, so tests can check what is shown.
"""
from __future__ import annotations

from typing import Sequence

import html
import io

import ipywidgets as W
import matplotlib
import numpy as np
import torch

from ..features import SCALE_MODES, FeatureMaps, colour_limits, feature_maps, tile
from ..synth import FONTS, render_character
from ._display import Explorer


def colourise(values: np.ndarray, cmap: str, zoom: int) -> np.ndarray:
    """Values in [0, 1] (``nan`` = background) → an RGB ``uint8`` image enlarged ``zoom``× (nearest neighbour).

    Drawing the maps as one array instead of one matplotlib axes each keeps an update well under 200 ms.
    """
    lut = (matplotlib.colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    index = np.nan_to_num(values, nan=0.0).clip(0, 1)
    rgb = lut[(index * 255).round().astype(np.int64)]
    rgb[np.isnan(values)] = 255  # white gutters between maps
    return rgb.repeat(zoom, 0).repeat(zoom, 1)


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an RGB ``uint8 (H, W, 3)`` image as PNG (Pillow, which matplotlib already depends on)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _zoom(height: int, target: int = 220) -> int:
    return max(1, target // max(1, height))


def render_panels(result: FeatureMaps, layer: str, limits: Sequence[tuple[float, float]],
                  raw_input: torch.Tensor) -> dict[str, bytes | None]:
    """PNGs of the input, the layer's maps as one grid (coloured by ``limits``) and its kernels (``None`` if not 2-D)."""
    lm = result.layers[layer]
    x = raw_input.float().reshape(raw_input.shape[-2:])
    x = (x - x.min()) / max(float(x.max() - x.min()), 1e-6)
    grid = tile(lm.maps, limits).numpy()
    panels = {"input": png_bytes(colourise(x.numpy(), "gray", _zoom(x.shape[0], 140))),
              "maps": png_bytes(colourise(grid, "magma", _zoom(grid.shape[0], 300))), "kernels": None}
    if lm.kernels is not None:
        k = lm.kernels
        bound = float(k.abs().max()) or 1.0
        kgrid = tile((k / bound + 1) / 2).numpy()  # one symmetric scale: white = 0, red = +, blue = −
        panels["kernels"] = png_bytes(colourise(kgrid, "RdBu_r", _zoom(kgrid.shape[0], 220)))
    return panels


def probabilities_html(probabilities: torch.Tensor, classes: Sequence[str], prediction: int, top_k: int = 10) -> str:
    """The top-k class probabilities as an HTML bar chart (the prediction in red)."""
    top = probabilities.argsort(descending=True)[:top_k]
    rows = "".join(
        f"<div style='display:flex;align-items:center;font-size:11px'><span style='width:60px;text-align:right;"
        f"padding-right:4px;overflow:hidden'>{html.escape(str(classes[int(i)]))}</span><span style='display:inline-"
        f"block;height:12px;width:{max(1, round(160 * float(probabilities[i])))}px;background:"
        f"{'#d62728' if int(i) == prediction else '#1f77b4'}'></span><span style='padding-left:4px'>"
        f"{float(probabilities[i]):.1%}</span></div>" for i in top)
    return f"<b>prediction: {html.escape(str(classes[prediction]))}</b>{rows}"


def stats_html(result: FeatureMaps, selected: str) -> str:
    """Per-layer activation statistics as a small HTML table, the selected layer in bold."""
    rows = "".join(
        f"<tr style='{'font-weight:bold;background:#eef' if s['name'] == selected else ''}'><td>{s['name']}</td>"
        f"<td>{s['kind']}</td><td>{'×'.join(map(str, s['shape']))}</td><td>{s['mean']:.3f}</td>"
        f"<td>{s['zero_fraction']:.0%}</td></tr>" for s in result.statistics())
    return ("<table style='font-size:11px'><tr><th>layer</th><th>kind</th><th>shape</th><th>mean</th>"
            f"<th>zeros</th></tr>{rows}</table>")


class FeatureMapExplorer(Explorer):
    """Interactive feature maps of any CNN: ``FeatureMapExplorer(model, images, labels, classes)`` in a cell.

    Controls (attributes): ``source`` ('dataset' or 'character'), ``index`` (dataset image), ``text`` and ``font``
    (a typed character rendered in a bundled font), ``layer`` (every conv / activation / pool layer), ``scale``
    ('per map', 'per layer', 'global'). Shows the input, the layer's maps, its kernels where 2-D, the top class
    probabilities and per-layer statistics (mean, share of zeros). Errors appear in ``status``, never swallowed.
    """

    def __init__(self, model: torch.nn.Module, images: torch.Tensor | None = None,
                 labels: torch.Tensor | None = None, classes: Sequence[str] | None = None, char: str = "7",
                 font: str = "DejaVu Serif"):
        self.model = model
        self.images, self.labels = images, labels
        self.classes = list(classes) if classes is not None else None
        has_images = images is not None and len(images) > 0
        self.source = W.ToggleButtons(options=["dataset", "character"] if has_images else ["character"],
                                      value="dataset" if has_images else "character", description="Input")
        self.index = W.IntSlider(value=0, min=0, max=len(images) - 1 if has_images else 0, description="Image #",
                                 continuous_update=False)
        self.text = W.Text(value=char, description="Character", layout=W.Layout(width="160px"))
        self.font = W.Dropdown(options=list(FONTS), value=font, description="Font")
        self.layer = W.Dropdown(options=[], description="Layer", layout=W.Layout(width="360px"))
        self.scale = W.ToggleButtons(options=list(SCALE_MODES), value="per map", description="Colour scale")
        self.input_view = W.Image(format="png")
        self.image = W.Image(format="png")  # the layer's maps
        self.kernel_view = W.Image(format="png")
        self.maps_caption, self.kernel_caption = W.HTML(), W.HTML()
        self.kernel_box = W.VBox([self.kernel_caption, self.kernel_view])
        self.probabilities = W.HTML()
        self.stats = W.HTML()
        self.status = W.HTML()
        self.result: FeatureMaps | None = None
        self.limits: list[tuple[float, float]] = []
        self.input_image: torch.Tensor | None = None
        self._layer_names: list[str] = []
        self._quiet = False
        self.ui = W.VBox([W.HBox([self.source, self.index]), W.HBox([self.text, self.font]),
                          W.HBox([self.layer, self.scale]), self.status,
                          W.HBox([W.VBox([W.HTML("<b>input</b>"), self.input_view]),
                                  W.VBox([self.maps_caption, self.image]), self.kernel_box, self.probabilities],
                                 layout=W.Layout(align_items="flex-start", grid_gap="12px")),
                          W.Accordion([self.stats], titles=("per-layer activation statistics",))])
        self.ui.add_class("ocrlab-feature-map-explorer")
        for control in (self.source, self.index, self.text, self.font):
            control.observe(lambda _change: self.update(), "value")
        for control in (self.layer, self.scale):
            control.observe(lambda _change: self.redraw(), "value")
        self.update()

    def current_image(self) -> torch.Tensor:
        """The chosen input: a dataset image or the typed character rendered at the dataset's size."""
        if self.source.value == "dataset":
            return self.images[self.index.value]
        size = int(self.images.shape[-1]) if self.images is not None else 28
        return render_character(self.text.value[:1] or " ", self.font.value, size)

    def update(self) -> None:
        """New input: run the model once (hooks), then redraw."""
        try:
            show_dataset = self.source.value == "dataset"
            self.index.layout.display = None if show_dataset else "none"
            self.text.layout.display = self.font.layout.display = "none" if show_dataset else None
            self.input_image = self.current_image()
            self.result = feature_maps(self.model, self.input_image)
            names = list(self.result.layers)
            if self._layer_names != names:  # a new model output layout (first call): refill the dropdown
                keep = self.layer.value if self.layer.value in names else names[0]
                self._quiet = True
                try:
                    self.layer.options = [(f"{n}  {'×'.join(map(str, self.result.layers[n].shape))}", n)
                                          for n in names]
                    self.layer.value = keep
                finally:
                    self._quiet = False
                self._layer_names = names
        except (ValueError, KeyError, IndexError) as err:
            self.status.value = f"<span style='color:#b00'>⚠ {err}</span>"
            return
        self.redraw()

    def redraw(self) -> None:
        """Same input, new layer or colour scale: recompute the colour limits and the figure."""
        if self._quiet or self.result is None or self.layer.value is None:
            return
        try:
            layer = self.layer.value
            maps = {name: lm.maps for name, lm in self.result.layers.items()}
            self.limits = colour_limits(maps, layer, self.scale.value)
            classes = self.classes or [str(i) for i in range(len(self.result.probabilities))]
            panels = render_panels(self.result, layer, self.limits, self.input_image)
            lm = self.result.layers[layer]
            self.input_view.value, self.image.value = panels["input"], panels["maps"]
            same = len(set(self.limits)) == 1
            scale = f"[{self.limits[0][0]:.3g}, {self.limits[0][1]:.3g}]" if same else "each map its own range"
            self.maps_caption.value = (f"<b>{layer}</b> ({lm.module}, {'×'.join(map(str, lm.shape))}): "
                                       f"colour {scale}")
            self.kernel_box.layout.display = None if panels["kernels"] else "none"
            if panels["kernels"]:
                k = lm.kernels
                mean = "" if self.model.get_submodule(layer.split("#")[0]).in_channels == 1 else \
                    ", mean over input channels"
                self.kernel_view.value = panels["kernels"]
                self.kernel_caption.value = f"<b>kernels</b> {k.shape[1]}×{k.shape[2]} (red +, blue −{mean})"
            self.probabilities.value = probabilities_html(self.result.probabilities, classes, self.result.prediction)
            self.stats.value = stats_html(self.result, layer)
            truth = ""
            if self.source.value == "dataset" and self.labels is not None:
                truth = f", true class {classes[int(self.labels[self.index.value])]}"
            self.status.value = (f"prediction <b>{classes[self.result.prediction]}</b>{truth}; layer {layer}: "
                                 f"mean {lm.mean:.3f}, zeros {lm.zero_fraction:.0%}")
        except (ValueError, KeyError) as err:
            self.status.value = f"<span style='color:#b00'>⚠ {err}</span>"
