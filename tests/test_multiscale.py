"""Feature pyramid, dilated stacks and effective receptive fields (notebook 09)."""
import pytest
import torch
from torchvision.ops import FeaturePyramidNetwork

from ocrlab.models.multiscale import ResNetFPN, conv_stack, effective_receptive_field, radius_of_mass
from ocrlab.shapes import gradient_receptive_field


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_fpn_levels_shapes_and_params():
    m = ResNetFPN(num_classes=7, depth=8, width=8, fpn_channels=16)
    x = torch.randn(2, 1, 32, 32)
    levels = m.pyramid(x)
    assert {k: tuple(v.shape) for k, v in levels.items()} == {"p1": (2, 16, 32, 32), "p2": (2, 16, 16, 16),
                                                              "p3": (2, 16, 8, 8)}
    assert m(x).shape == (2, 7)
    fpn = FeaturePyramidNetwork([8, 16, 32], 16)
    assert n_params(m.fpn) == n_params(fpn) == sum(c * 16 + 16 + 9 * 16 * 16 + 16 for c in (8, 16, 32))


def test_fpn_rejects_wrong_channels():
    with pytest.raises(ValueError, match=r"expects images \(N, 1, H, W\), got shape \(1, 3, 32, 32\)"):
        ResNetFPN(in_channels=1)(torch.randn(1, 3, 32, 32))


def test_dilated_and_plain_stacks_equal_params_different_rf():
    plain, dilated = conv_stack(8, (1, 1, 1, 1)), conv_stack(8, (1, 2, 4, 8))
    assert n_params(plain) == n_params(dilated) == (1 * 9 * 8 + 8) + 3 * (8 * 9 * 8 + 8)
    assert plain(torch.zeros(1, 1, 20, 20)).shape == dilated(torch.zeros(1, 1, 20, 20)).shape == (1, 8, 20, 20)
    assert gradient_receptive_field(plain, 64) == (9, 9)
    assert gradient_receptive_field(dilated, 64) == (31, 31)
    with pytest.raises(ValueError, match="odd kernel_size"):
        conv_stack(8, (1, 2), kernel_size=4)


def test_effective_receptive_field_is_normalised_and_wider_when_dilated():
    e_plain = effective_receptive_field(conv_stack(4, (1, 1, 1, 1)), 48, trials=2)
    e_dil = effective_receptive_field(conv_stack(4, (1, 2, 4, 8)), 48, trials=2)
    assert e_plain.shape == (48, 48)
    assert abs(float(e_plain.sum()) - 1) < 1e-5
    assert (e_plain[:24 - 5].sum() == 0)  # nothing outside the 9×9 theoretical field
    assert radius_of_mass(e_dil) > 2 * radius_of_mass(e_plain)
