"""ocrlab.activations against PyTorch, and the exercise checks of notebooks 01–04 (right answers pass, wrong
answers get a hint instead of an exception)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

import pytest

from ocrlab import activations as act
from ocrlab import checks, conv, diagnostics, layers, shapes, strokes
from ocrlab.models import deep_stack, mlp


def test_activations_match_torch_values_and_gradients():
    reference = {"relu": F.relu, "leaky_relu": F.leaky_relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                 "gelu": F.gelu}
    x = torch.linspace(-6, 6, 121, dtype=torch.float64, requires_grad=True)
    for name, (fn, module) in act.ACTIVATIONS.items():
        torch.testing.assert_close(fn(x), reference[name](x))
        torch.testing.assert_close(torch.autograd.grad(fn(x).sum(), x)[0],
                                   torch.autograd.grad(reference[name](x).sum(), x)[0])
    y, dy = act.activation_curve("leaky_relu", torch.tensor([-1.0, 2.0]), 0.2)
    torch.testing.assert_close(dy, torch.tensor([0.2, 1.0], dtype=torch.float64))


def test_sigmoid_gradients_vanish_relu_gradients_do_not():
    torch.manual_seed(0)
    x, y = torch.randn(16, 1, 12, 12), torch.randint(10, (16,))
    sig = diagnostics.layer_gradient_norms(deep_stack("sigmoid", depth=8, width=8), x, y)
    rel = diagnostics.layer_gradient_norms(deep_stack("relu", depth=8, width=8), x, y)
    assert len(sig) == 9 and sig[0] / sig[-2] < 1e-3 < rel[0] / rel[-2]


def test_dead_unit_fraction_and_sgd():
    model = mlp("relu", hidden=(4, 3), in_features=4, num_classes=2)
    with torch.no_grad():
        model[1].bias.copy_(torch.tensor([-100.0, -100.0, 100.0, 100.0]))
    fractions = diagnostics.dead_unit_fraction(model, torch.randn(20, 1, 2, 2))
    assert len(fractions) == 2 and fractions[0] == 0.5
    # sgd_steps takes exactly `steps` plain SGD steps: the same as a hand-written loop over fit's batches
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(64, 1, 2, 2, generator=gen), torch.randint(2, (64,), generator=gen)
    net = mlp("leaky_relu", (8,), 4, 2)
    before = [p.detach().clone() for p in net.parameters()]
    first_loss = torch.nn.functional.cross_entropy(net(x), y).item()
    last = diagnostics.sgd_steps(net, x, y, lr=0.5, steps=25, batch_size=16)
    assert last < first_loss  # 25 steps on 64 points learn something
    moved = [float((p.detach() - b).norm()) for p, b in zip(net.parameters(), before)]
    assert min(moved) > 1e-4
    with pytest.raises(ValueError, match="steps must be ≥ 1"):
        diagnostics.sgd_steps(net, x, y, lr=0.1, steps=0)


def test_seeded_builders_leave_the_callers_random_numbers_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    deep_stack("relu", depth=2, seed=5), mlp("relu", (4,), 4, 2, seed=6)
    checks.check_identity_init(lambda model: None)
    torch.testing.assert_close(torch.rand(3), expected)
    torch.testing.assert_close(deep_stack("tanh", 3, seed=2)[0].weight, deep_stack("tanh", 3, seed=2)[0].weight)


def test_checks_accept_right_answers_and_hint_on_wrong_ones(capsys):
    assert checks.check_conv2d(lambda x, w, stride, padding: conv.conv2d(x, w, stride=stride, padding=padding))
    assert not checks.check_conv2d(lambda x, w, stride, padding: conv.convolve2d(x, w))  # raises inside: a hint
    assert checks.check_stroke_detector(strokes.KERNEL_PRESETS["vertical_stroke"], "vertical")
    assert not checks.check_stroke_detector(torch.ones(3, 3), "vertical")
    assert checks.check_param_count(1216, nn.Conv2d(3, 16, 5)) and not checks.check_param_count(1200, nn.Conv2d(3, 16, 5))
    assert checks.check_output_size(shapes.output_size)
    assert not checks.check_output_size(lambda h, k, s, p, d: (h + 2 * p - k) // s + 1)
    assert checks.check_receptive_field(7, [(3, 1)] * 3) and not checks.check_receptive_field(9, [(3, 1)] * 3)
    assert checks.check_pool(lambda x, k: conv.max_pool2d(x, k)) and checks.check_pool(conv.avg_pool2d, "avg")
    assert not checks.check_pool(lambda x, k: x, "max")
    assert checks.check_activation(act.sigmoid, "sigmoid") and not checks.check_activation(act.relu, "gelu")
    assert checks.check_dead_fraction(lambda p: (p <= 0).all(0).float().mean())
    assert not checks.check_dead_fraction(lambda p: (p <= 0).float().mean())
    out = capsys.readouterr().out
    assert "Hint:" in out and "✓" in out


# Every exercise check: the right answer passes; None, a wrong type/shape and a wrong value get a hint, never raise.
_RIGHT = {
    "check_conv2d": (lambda x, w, stride, padding: conv.conv2d(x, w, stride=stride, padding=padding),),
    "check_stroke_detector": (strokes.KERNEL_PRESETS["horizontal_stroke"],),
    "check_param_count": (1216, nn.Conv2d(3, 16, 5)),
    "check_output_size": (shapes.output_size,),
    "check_receptive_field": (7, [(3, 1)] * 3),
    "check_pool": (lambda x, k: conv.max_pool2d(x, k),),
    "check_activation": (act.sigmoid, "sigmoid"),
    "check_dead_fraction": (lambda p: (p <= 0).all(0).float().mean(),),
    "check_conv_macs": (lambda c_in, c_out, k, h, w: c_in * c_out * k * k * h * w,),
    "check_segments": (lambda line: __import__("ocrlab.reading").reading.segment_columns(line),),
    "check_stack_params": (lambda c: (18 * c * c, 25 * c * c),),
    "check_identity_init": (lambda m: [torch.nn.init.zeros_(b.bn2.weight) for b in m.modules()
                                       if isinstance(b, __import__("ocrlab.models").models.BasicBlock)],),
    "check_dense_channels": (lambda c, k, n: c + k * n,),
    "check_conv2d_backward": (conv.conv2d_backward,),
    "check_max_pool_backward": (conv.max_pool2d_backward,),
    "check_batchnorm": (layers.BatchNorm2d,),
    "check_dropout": (layers.Dropout,),
    "check_dilated_receptive_field": (lambda k, dilations: 1 + sum(d * (k - 1) for d in dilations),),
    "check_se_parameters": (lambda c, r: 2 * c * (c // r) + c // r + c,),
    "check_sampling_grid": (lambda row, col, k, s, p, d: __import__("ocrlab.models").models.DeformableConv2d(
        1, 1, k, s, p, d).sampling_positions(torch.zeros(1, 1, 16, 16))[0, row, col],),
}
_WRONG_SHAPE = {"check_stack_params": (lambda c: (1, 2, 3),), "check_dead_fraction": (lambda p: torch.zeros(4),),
                "check_stroke_detector": (torch.ones(2, 2),), "check_param_count": ([1, 2], nn.Conv2d(3, 16, 5)),
                "check_segments": (lambda line: 7,), "check_sampling_grid": (lambda *args: None,),
                "check_se_parameters": (lambda c, r: [c, r],), "check_receptive_field": ("seven", [(3, 1)] * 3)}


@pytest.mark.parametrize("name", sorted(_RIGHT))
def test_every_check_passes_the_right_answer_and_hints_on_none_and_wrong_shapes(name, capsys):
    check = getattr(checks, name)
    right = _RIGHT[name]
    assert check(*right) is True
    assert check(None, *right[1:]) is False
    if name in _WRONG_SHAPE:
        assert check(*_WRONG_SHAPE[name]) is False
    out = capsys.readouterr().out
    assert out.count("Hint:") >= 1 and "✓" in out


def test_all_checks_are_covered():
    public = {n for n in dir(checks) if n.startswith("check_")}
    assert public == set(_RIGHT), f"add the new checks to _RIGHT: {public - set(_RIGHT)}"


def test_deep_stack_init_option_sets_the_weight_variance():
    # the stack's 16→16 convs: fan_in = fan_out = 9·16 = 144
    n = 9 * 16
    expected = {"xavier": 2 / (n + n), "he": 2 / n, "default": 1 / (3 * n), 0.01: 0.01 ** 2}
    for init, var in expected.items():
        w = torch.cat([m.weight.detach().flatten() for m in deep_stack("relu", depth=6, init=init)[2:12:2]])
        assert abs(float(w.var()) / var - 1) < 0.1, (init, float(w.var()), var)
    # None picks the textbook init: Xavier for tanh/sigmoid, He for the ReLU family
    torch.testing.assert_close(deep_stack("tanh", 3)[2].weight, deep_stack("tanh", 3, init="xavier")[2].weight)
    torch.testing.assert_close(deep_stack("relu", 3)[2].weight, deep_stack("relu", 3, init="he")[2].weight)
    assert not torch.equal(deep_stack("relu", 3)[2].weight, deep_stack("relu", 3, init="xavier")[2].weight)
    for bad in ("kaiming", -0.1, True):
        with pytest.raises(ValueError, match="init must be"):
            deep_stack("relu", 3, init=bad)


def test_activation_stds_and_per_weight_gradient_norms():
    x = torch.randn(32, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    he = diagnostics.activation_stds(deep_stack("relu", depth=10, width=32, init="he"), x)
    small = diagnostics.activation_stds(deep_stack("relu", depth=10, width=32, init=0.01), x)
    assert len(he) == 10 and max(he) / min(he) < 10 and small[-1] / small[0] < 1e-6
    model = deep_stack("relu", depth=3, width=8)
    y = torch.randint(10, (32,))
    norms, rms = (diagnostics.layer_gradient_norms(model, x, y, per_weight=p) for p in (False, True))
    sizes = [m.weight.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(rms) == 4 and all(abs(r * s ** 0.5 - n) < 1e-6 * n for r, n, s in zip(rms, norms, sizes))
