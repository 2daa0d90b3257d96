"""ocrlab.activations against PyTorch, and the exercise checks of notebooks 01–04 (right answers pass, wrong
answers get a hint instead of an exception)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ocrlab import activations as act
from ocrlab import checks, conv, shapes, strokes


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
    sig = act.layer_gradient_norms(act.deep_stack("sigmoid", depth=8, width=8), x, y)
    rel = act.layer_gradient_norms(act.deep_stack("relu", depth=8, width=8), x, y)
    assert len(sig) == 9 and sig[0] / sig[-2] < 1e-3 < rel[0] / rel[-2]


def test_dead_unit_fraction_and_sgd():
    model = act.mlp("relu", hidden=(4, 3), in_features=2, num_classes=2)
    with torch.no_grad():
        model[1].bias.copy_(torch.tensor([-100.0, -100.0, 100.0, 100.0]))
    fractions = act.dead_unit_fraction(model, torch.randn(20, 2))
    assert len(fractions) == 2 and fractions[0] == 0.5
    x, y = torch.randn(64, 2), torch.randint(2, (64,))
    assert act.sgd_steps(act.mlp("leaky_relu", (8,), 2, 2), x, y, lr=0.1, steps=3) > 0


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
