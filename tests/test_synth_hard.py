"""The harder synthetic sets of notebooks 09–11: seeded, batched, documented shapes and ranges."""
import pytest
import torch

from ocrlab import synth
from ocrlab.experiments import Spread, accuracy_by_group, beyond_spread, seed_sweep


def test_multiscale_characters_sizes_and_determinism():
    a = synth.make_multiscale_characters("01", ("DejaVu Sans",), 20, seed=3, size=32, cap_height=(6, 28))
    b = synth.make_multiscale_characters("01", ("DejaVu Sans",), 20, seed=3, size=32, cap_height=(6, 28))
    assert a.images.shape == (40, 32, 32) and a.images.dtype == torch.uint8
    assert torch.equal(a.images, b.images) and torch.equal(a.cap_height, b.cap_height)
    assert 6 <= float(a.cap_height.min()) and float(a.cap_height.max()) <= 28
    # bigger cap height, more ink
    ink = a.images.float().sum((1, 2))
    small, large = a.cap_height < 10, a.cap_height > 20
    assert ink[small].mean() < 0.5 * ink[large].mean()
    with pytest.raises(ValueError, match="cap_height"):
        synth.make_multiscale_characters(cap_height=(10, 5))


def test_cluttered_characters_keep_the_glyph_on_top():
    c = synth.make_cluttered_characters("AB", ("DejaVu Sans",), 10, seed=0, size=32)
    assert c.images.shape == c.clean.shape == (20, 32, 32)
    assert (c.images >= c.clean).all()  # ink is drawn over the clutter
    assert (c.images.float() - c.clean.float()).mean() > 10  # and there is clutter
    clean = synth.make_cluttered_characters("AB", ("DejaVu Sans",), 10, seed=0, size=32, clutter=0.0)
    assert torch.equal(clean.images, clean.clean)


def test_distorted_characters_ranges():
    d = synth.make_distorted_characters("12", ("DejaVu Sans",), 30, seed=0, size=28, rotation=(20, 40),
                                        shear=0.3, elastic=2.0)
    assert d.images.shape == (60, 28, 28)
    assert ((d.angle.abs() >= 20) & (d.angle.abs() <= 40)).all() and (d.shear.abs() <= 0.3).all()
    assert (d.angle > 0).any() and (d.angle < 0).any()
    upright = synth.render_distorted("1", size=28)
    assert torch.equal(upright, synth.render_character("1", size=28)) or \
        (upright.float() - synth.render_character("1", size=28).float()).abs().max() <= 1
    with pytest.raises(ValueError, match="0 ≤ lo ≤ hi"):
        synth.make_distorted_characters(rotation=(30, 10))


def test_widget_renderers_and_page():
    assert synth.render_cluttered("A", size=32).shape == (32, 32)
    page = synth.render_multiscale_page()
    assert page.dtype == torch.uint8 and page.shape == (96, 192) and page.max() > 200


def test_spread_and_sweep(tiny_digits):
    s = Spread((0.9, 0.92, 0.94))
    assert abs(s.mean - 0.92) < 1e-12 and abs(s.std - 0.02) < 1e-12
    assert s.percent() == "92.00 ± 2.00 %"
    assert (s - Spread((0.8, 0.8, 0.8))).points() == "+12.00 ± 2.00 pt"
    assert beyond_spread(s, Spread((0.8, 0.81, 0.79))) and not beyond_spread(s, Spread((0.9, 0.91, 0.92)))
    from ocrlab.models import LeNet5
    (x, y), test = tiny_digits
    sweep = seed_sweep(lambda: LeNet5(), (x[:256], y[:256]), test, seeds=(0, 1), epochs=1, batch_size=64,
                       verbose=False)
    assert len(sweep.accuracy.values) == 2 and sweep.accuracy.values[0] != sweep.accuracy.values[1]
    by = accuracy_by_group(sweep.runs[0].model, test[0], test[1], test[1] % 2, 2)
    assert by.shape == (2,) and not torch.isnan(by).any()
