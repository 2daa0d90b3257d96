"""ocrlab.conv against PyTorch: same results, same shapes, same gradients, clear errors on bad input."""
import itertools
import random

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from ocrlab import conv, shapes, strokes


def _random_conv_case(rng: random.Random):
    groups = rng.choice([1, 1, 2, 3])
    c_in, c_out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    stride = rng.choice([1, 2, 3, (1, 2), (2, 1)])
    dilation = rng.choice([1, 1, 2, (1, 2)])
    padding = rng.choice([0, 1, 2, (0, 1), (2, 0)])
    h, w = rng.randint(6, 12), rng.randint(6, 12)
    return dict(x=(rng.randint(1, 3), c_in, h, w), w=(c_out, c_in // groups, kh, kw), stride=stride,
                padding=padding, dilation=dilation, groups=groups, bias=rng.random() < 0.7)


@pytest.mark.parametrize("seed", range(40))
def test_conv2d_matches_torch_on_random_settings(seed):
    case = _random_conv_case(random.Random(seed))
    torch.manual_seed(seed)
    x, w = torch.randn(case["x"]), torch.randn(case["w"])
    b = torch.randn(case["w"][0]) if case["bias"] else None
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    expected = F.conv2d(x, w, b, **kw)
    torch.testing.assert_close(conv.conv2d(x, w, b, **kw), expected)
    if seed < 8:  # the loop version is slow: a few cases suffice
        torch.testing.assert_close(conv.conv2d_loops(x, w, b, **kw), expected)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_string_padding(padding):
    torch.manual_seed(1)
    x, w = torch.randn(2, 2, 9, 8), torch.randn(4, 2, 4, 3)
    torch.testing.assert_close(conv.conv2d(x, w, padding=padding, dilation=(1, 2)),
                               F.conv2d(x, w, padding=padding, dilation=(1, 2)))


def test_conv2d_unbatched_input():
    x, w = torch.randn(3, 7, 7), torch.randn(2, 3, 3, 3)
    torch.testing.assert_close(conv.conv2d(x, w, padding=1), F.conv2d(x, w, padding=1))


def test_conv2d_gradcheck_float64():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 6, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: conv.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2),
                                                                groups=2), (x, w, b))


def test_convolve2d_flips_the_kernel():
    torch.manual_seed(0)
    image, kernel = torch.randn(7, 6, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    # The definition: (I*K)(i, j) = Σ_m Σ_n I(m, n) K(i − m, j − n), 'full' output.
    full = torch.zeros(7 + 3 - 1, 6 + 2 - 1, dtype=torch.float64)
    for i, j, m, n in itertools.product(range(9), range(7), range(7), range(6)):
        if 0 <= i - m < 3 and 0 <= j - n < 2:
            full[i, j] += image[m, n] * kernel[i - m, j - n]
    torch.testing.assert_close(conv.convolve2d(image, kernel, mode="full"), full)
    torch.testing.assert_close(conv.convolve2d(image, kernel), full[2:7, 1:6])  # 'valid'
    torch.testing.assert_close(conv.convolve2d(image, kernel, mode="same"), full[1:8, 0:6])
    # Cross-correlation with the flipped kernel is the same thing; with the unflipped one it is not.
    xcorr = F.conv2d(image[None, None], kernel[None, None])[0, 0]
    assert not torch.allclose(conv.convolve2d(image, kernel), xcorr)
    torch.testing.assert_close(conv.convolve2d(image, kernel.flip(0, 1)), xcorr)


@pytest.mark.parametrize("seed", range(12))
def test_pools_match_torch(seed):
    rng = random.Random(seed)
    torch.manual_seed(seed)
    k = rng.choice([2, 3, (2, 3)])
    s = rng.choice([None, 1, 2, (1, 2)])
    kk = (k, k) if isinstance(k, int) else k
    p = rng.choice([0, 1]) if min(kk) >= 2 else 0
    x = torch.randn(2, 3, rng.randint(5, 10), rng.randint(5, 10))
    torch.testing.assert_close(conv.max_pool2d(x, k, s, p), F.max_pool2d(x, k, s, p))
    torch.testing.assert_close(conv.avg_pool2d(x, k, s, p), F.avg_pool2d(x, k, s, p))
    torch.testing.assert_close(conv.avg_pool2d(x, k, s, p, count_include_pad=False),
                               F.avg_pool2d(x, k, s, p, count_include_pad=False))
    torch.testing.assert_close(conv.max_pool2d(x, 3, 1, 1, dilation=2), F.max_pool2d(x, 3, 1, 1, dilation=2))


def test_output_size_matches_torch_on_exhaustive_grid():
    checked = 0
    for h, k, s, p, d in itertools.product(range(1, 9), range(1, 5), range(1, 4), range(0, 3), range(1, 3)):
        effective = d * (k - 1) + 1
        if effective > h + 2 * p:
            with pytest.raises(ValueError, match="larger than the padded input"):
                shapes.output_size(h, k, s, p, d)
            continue
        shape = F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape
        assert shapes.output_size(h, k, s, p, d) == shape[-1], (h, k, s, p, d)
        unreached = (h + 2 * p - effective) % s  # padded rows after the last window; only image ones count
        assert shapes.dropped_pixels(h, k, s, p, d) == max(0, unreached - p)
        checked += 1
    assert checked > 400


def test_transposed_output_size_matches_conv_transpose():
    for h, k, s, p, d in itertools.product(range(1, 6), range(1, 4), range(1, 4), range(0, 2), range(1, 3)):
        for op in range(max(s, d)):
            expected = (h - 1) * s - 2 * p + d * (k - 1) + op + 1
            if expected < 1:
                with pytest.raises(ValueError, match="less padding"):
                    shapes.transposed_output_size(h, k, s, p, op, d)
                continue
            layer = nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d)
            assert shapes.transposed_output_size(h, k, s, p, op, d) == layer(torch.zeros(1, 1, h, h)).shape[-1]


def _uncovered_image_rows(h, k, s, p, d, tail_only=False):
    """Brute force: mark the padded rows inside any window's span, count the image rows left unmarked (only those
    after the last marked row with ``tail_only``)."""
    covered = [False] * (h + 2 * p)
    for start in range(0, h + 2 * p - d * (k - 1), s):
        for row in range(start, start + d * (k - 1) + 1):
            covered[row] = True
    last = max(i for i, c in enumerate(covered) if c)
    return sum(not c for i, c in enumerate(covered) if p <= i < p + h and (i > last or not tail_only))


def test_dropped_pixels_and_same_padding():
    assert shapes.output_size(28, 3, 2) == 13 and shapes.dropped_pixels(28, 3, 2) == 1
    assert shapes.dropped_pixels(28, 3, 2, 1) == 0  # ResNet's downsampler sees every image pixel
    assert shapes.dropped_pixels(28, 5, 3) == 2
    for setting, expected in [((28, 3, 2, 1), 0), ((28, 3, 2, 0), 1), ((28, 5, 3, 0), 2)]:
        assert shapes.dropped_pixels(*setting) == _uncovered_image_rows(*setting, 1) == expected
    assert shapes.dropped_pixels(28, 2, 2) == 0
    assert shapes.same_padding(5) == 2 and shapes.same_padding(3, dilation=2) == 2
    with pytest.raises(ValueError, match="D·\\(F−1\\) even"):
        shapes.same_padding(4)


def test_dropped_pixels_matches_brute_force_coverage():
    checked = 0
    for h, k, s, p, d in itertools.product(range(1, 12), range(1, 6), range(1, 5), range(0, 3), range(1, 3)):
        if d * (k - 1) + 1 > h + 2 * p:
            continue
        dropped = shapes.dropped_pixels(h, k, s, p, d)
        assert dropped == _uncovered_image_rows(h, k, s, p, d, tail_only=True), (h, k, s, p, d)
        if s <= d * (k - 1) + 1:  # windows leave no gaps between them: the tail is all that is missed
            assert dropped == _uncovered_image_rows(h, k, s, p, d), (h, k, s, p, d)
        checked += 1
    assert checked > 1000
    assert shapes.dropped_pixels(5, 1, 2) == 0 and _uncovered_image_rows(5, 1, 2, 0, 1) == 2  # 1×1, stride 2: gaps


def test_explain_output_size_flags_only_image_pixels():
    resnet = shapes.explain_output_size(28, 3, 2, 1)
    assert resnet.dropped == 0 and "dropped" not in resnet.message  # only padding unreached: nothing to say
    lenet = shapes.explain_output_size(28, 5, 3)
    assert lenet.dropped == 2 and "the last 2 image row(s)/column(s) are never seen" in lenet.message


def test_receptive_field_matches_gradient():
    stacks = [
        nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.ReLU(), nn.Conv2d(2, 1, 3)),
        nn.Sequential(nn.Conv2d(1, 2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 2, 5), nn.ReLU(),
                      nn.MaxPool2d(2)),
        nn.Sequential(nn.Conv2d(1, 2, 3, dilation=1), nn.Conv2d(2, 2, 3, dilation=2), nn.Conv2d(2, 1, 3, dilation=4)),
        nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.BatchNorm2d(2), nn.Conv2d(2, 2, 3, stride=2),
                      nn.AvgPool2d(3, 1, 1)),
    ]
    for model in stacks:
        rf = shapes.receptive_field(model)
        assert shapes.gradient_receptive_field(model.eval(), input_size=72) == (rf.size, rf.size)
    assert shapes.receptive_field([(3, 1)] * 3).size == 7
    rf = shapes.receptive_field([(5, 1), (2, 2), (5, 1), (2, 2)])  # LeNet-5's feature extractor
    assert (rf.size, rf.jump) == (16, 4) and len(rf.layers) == 4 and "RF" in rf.table()


def test_filter_image_and_presets():
    from ocrlab.synth import render_character

    image = render_character("I")  # a vertical bar
    vertical = strokes.filter_image(image, strokes.KERNEL_PRESETS["vertical_stroke"])
    horizontal = strokes.filter_image(image, strokes.KERNEL_PRESETS["horizontal_stroke"])
    assert vertical.shape == image.shape
    assert vertical.clamp(min=0).sum() > 3 * horizontal.clamp(min=0).sum()  # total positive response
    torch.testing.assert_close(strokes.filter_image(image, strokes.KERNEL_PRESETS["identity"]), image.float() / 255)
    for name, kernel in strokes.KERNEL_PRESETS.items():
        assert kernel.shape[0] == kernel.shape[1] in (3, 5), name


def test_macs():
    assert shapes.conv2d_macs((1, 1, 28, 28), (6, 1, 5, 5), padding=2) == 6 * 28 * 28 * 25


# -------------------------------------------------------------------------------------------------- backward
def _random_backward_case(rng: random.Random):
    while True:
        groups = rng.choice([1, 2])
        c_in, c_out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        k = (rng.randint(1, 4), rng.randint(1, 4))
        stride, padding, dilation = [(rng.randint(lo, hi), rng.randint(lo, hi)) for lo, hi in ((1, 3), (0, 2), (1, 2))]
        if rng.random() < 0.3:  # sometimes ints, as most callers pass them
            stride, padding, dilation = stride[0], padding[0], dilation[0]
        h, w = rng.randint(4, 11), rng.randint(4, 11)
        pad = conv._pair(padding, "padding", 0)
        dil = conv._pair(dilation, "dilation")
        if all(dil[i] * (k[i] - 1) + 1 <= (h, w)[i] + 2 * pad[i] for i in (0, 1)):
            return dict(x=(rng.randint(1, 3), c_in, h, w), w=(c_out, c_in // groups, *k), stride=stride,
                        padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("seed", range(60))
def test_conv2d_backward_matches_autograd(seed):
    case = _random_backward_case(random.Random(seed))
    torch.manual_seed(seed)
    x = torch.randn(case["x"], dtype=torch.float64, requires_grad=True)
    w = torch.randn(case["w"], dtype=torch.float64, requires_grad=True)
    b = torch.randn(case["w"][0], dtype=torch.float64, requires_grad=True)
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    out = F.conv2d(x, w, b, **kw)
    grad_out = torch.randn_like(out)
    expected = torch.autograd.grad(out, (x, w, b), grad_out)
    got = conv.conv2d_backward(x.detach(), w.detach(), grad_out, **kw)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


def test_conv2d_backward_unused_rows_get_zero_and_unbatched_input():
    torch.manual_seed(0)
    x, w = torch.randn(2, 9, 8, dtype=torch.float64), torch.randn(3, 2, 3, 3, dtype=torch.float64)
    grad_out = torch.randn(3, 4, 2, dtype=torch.float64)  # rows ⌊(9 − 3)/2⌋ + 1 = 4, columns ⌊(8 − 3)/3⌋ + 1 = 2
    grad_x, grad_w, grad_b = conv.conv2d_backward(x, w, grad_out, stride=(2, 3))
    assert grad_x.shape == x.shape and grad_w.shape == w.shape and grad_b.shape == (3,)
    assert grad_x[..., -2:].abs().sum() == 0 < grad_x[..., -3].abs().sum()  # windows end at column 5: 6, 7 unseen
    xr = x.clone().requires_grad_()
    F.conv2d(xr, w, stride=(2, 3)).backward(grad_out)
    torch.testing.assert_close(grad_x, xr.grad)


def test_conv2d_backward_gradcheck_of_its_own_gradient():
    """The backward is itself differentiable tensor code: gradcheck it as a function of grad_out and weight."""
    torch.manual_seed(1)
    x = torch.randn(1, 2, 5, 6, dtype=torch.float64)
    w = torch.randn(2, 1, 2, 3, dtype=torch.float64, requires_grad=True)
    go = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w, go: conv.conv2d_backward(x, w, go, stride=2, padding=1, groups=2)[0],
                                    (w, go))


@pytest.mark.parametrize("seed", range(12))
def test_max_pool2d_backward_matches_autograd(seed):
    rng = random.Random(seed)
    torch.manual_seed(seed)
    k, s, p = rng.choice([(2, None, 0), (3, 2, 0), (3, 2, 1), (2, 1, 1), ((3, 2), (2, 1), (1, 0)), (3, 3, 1)])
    x = torch.randn(rng.randint(1, 2), 3, rng.randint(5, 11), rng.randint(5, 11), dtype=torch.float64,
                    requires_grad=True)  # continuous values: no ties
    out = F.max_pool2d(x, k, s, p)
    grad_out = torch.randn_like(out)
    expected = torch.autograd.grad(out, x, grad_out)[0]
    torch.testing.assert_close(conv.max_pool2d_backward(x.detach(), grad_out, k, s, p), expected)
    dilated = F.max_pool2d(x, 3, 1, 1, dilation=2)
    expected = torch.autograd.grad(dilated, x, torch.ones_like(dilated))[0]
    torch.testing.assert_close(conv.max_pool2d_backward(x.detach(), torch.ones_like(dilated), 3, 1, 1, 2), expected)


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)])
def test_max_pool2d_backward_ties_go_to_the_first_max_like_pytorch(k, s, p):
    torch.manual_seed(0)
    for x in (torch.zeros(1, 1, 6, 7, dtype=torch.float64), torch.randint(0, 2, (2, 2, 7, 6)).double()):
        xr = x.clone().requires_grad_()
        out = F.max_pool2d(xr, k, s, p)
        grad_out = torch.randn_like(out)
        out.backward(grad_out)
        torch.testing.assert_close(conv.max_pool2d_backward(x, grad_out, k, s, p), xr.grad)
        torch.testing.assert_close(conv.max_pool2d_backward(x[0], grad_out[0], k, s, p), xr.grad[0])  # unbatched


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call, match", [
    (lambda: conv.conv2d(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 5, 5)), "5×5 is larger than the padded input 4×4"),
    (lambda: conv.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), dilation=3),
     "window 7×7 \\(kernel 3×3 with dilation 3×3\\)"),
    (lambda: conv.conv2d(torch.zeros(1, 3, 6, 6), torch.zeros(2, 3, 3, 3)), None),  # valid: control case
    (lambda: conv.conv2d(torch.zeros(1, 3, 6, 6), torch.zeros(2, 1, 3, 3), groups=2),
     "input channels \\(3\\) must be divisible by groups \\(2\\)"),
    (lambda: conv.conv2d(torch.zeros(1, 4, 6, 6), torch.zeros(3, 2, 3, 3), groups=2),
     "output channels of the weight \\(3\\) must be divisible by groups \\(2\\)"),
    (lambda: conv.conv2d(torch.zeros(1, 4, 6, 6), torch.zeros(2, 3, 3, 3)),
     "weight expects 3 input channels .* input has 4 channels"),
    (lambda: conv.conv2d(torch.zeros(6, 6), torch.zeros(1, 1, 3, 3)), "4 dimensions \\(N, C, H, W\\).*got 2"),
    (lambda: conv.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(3, 3)), "weight must have 4 dimensions"),
    (lambda: conv.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), stride=0), "stride must be positive, got 0"),
    (lambda: conv.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), dilation=(1, -1)), "dilation must be positive"),
    (lambda: conv.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), padding=-1), "padding must be ≥ 0"),
    (lambda: conv.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), groups=0), "groups must be a positive"),
    (lambda: conv.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), stride=2, padding="same"), "needs stride 1"),
    (lambda: conv.max_pool2d(torch.zeros(1, 1, 2, 2), 3), "Max-pooling window 3×3 is larger"),
    (lambda: conv.max_pool2d(torch.zeros(1, 1, 8, 8), 2, padding=2), "at most half the kernel size"),
    (lambda: conv.avg_pool2d(torch.zeros(8, 8), 2), "4 dimensions .* or 3"),
    (lambda: shapes.output_size(5, 7), "effective size 7 is larger than the padded input 5 \\+ 2·0 = 5"),
    (lambda: shapes.output_size(5, 3, dilation=3), "effective size 7 \\(kernel 3 with dilation 3\\)"),
    (lambda: shapes.output_size(0, 3), "input size must be positive, got 0"),
    (lambda: shapes.output_size(5, 3, stride=0), "stride must be positive, got 0"),
    (lambda: shapes.output_size(5, 3, padding=-1), "padding must be ≥ 0, got -1"),
    (lambda: shapes.output_size(5, 3, dilation=0), "dilation must be positive, got 0"),
    (lambda: shapes.transposed_output_size(5, 3, stride=2, output_padding=2), "output_padding \\(2\\) must be smaller"),
    (lambda: shapes.receptive_field([nn.Conv2d(1, 1, 3), nn.Flatten()]), "layer 1 \\(Flatten\\) has no receptive"),
    (lambda: conv.convolve2d(torch.zeros(2, 2), torch.zeros(3, 3)), "kernel 3×3 is larger than the image 2×2"),
    (lambda: conv.convolve2d(torch.zeros(5, 5), torch.zeros(3, 3), mode="circular"), "mode must be"),
    (lambda: conv.conv2d_backward(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3)),
     "grad_out must have the shape of the forward output \\(1, 1, 4, 4\\).*got \\(1, 1, 3, 3\\)"),
    (lambda: conv.conv2d_backward(torch.zeros(1, 1, 7, 7), torch.zeros(2, 1, 3, 3), torch.zeros(1, 2, 3, 3), stride=2),
     None),  # valid: 7 rows, kernel 3, stride 2 → 3
    (lambda: conv.conv2d_backward(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), torch.zeros(4, 4)),
     "grad_out must have the shape"),
    (lambda: conv.conv2d_backward(torch.zeros(6, 6), torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 4, 4)),
     "4 dimensions \\(N, C, H, W\\).*got 2"),
    (lambda: conv.conv2d_backward(torch.zeros(1, 3, 6, 6), torch.zeros(2, 1, 3, 3), torch.zeros(1, 2, 4, 4), groups=2),
     "input channels \\(3\\) must be divisible by groups \\(2\\)"),
    (lambda: conv.conv2d_backward(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), None), "must be a torch.Tensor"),
    (lambda: conv.conv2d_backward(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 6, 6),
                                  padding="same"), "padding as an int or a pair"),
    (lambda: conv.max_pool2d_backward(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 2, 2), 2),
     "grad_out must have the shape of the pooled output \\(1, 1, 3, 3\\)"),
    (lambda: conv.max_pool2d_backward(torch.zeros(1, 1, 7, 7), torch.zeros(1, 1, 3, 3), 3, 2), None),  # valid
    (lambda: conv.max_pool2d_backward(torch.zeros(6, 6), torch.zeros(3, 3), 2), "4 dimensions .* or 3"),
    (lambda: conv.max_pool2d_backward(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), 2, padding=2),
     "at most half the kernel size"),
])
def test_bad_input_raises_clear_value_error(call, match):
    if match is None:
        call()
        return
    with pytest.raises(ValueError, match=match):
        call()
