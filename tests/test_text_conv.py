"""Direction-sensitive and deformable convolutions (notebook 11)."""
import pytest
import torch
import torch.nn as nn

from ocrlab.models.text_conv import DeformableConv2d, DirectionalConv2d, OrientedConv2d, TextConvNet, line_mask


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_line_masks():
    assert line_mask(3, 0).tolist() == [[0, 0, 0], [1, 1, 1], [0, 0, 0]]
    assert line_mask(3, 90).tolist() == [[0, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert line_mask(3, 45).tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]
    assert line_mask(5, 135).diagonal().sum() == 5


def test_oriented_conv_equals_1xk_conv():
    torch.manual_seed(0)
    oc = OrientedConv2d(3, 4, 5, angle=0)
    ref = nn.Conv2d(3, 4, (1, 5), padding=(0, 2))
    with torch.no_grad():
        ref.weight.copy_(oc.taps[:, :, None, :])
        ref.bias.copy_(oc.bias)
    x = torch.randn(2, 3, 9, 11)
    torch.testing.assert_close(oc(x), ref(x))
    assert n_params(oc) == 4 * 3 * 5 + 4


def test_directional_conv_shapes_params_errors():
    dc = DirectionalConv2d(8, 16, 5)
    assert dc(torch.randn(2, 8, 10, 10)).shape == (2, 16, 10, 10)
    assert n_params(dc) == 16 * 8 * 5 + 16
    with pytest.raises(ValueError, match="multiple of the number of angles"):
        DirectionalConv2d(8, 10, 5)
    with pytest.raises(ValueError, match="odd kernel_size"):
        OrientedConv2d(1, 1, 4)
    with pytest.raises(ValueError, match=r"expects \(N, 8, H, W\)"):
        dc(torch.randn(1, 3, 10, 10))


@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (1, 1, 1), (2, 1, 1), (1, 2, 2)])
def test_deformable_with_zero_offsets_equals_conv2d(stride, padding, dilation):
    torch.manual_seed(stride + padding)
    conv = nn.Conv2d(3, 5, 3, stride, padding, dilation)
    deform = DeformableConv2d.from_conv(conv)
    x = torch.randn(2, 3, 11, 9)
    torch.testing.assert_close(deform(x), conv(x))
    fresh = DeformableConv2d(3, 5, 3, stride, padding, dilation)  # offsets start at zero in a fresh layer too
    conv.weight.data, conv.bias.data = fresh.weight.data.clone(), fresh.bias.data.clone()
    torch.testing.assert_close(fresh(x), conv(x))
    assert n_params(fresh) == (5 * 3 * 9 + 5) + (18 * 3 * 9 + 18)


def test_deformable_offsets_move_the_taps():
    torch.manual_seed(0)
    deform = DeformableConv2d(2, 3, 3, padding=1)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    conv.weight.data, conv.bias.data = deform.weight.data.clone(), deform.bias.data.clone()
    with torch.no_grad():
        deform.offset.bias[0::2] = 1.0  # every tap reads one row lower (Δy = +1)
    x = torch.randn(1, 2, 8, 8)
    shifted = torch.zeros_like(x)
    shifted[:, :, :-1] = x[:, :, 1:]
    torch.testing.assert_close(deform(x)[:, :, 1:], conv(shifted)[:, :, 1:])
    pos = deform.sampling_positions(x)
    assert pos.shape == (1, 8, 8, 9, 2)
    assert pos[0, 0, 0, 0].tolist() == [0.0, -1.0]  # tap (0, 0) of output (0, 0): row −1 + 1, column −1


def test_deformable_gradients_reach_the_offsets():
    deform = DeformableConv2d(1, 2, 3, padding=1)
    deform(torch.randn(2, 1, 6, 6)).square().sum().backward()
    assert deform.offset.weight.grad.abs().sum() > 0


def test_deformable_rejects_bad_input():
    with pytest.raises(ValueError, match="odd kernel_size"):
        DeformableConv2d(1, 1, 2)
    with pytest.raises(ValueError, match=r"expects \(N, 3, H, W\)"):
        DeformableConv2d(3, 4, 3)(torch.randn(1, 1, 5, 5))


@pytest.mark.parametrize("kind", ["plain", "directional", "deformable"])
def test_text_conv_net(kind):
    assert TextConvNet(kind, num_classes=7, width=8)(torch.randn(2, 1, 28, 28)).shape == (2, 7)


def test_text_conv_net_rejects_unknown_kind():
    with pytest.raises(ValueError, match="conv must be"):
        TextConvNet("dilated")
