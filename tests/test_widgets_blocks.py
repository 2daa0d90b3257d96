"""Widgets and pictures of notebooks 10–11: the pure functions under them, on untrained models."""
import pytest
import torch

from ocrlab import blockviz, synth
from ocrlab.models.attention import attention_resnet
from ocrlab.models.text_conv import TextConvNet
from ocrlab.widgets.attention import AttentionExplorer, attention_panels_png
from ocrlab.widgets.deformable import DeformableExplorer, deformable_panel_png


@pytest.fixture
def cbam():
    torch.manual_seed(0)
    m = attention_resnet(8, "cbam", width=4)
    m.input_normalization = (0.2, 0.3)
    return m


def test_attention_on_and_mass_on_ink(cbam):
    data = synth.make_cluttered_characters("AB", ("DejaVu Sans",), 3, size=32)
    probs, maps = blockviz.attention_on(cbam, data.images)
    assert probs.shape == (6, 10) and len(maps) == 6
    spatial = maps["stages.0.0.attention.spatial"]
    assert spatial.shape == (6, 1, 32, 32)
    share = blockviz.attention_mass_on_ink(spatial, data.clean)
    assert share.shape == (6,) and ((share > 0) & (share < 1)).all()
    uniform = blockviz.attention_mass_on_ink(torch.ones(6, 1, 8, 8), data.clean)
    torch.testing.assert_close(uniform, (data.clean >= 128).float().mean((1, 2)))


def test_attention_widget(cbam):
    png, line = attention_panels_png(cbam, "A", "DejaVu Sans", 1.0, 0, classes="ABCDEFGHIJ")
    assert png[:4] == b"\x89PNG" and "prediction" in line
    w = AttentionExplorer(cbam, classes="ABCDEFGHIJ")
    w.text.value = "é"  # not in every font: the widget shows the error instead of raising
    w.font.value = "Computer Modern Roman"
    assert "⚠" in w.status.value or "prediction" in w.status.value


def test_sampling_on_and_deformable_widget():
    torch.manual_seed(0)
    model = TextConvNet("deformable", width=8)
    model.input_normalization = (0.1, 0.3)
    image = synth.render_distorted("4", size=28, rotation=20)
    positions, regular, stride = blockviz.sampling_on(model, image)
    assert positions.shape == regular.shape == (7, 7, 9, 2) and stride == 4
    torch.testing.assert_close(positions, regular)  # offsets start at zero
    png, line, shift = deformable_panel_png(model, "4", "DejaVu Sans", 20, 0.2, 1.0)
    assert png[:4] == b"\x89PNG" and shift == 0.0
    w = DeformableExplorer(model)
    w.rotation.value = -30
    assert w.shift == 0.0 and "prediction" in w.status.value
    with pytest.raises(ValueError, match="no DeformableConv2d"):
        blockviz.sampling_on(TextConvNet("plain", width=8), image)


def test_grid_rotation_recovers_a_rotated_grid():
    import math
    u, v = torch.meshgrid(torch.arange(3.0), torch.arange(3.0), indexing="ij")
    regular = torch.stack([u.flatten(), v.flatten()], -1) + 5  # (9, 2) rows, cols
    centre = regular[4]
    for deg in (-20.0, 0.0, 15.0):
        t = math.radians(deg)
        d = regular - centre  # rotate (x=col, y=row, y down) clockwise on screen by deg
        x, y = d[:, 1], d[:, 0]
        rotated = torch.stack([x * math.sin(t) + y * math.cos(t), x * math.cos(t) - y * math.sin(t)], -1) + centre
        assert abs(float(blockviz.grid_rotation(rotated, regular)) - deg) < 1e-4
    # the convention matches synth's angle: rotating an image by +angle moves its top to the right
    img = synth.render_distorted("1", size=28, rotation=30).float()
    cols = torch.arange(28.0)
    top, bottom = img[4:10], img[18:24]
    assert (top.sum(0) * cols).sum() / top.sum() > (bottom.sum(0) * cols).sum() / bottom.sum()
