"""Attention blocks (notebook 10): shapes, parameter counts, weights in [0, 1], clear errors."""
import pytest
import torch

from ocrlab.models.attention import (CBAM, SEBlock, SpatialAttention, SqueezeExcitation, attention_maps,
                                     attention_resnet)
from ocrlab.models import resnet


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_squeeze_excitation_shapes_params_and_range():
    se = SqueezeExcitation(16, reduction=4)
    x = torch.randn(3, 16, 7, 5)
    y, a = se(x, return_attention=True)
    assert y.shape == x.shape and a.shape == (3, 16)
    assert n_params(se) == 2 * 16 * 4 + 4 + 16
    assert (a >= 0).all() and (a <= 1).all()
    torch.testing.assert_close(y, x * a[:, :, None, None])
    assert se.last_attention.shape == (3, 16)


def test_spatial_attention_and_cbam():
    sa = SpatialAttention(7)
    x = torch.randn(2, 8, 9, 9)
    y, m = sa(x, return_attention=True)
    assert y.shape == x.shape and m.shape == (2, 1, 9, 9) and n_params(sa) == 2 * 49 + 1
    assert ((m >= 0) & (m <= 1)).all()
    cbam = CBAM(8, reduction=2, kernel_size=3)
    y, (a, m) = cbam(x, return_attention=True)
    assert y.shape == x.shape and a.shape == (2, 8) and m.shape == (2, 1, 9, 9)
    assert n_params(cbam) == (8 * 4 + 4 + 4 * 8 + 8) + (2 * 9 + 1)
    assert ((a >= 0) & (a <= 1)).all() and ((m >= 0) & (m <= 1)).all()


@pytest.mark.parametrize("bad", [4, 0, -1, 2.0])
def test_even_kernel_rejected(bad):
    with pytest.raises(ValueError, match="odd kernel_size"):
        SpatialAttention(bad)


def test_wrong_channel_count_rejected():
    with pytest.raises(ValueError, match="built for 16 channels but the input has 8"):
        SqueezeExcitation(16)(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match="built for 8 channels"):
        CBAM(8)(torch.randn(1, 3, 4, 4))


def test_attention_resnet_adds_only_attention_params_and_records_maps():
    base = resnet(8, width=8)
    se = attention_resnet(8, "se", width=8)
    # one SE per block (3 blocks of widths 8, 16, 32, reduction 4)
    extra = sum(2 * c * (c // 4) + c // 4 + c for c in (8, 16, 32))
    assert n_params(se) == n_params(base) + extra
    assert sum(isinstance(m, SEBlock) for m in se.modules()) == 3
    x = torch.randn(2, 1, 28, 28)
    assert attention_resnet(8, "cbam", width=8)(x).shape == (2, 10)
    se(x)
    maps = attention_maps(se)
    assert [tuple(v.shape) for v in maps.values()] == [(2, 8), (2, 16), (2, 32)]
    with pytest.raises(ValueError, match="Unknown attention"):
        attention_resnet(8, "transformer")
