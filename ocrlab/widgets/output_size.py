"""Output-size calculator: sliders for input, kernel, stride, padding and dilation; the formula with the numbers
in, the result, and a drawing of where the kernel lands on the padded input. Invalid settings and strides that
drop pixels are flagged in the result, never raised. A thin view over ``ocrlab.shapes.explain_output_size``."""
from __future__ import annotations

import ipywidgets as W
from matplotlib.patches import Rectangle

from ..shapes import OutputSizeReport, explain_output_size
from ._display import Explorer
from ._png import figure_png, new_figure


def window_positions(report: OutputSizeReport, stride: int) -> list[int]:
    """Start index (in the padded input) of every window along one dimension."""
    return [i * stride for i in range(report.size)] if report.valid else []


def draw_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> bytes:
    """PNG of the padded input: padding grey, the first window's taps blue, every window start marked,
    the image rows/columns no window covers (``dropped_pixels``) hatched red. One dimension's story, drawn on a
    square grid."""
    report = explain_output_size(size, kernel, stride, padding, dilation)
    n = size + 2 * padding
    fig = new_figure(4.6, 4.6)
    ax = fig.subplots()
    for i in range(n):
        for j in range(n):
            pad = min(i, j) < padding or max(i, j) >= padding + size
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor="#dddddd" if pad else "white", edgecolor="#999999",
                                   linewidth=0.5))
    taps = [t * dilation for t in range(kernel)]
    for ti in taps:
        for tj in taps:
            if ti < n and tj < n:
                ax.add_patch(Rectangle((tj, ti), 1, 1, facecolor="#4477cc", alpha=0.75))
    eff = dilation * (kernel - 1) + 1
    ax.add_patch(Rectangle((0, 0), eff, eff, fill=False, edgecolor="#113388", linewidth=2))
    starts = window_positions(report, stride)
    for si in starts:
        for sj in starts:
            ax.plot(sj + 0.5, si + 0.5, "o", color="#ee8800", markersize=4)
    if report.valid and report.dropped:  # image rows/columns no window covers (unreached padding is not marked)
        d, end = report.dropped, padding + size  # they end where the image ends, before the bottom/right padding
        ax.add_patch(Rectangle((end - d, 0), d, n, facecolor="none", edgecolor="#cc0000", hatch="///", linewidth=1.5))
        ax.add_patch(Rectangle((0, end - d), n, d, facecolor="none", edgecolor="#cc0000", hatch="///", linewidth=1.5))
    lim = max(n, eff)
    ax.set_xlim(0, lim)
    ax.set_ylim(lim, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    title = (f"{n}×{n} padded input → {report.size}×{report.size} output" if report.valid
             else f"INVALID: {eff}×{eff} window > {n}×{n} padded input")
    ax.set_title(title, fontsize=10, color="black" if report.valid else "#cc0000")
    ax.text(0, lim + 0.3, "blue: first window's taps · orange: window starts · grey: padding · red: dropped",
            fontsize=7, va="top")
    return figure_png(fig)


class OutputSizeCalculator(Explorer):
    """Interactive output-size calculator: ``OutputSizeCalculator()`` in a cell shows it.

    Controls: ``input``, ``kernel``, ``stride``, ``padding``, ``dilation`` (IntSliders); ``result`` (HTML) shows
    the formula and outcome, ``report`` the last ``OutputSizeReport`` and ``image`` the drawing.
    """

    def __init__(self, size: int = 7, kernel: int = 3, stride: int = 2, padding: int = 0, dilation: int = 1):
        self.input = W.IntSlider(value=size, min=1, max=32, description="input")
        self.kernel = W.IntSlider(value=kernel, min=1, max=9, description="kernel")
        self.stride = W.IntSlider(value=stride, min=1, max=5, description="stride")
        self.stride.add_class("ocrlab-outsize-stride")
        self.padding = W.IntSlider(value=padding, min=0, max=4, description="padding")
        self.dilation = W.IntSlider(value=dilation, min=1, max=4, description="dilation")
        self.result = W.HTML()
        self.result.add_class("ocrlab-outsize-result")
        self.image = W.Image(format="png")
        self.report: OutputSizeReport | None = None
        sliders = [self.input, self.kernel, self.stride, self.padding, self.dilation]
        for slider in sliders:
            slider.observe(lambda _change: self.update(), "value")
        self.ui = W.HBox([W.VBox(sliders + [self.result], layout=W.Layout(width="520px")), self.image])
        self.ui.add_class("ocrlab-outsize-calculator")
        self.update()

    def settings(self) -> tuple[int, int, int, int, int]:
        return (self.input.value, self.kernel.value, self.stride.value, self.padding.value, self.dilation.value)

    def update(self) -> None:
        """Recompute the report and redraw (the report never raises: invalid settings become a red flag)."""
        self.report = explain_output_size(*self.settings())
        r = self.report
        if not r.valid:
            flag = f"<b style='color:#cc0000'>⚠ {r.message}</b>"
        elif r.dropped:
            flag = f"<b>{r.size}×{r.size}</b><br><span style='color:#b36b00'>⚠ {r.message.split('; ', 1)[1]}</span>"
        else:
            flag = f"<b>{r.size}×{r.size}</b> (every image pixel is seen: nothing dropped)"
        self.result.value = f"<code>H_out = {r.formula}</code><br>{flag}"
        self.image.value = draw_output_size(*self.settings())
