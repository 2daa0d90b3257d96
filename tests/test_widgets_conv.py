"""Widgets of notebooks 01–04: set control values and check that what is displayed changed accordingly
(ipywidgets swallows exceptions raised in callbacks, so the callbacks are exercised here directly)."""
import pytest
import torch

from ocrlab import shapes, strokes
from ocrlab.widgets import ActivationExplorer, KernelExplorer, OutputSizeCalculator, PoolingExplorer


def test_kernel_explorer_preset_changes_output():
    w = KernelExplorer(char="H", preset="identity")
    assert "ocrlab-kernel-explorer" in w.ui._dom_classes and w.preset.description == "Preset"
    assert "ocrlab-kernel-preset" in w.preset._dom_classes and "ocrlab-kernel-output" in w.image._dom_classes
    before_png, before = w.image.value, w.result.clone()
    torch.testing.assert_close(before, w.input_image.float() / 255)
    w.preset.value = "sobel_x"
    assert w.image.value != before_png
    torch.testing.assert_close(w.kernel(), strokes.KERNEL_PRESETS["sobel_x"])
    torch.testing.assert_close(w.result, strokes.filter_image(w.input_image, strokes.KERNEL_PRESETS["sobel_x"]))
    w.preset.value = "box_blur_5"
    assert w.kernel_size.value == 5 and w.kernel().shape == (5, 5)


def test_kernel_explorer_editing_a_cell_makes_a_custom_kernel():
    w = KernelExplorer(preset="identity")
    w.cells[1][1].value = 2.0
    assert w.preset.value == "custom"
    torch.testing.assert_close(w.result, 2 * w.input_image.float() / 255)


def test_kernel_explorer_sources_and_errors():
    digits = torch.zeros(3, 28, 28, dtype=torch.uint8)
    digits[2, 10:18, 14] = 255
    w = KernelExplorer(digits=digits, preset="vertical_stroke")
    w.source.value = "digit"
    w.digit.value = 2
    assert torch.equal(w.input_image, digits[2]) and w.result.max() > 0
    w.source.value = "character"
    w.text.value = "Q"
    w.font.value = "DejaVu Serif"
    torch.testing.assert_close(w.input_image, __import__("ocrlab.synth").synth.render_character("Q", "DejaVu Serif"))
    w.text.value = "\u4e2d"  # a character the font lacks: shown in the widget, not swallowed
    assert "no glyph" in w.status.value
    w.text.value = "Q"
    separate = w.image.value
    w.scale.value = "shared"  # one colour scale for input and output: the same result, drawn differently
    assert w.image.value != separate and w.result is not None


def test_output_size_calculator_updates_and_flags():
    w = OutputSizeCalculator(size=7, kernel=3, stride=2)
    assert [s.description for s in (w.input, w.kernel, w.stride, w.padding, w.dilation)] == \
        ["input", "kernel", "stride", "padding", "dilation"]
    assert "ocrlab-outsize-calculator" in w.ui._dom_classes and "ocrlab-outsize-result" in w.result._dom_classes
    assert "ocrlab-outsize-stride" in w.stride._dom_classes
    assert w.report.size == 3 and "= 3" in w.result.value and "nothing dropped" in w.result.value
    png = w.image.value
    w.stride.value = 3
    assert w.report.size == 2 and w.report.dropped == 1 and "dropped" in w.result.value and w.image.value != png
    w.kernel.value = 9  # larger than the input: flagged, not raised
    assert not w.report.valid and "invalid" in w.result.value and "larger than the padded input" in w.result.value
    w.padding.value = 1
    assert w.report.valid and w.report.size == shapes.output_size(7, 9, 3, 1)
    w.input.value, w.kernel.value, w.stride.value = 8, 3, 2  # padded 0…9, windows end at 8: only padding unreached
    assert w.report.dropped == 0 and "nothing dropped" in w.result.value
    w.padding.value = 0  # windows end at row 6, the image's last row is 7: one image row never seen
    assert w.report.dropped == 1 and "last 1 image row(s)/column(s)" in w.result.value


def test_pooling_explorer_measures_less_change_with_pooling():
    w = PoolingExplorer(char="E")
    none = w.change
    png = w.image.value
    w.pool.value = "4×4"
    assert w.change < none and w.image.value != png
    w.pool.value = "global"
    assert w.change == pytest.approx(0.0, abs=1e-6)
    w.dx.value = 0
    w.dy.value = 0
    assert w.change == 0


def test_activation_explorer():
    w = ActivationExplorer("sigmoid")
    assert float(w.curve[1].max()) == pytest.approx(0.25, abs=1e-3)
    w.activation.value = "leaky_relu"
    w.slope.value = 0.2
    assert float(w.curve[1].min()) == pytest.approx(0.2)
