import pytest
import torch

from ocrlab import synth


def test_same_seed_gives_identical_tensors_and_other_seed_differs():
    a = synth.make_characters("0123", n_per_class=30, seed=7)
    b = synth.make_characters("0123", n_per_class=30, seed=7)
    c = synth.make_characters("0123", n_per_class=30, seed=8)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert torch.equal(a.font_index, b.font_index)
    assert not torch.equal(a.images, c.images)


def test_mnist_format_and_balanced_classes():
    images, labels = synth.make_characters(synth.DIGITS, n_per_class=25, seed=0)
    assert images.dtype == torch.uint8 and images.shape == (250, 28, 28)
    assert labels.dtype == torch.int64 and torch.bincount(labels).tolist() == [25] * 10
    # white ink on black, like MNIST: background 0, strokes near 255
    assert images[:, 0, :].float().mean() < 5 and images.amax() > 200


def test_font_split_is_disjoint_and_covers_all_bundled_fonts():
    assert set(synth.TRAIN_FONTS).isdisjoint(synth.TEST_FONTS)
    assert set(synth.TRAIN_FONTS) | set(synth.TEST_FONTS) == set(synth.FONTS)
    data = synth.make_characters("AB", fonts=synth.TEST_FONTS, n_per_class=50, seed=1)
    assert set(data.fonts) == set(synth.TEST_FONTS)
    assert data.font_index.max() < len(synth.TEST_FONTS)


@pytest.mark.parametrize("font", list(synth.FONTS))
def test_every_font_renders_every_printable_character(font):
    for char in synth.CHARSETS["printable"]:
        glyph = synth.render_character(char, font)
        assert glyph.shape == (28, 28) and glyph.dtype == torch.uint8
        assert glyph.sum() > 0, f"{char!r} in {font} rendered empty"


def test_glyphs_are_centred_and_keep_case_size():
    big, small = synth.render_character("O").float(), synth.render_character("o").float()
    assert (big > 64).sum() > 1.3 * (small > 64).sum()  # case is visible in the image, not normalised away
    ys, xs = torch.nonzero(big > 64, as_tuple=True)
    assert abs(xs.float().mean() - 13.5) < 2 and abs(ys.float().mean() - 13.5) < 3


def test_variation_none_gives_clean_glyphs():
    data = synth.make_characters("7", fonts=["DejaVu Sans"], n_per_class=3, variation=synth.Variation.none())
    assert torch.equal(data.images[0], data.images[1])
    clean = synth.render_character("7", "DejaVu Sans")
    assert (data.images[0].int() - clean.int()).abs().max() <= 1  # identity warp: equal up to rounding


def test_load_synthetic_splits_by_font():
    x, y = synth.load_synthetic("test", chars="01", n_per_class=10)
    assert x.shape == (20, 28, 28) and set(y.tolist()) == {0, 1}
    with pytest.raises(ValueError, match="split"):
        synth.load_synthetic("validation")


def test_render_text_line():
    line = synth.render_text("OCR 2026", "DejaVu Serif", height=32)
    assert line.shape[0] == 32 and line.shape[1] > 3 * 32 and line.dtype == torch.uint8


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="Unknown font 'Comic Sans'"):
        synth.render_character("a", "Comic Sans")
    with pytest.raises(ValueError, match="no glyph"):
        synth.render_character("\u4e2d", "DejaVu Sans")
    with pytest.raises(ValueError, match="one character"):
        synth.render_character("ab")
    with pytest.raises(ValueError, match="distinct"):
        synth.make_characters("aa")
    with pytest.raises(ValueError, match="n_per_class"):
        synth.make_characters("a", n_per_class=0)


def test_families_cover_every_font_once_and_family_split_holds_out_a_whole_family():
    listed = [f for fonts in synth.FAMILIES.values() for f in fonts]
    assert sorted(listed) == sorted(synth.FONTS)
    train_fonts, test_fonts = synth.family_split("STIX")
    assert set(test_fonts) == {"STIX", "STIX Bold", "STIX Italic", "STIX Bold Italic"}
    assert not set(train_fonts) & set(test_fonts) and len(train_fonts) + len(test_fonts) == len(synth.FONTS)
    # the style split, by contrast, trains on a sibling of every held-out font
    assert all(any(f in synth.TRAIN_FONTS for f in fonts) for fonts in synth.FAMILIES.values())
    with pytest.raises(ValueError, match="Unknown font family"):
        synth.family_split("Helvetica")
