"""Feature maps (pure part), the explorer widget, and reading a line digit by digit."""
import pytest
import torch
import torch.nn as nn

from ocrlab import features, models, reading, synth


def _hooks_left(model):
    return [n for n, m in model.named_modules() if m._forward_hooks]


@pytest.fixture
def lenet():
    torch.manual_seed(0)
    m = models.LeNet5().eval()
    m.input_normalization = (0.1, 0.3)
    return m


def test_feature_maps_lenet(lenet):
    image = synth.render_character("7")
    fm = features.feature_maps(lenet, image)
    assert list(fm.layers)[:3] == ["features.C1", "features.S2", "features.relu2"]
    assert fm.layers["features.C1"].shape == (6, 28, 28) and fm.layers["features.relu4"].shape == (16, 5, 5)
    assert "classifier.act5" not in fm.layers  # dense-layer activations are not maps
    assert fm.layers["features.C1"].kernels.shape == (6, 5, 5)
    torch.testing.assert_close(fm.layers["features.C3"].kernels, lenet.features.C3.weight.detach().mean(1))
    assert fm.layers["features.S2"].kernels is None and fm.layers["features.relu2"].kernels is None  # pool, ReLU
    relu = fm.layers["features.relu2"]
    assert relu.zero_fraction == pytest.approx(float((relu.maps == 0).float().mean()))
    assert float(fm.probabilities.sum()) == pytest.approx(1.0, abs=1e-5)
    x = (image.float() / 255 - 0.1) / 0.3
    torch.testing.assert_close(fm.probabilities, torch.softmax(lenet(x[None, None]), 1)[0])
    assert {s["name"] for s in fm.statistics()} == set(fm.layers)
    assert not _hooks_left(lenet) and not lenet.training


def test_hooks_removed_after_exception_and_repeated_calls(lenet):
    for _ in range(3):
        features.feature_maps(lenet, synth.render_character("1"))
    with pytest.raises(RuntimeError):
        features.feature_maps(lenet, torch.zeros(3, 28, 28, dtype=torch.uint8))  # 3 channels into a 1-channel model
    assert not _hooks_left(lenet)


def test_shared_relu_and_one_by_one_kernels():
    torch.manual_seed(0)
    r = models.resnet(8, width=4).eval()
    fm = features.feature_maps(r, torch.rand(28, 28), normalization=(0.0, 1.0))
    assert "stages.0.0.relu" in fm.layers and "stages.0.0.relu#2" in fm.layers  # one module, called twice
    assert fm.layers["stages.1.0.downsample.0"].kernels is None  # 1×1: nothing 2-D to show
    assert not _hooks_left(r)


def test_colour_limits_modes():
    layers = {"a": torch.stack([torch.zeros(2, 2), torch.arange(4.).reshape(2, 2)]), "b": torch.full((1, 3, 3), -5.)}
    assert features.colour_limits(layers, "a", "per map") == [(-1e-6, 1e-6), (0.0, 3.0)]
    assert features.colour_limits(layers, "a", "per layer") == [(0.0, 3.0)] * 2
    assert features.colour_limits(layers, "a", "global") == [(-5.0, 3.0)] * 2
    with pytest.raises(ValueError, match="mode"):
        features.colour_limits(layers, "a", "per pixel")
    grid = features.tile(layers["a"], [(0.0, 3.0)] * 2, ncols=2)
    assert grid.shape == (2, 5) and torch.isnan(grid[:, 2]).all() and float(grid[1, 4]) == 1.0


def test_explorer_widget_controls_change_what_is_shown(lenet):
    from ocrlab.widgets import FeatureMapExplorer

    images, labels = synth.load_synthetic("test", n_per_class=2, seed=0)
    w = FeatureMapExplorer(lenet, images, labels, classes=list("0123456789"))
    assert "ocrlab-feature-map-explorer" in w.ui._dom_classes
    maps_png, first = w.image.value, w.result
    w.index.value = 5
    assert w.result is not first and w.image.value != maps_png and torch.equal(w.input_image, images[5])
    w.layer.value = "features.C3"
    assert len(w.limits) == 16 and w.kernel_box.layout.display is None and "16×10×10" in w.maps_caption.value
    w.layer.value = "features.S4"
    assert w.kernel_box.layout.display == "none"  # a pooling layer: no kernels panel
    per_map = list(w.limits)
    w.scale.value = "global"
    assert len(set(w.limits)) == 1 and w.limits != per_map
    w.source.value = "character"
    w.text.value = "3"
    assert torch.equal(w.input_image, synth.render_character("3", w.font.value))
    assert "prediction" in w.probabilities.value and "features.S4" in w.stats.value
    assert not _hooks_left(lenet)


def test_segment_and_read_a_postal_code():
    line = synth.render_text("75008", "Computer Modern Sans", height=28, padding=0)
    segments = reading.segment_columns(line)
    assert len(segments) == 5
    cell = reading.character_cell(line, segments[0])
    assert cell.shape == (28, 28) and cell.dtype == torch.uint8
    assert (cell.float() - synth.render_character("7", "Computer Modern Sans").float()).abs().mean() < 15

    class Oracle(nn.Module):  # "classifies" a cell by its ink: enough to test the plumbing
        def __init__(self):
            super().__init__()
            self.unused = nn.Parameter(torch.zeros(1))
            self.input_normalization = (0.0, 1.0)

        def forward(self, x):
            return torch.stack([x.flatten(1).sum(1), -x.flatten(1).sum(1)], 1)

    result = reading.read_line(Oracle(), line, classes=["a", "b"])
    assert len(result.text) == 5 and result.cells.shape == (5, 28, 28) and result.segments == segments
    joined = reading.join_characters(torch.stack([synth.render_character(c) for c in "123"]), gap=3)
    assert len(reading.segment_columns(joined)) == 3
    assert reading.character_cell(joined, reading.segment_columns(joined)[0], style="mnist").shape == (28, 28)
    with pytest.raises(ValueError, match="No ink"):
        reading.read_line(Oracle(), torch.zeros(28, 40), ["a", "b"])


def test_check_segments():
    from ocrlab import checks

    assert checks.check_segments(reading.segment_columns)
    assert not checks.check_segments(lambda line: [])
