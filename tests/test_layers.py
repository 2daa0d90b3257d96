"""ocrlab.layers against their PyTorch twins, and the exercise checks of the backward-pass and layer lessons
(right answers pass, wrong answers and None get a hint instead of an exception)."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from ocrlab import checks, conv, layers


# ------------------------------------------------------------------------------------------------- BatchNorm2d
def test_batchnorm_matches_torch_in_training_and_eval():
    torch.manual_seed(0)
    mine, reference = layers.BatchNorm2d(3, momentum=0.2).double(), nn.BatchNorm2d(3, momentum=0.2).double()
    with torch.no_grad():  # non-trivial γ, β so that their gradients mean something
        reference.weight.copy_(torch.randn(3))
        reference.bias.copy_(torch.randn(3))
    mine.load_state_dict(reference.state_dict())
    for step in range(4):
        x = (1.5 + 2 * torch.randn(4, 3, 5, 6, dtype=torch.float64)).requires_grad_()
        grad_out = torch.randn(4, 3, 5, 6, dtype=torch.float64)
        got, expected = mine(x), reference(x)
        torch.testing.assert_close(got, expected)
        grads = torch.autograd.grad(got, (x, mine.weight, mine.bias), grad_out)
        expected_grads = torch.autograd.grad(expected, (x, reference.weight, reference.bias), grad_out)
        for g, e in zip(grads, expected_grads):
            torch.testing.assert_close(g, e)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(mine, name), getattr(reference, name))
    assert int(mine.num_batches_tracked) == 4
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(mine.eval()(x), reference.eval()(x))
    assert mine.state_dict().keys() == reference.state_dict().keys()


def test_batchnorm_running_var_is_unbiased_and_eval_uses_running_stats():
    x = torch.arange(8, dtype=torch.float64).view(2, 1, 2, 2)  # one channel, n = 8 values 0…7
    bn = layers.BatchNorm2d(1, momentum=1.0)  # momentum 1: the running stats become the batch's
    bn.double()(x)
    torch.testing.assert_close(bn.running_mean, x.mean().view(1))
    torch.testing.assert_close(bn.running_var, x.var(unbiased=True).view(1))
    torch.testing.assert_close(bn.eval()(x), (x - x.mean()) / torch.sqrt(x.var(unbiased=True) + 1e-5))


@pytest.mark.parametrize("call, match", [
    (lambda: layers.BatchNorm2d(3)(torch.zeros(2, 4, 5, 5)), "BatchNorm2d\\(3\\) expects input \\(N, 3, H, W\\) "
                                                              "with 3 channels, got \\(2, 4, 5, 5\\)"),
    (lambda: layers.BatchNorm2d(3)(torch.zeros(3, 5, 5)), "with 3 channels, got \\(3, 5, 5\\)"),
    (lambda: layers.BatchNorm2d(3)(torch.zeros(1, 3, 1, 1)), "more than one value per channel"),
    (lambda: layers.BatchNorm2d(0), "num_features must be a positive int"),
    (lambda: layers.BatchNorm2d(3, momentum=1.5), "momentum must be in \\[0, 1\\]"),
    (lambda: layers.Dropout(1.0), "p must be a number in \\[0, 1\\), got 1.0"),
    (lambda: layers.Dropout(-0.1), "got -0.1"),
    (lambda: layers.Dropout("0.5"), "got '0.5'"),
])
def test_layers_bad_input_raises_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------------------------------- Dropout
def test_dropout_eval_is_identity_and_p0_is_identity():
    x = torch.randn(4, 5)
    assert layers.Dropout(0.5).eval()(x) is x
    assert layers.Dropout(0.0).train()(x) is x


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_training_statistics_and_scaling(p):
    torch.manual_seed(0)
    x = torch.rand(200_000, dtype=torch.float64) + 0.5  # no zeros in the input
    out = layers.Dropout(p).train()(x)
    n = x.numel()
    zeros = int((out == 0).sum())
    assert abs(zeros - p * n) < 5 * math.sqrt(n * p * (1 - p))  # binomial: 5 standard deviations
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] / (1 - p))  # the same scaling as nn.Dropout
    reference = nn.Dropout(p).train()(x)
    torch.testing.assert_close(reference[reference != 0], x[reference != 0] / (1 - p))
    # expectation preserved: the mean over many draws of one small input approaches the input
    small = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    draws = layers.Dropout(p).train()(small.expand(100_000, 3))
    sd = small.abs() * math.sqrt(p / (1 - p) / 100_000)  # standard deviation of the mean of the draws
    assert ((draws.mean(0) - small).abs() < 5 * sd).all()


def test_dropout_uses_the_global_rng_like_nn_dropout():
    x = torch.ones(1000)
    torch.manual_seed(3)
    a = layers.Dropout(0.3)(x)
    torch.manual_seed(3)
    b = layers.Dropout(0.3)(x)
    torch.manual_seed(3)
    c = nn.Dropout(0.3)(x)
    torch.testing.assert_close(a, b)
    assert (a == 0).any() and not (a == 0).all()
    torch.testing.assert_close(a, c)  # same draws as PyTorch (bernoulli with 1 − p on the same generator)


# ------------------------------------------------------------------------------------------------------ checks
def _conv_backward_wrong_bias(x, w, grad_out, stride=1, padding=0):
    grad_x, grad_w, grad_b = conv.conv2d_backward(x, w, grad_out, stride, padding)
    return grad_x, grad_w, grad_out.sum(dim=(2, 3))[0]  # forgot to sum over the batch


def _pool_backward_overwrites(x, grad_out, k, stride=None):
    """A plausible mistake: each window's gradient overwrites instead of adding where windows overlap."""
    stride = stride or k
    grad = torch.zeros_like(x)
    n, c, ho, wo = grad_out.shape
    for i in range(ho):
        for j in range(wo):
            window = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k].reshape(n, c, -1)
            idx = window.argmax(-1)
            for b in range(n):
                for ch in range(c):
                    u, v = divmod(int(idx[b, ch]), k)
                    grad[b, ch, i * stride + u, j * stride + v] = grad_out[b, ch, i, j]
    return grad


class _BiasedRunningVar(layers.BatchNorm2d):
    def forward(self, x):
        out = super().forward(x)
        if self.training:  # undo the unbiased correction: the classic mistake
            n = x.shape[0] * x.shape[2] * x.shape[3]
            with torch.no_grad():
                var = x.var(dim=(0, 2, 3), unbiased=False)
                self.running_var.sub_(self.momentum * var * (n / (n - 1) - 1))
        return out


class _UnscaledDropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        return x * (torch.rand_like(x) >= self.p) if self.training else x


def test_backward_and_layer_checks(capsys):
    assert checks.check_conv2d_backward(conv.conv2d_backward)
    assert not checks.check_conv2d_backward(None)
    assert not checks.check_conv2d_backward(_conv_backward_wrong_bias)
    assert not checks.check_conv2d_backward(lambda x, w, g, stride, padding: (x, w))  # wrong type: 2-tuple
    assert not checks.check_conv2d_backward(lambda x, w, g, stride, padding: (x[..., :-1], w, g.sum((0, 2, 3))))

    assert checks.check_max_pool_backward(conv.max_pool2d_backward)
    assert checks.check_max_pool_backward(lambda x, g, k, stride: torch.autograd.grad(
        F.max_pool2d(x.requires_grad_(), k, stride), x, g)[0])
    assert not checks.check_max_pool_backward(None)
    assert not checks.check_max_pool_backward(_pool_backward_overwrites)
    assert not checks.check_max_pool_backward(lambda x, g, k, stride: g)  # wrong shape

    assert checks.check_batchnorm(layers.BatchNorm2d) and checks.check_batchnorm(nn.BatchNorm2d)
    assert not checks.check_batchnorm(None)
    assert not checks.check_batchnorm(_BiasedRunningVar)
    assert not checks.check_batchnorm(lambda c: nn.Identity())  # no running statistics

    torch.manual_seed(4)
    state = torch.get_rng_state()
    assert checks.check_dropout(layers.Dropout) and checks.check_dropout(nn.Dropout)
    assert torch.equal(torch.get_rng_state(), state)  # the learner's random stream is left alone
    assert not checks.check_dropout(None)
    assert not checks.check_dropout(_UnscaledDropout)
    assert not checks.check_dropout(lambda p: nn.Identity())
    assert not checks.check_dropout(lambda p: (lambda x: x[:10]))  # not a module: no .eval(), a hint
    out = capsys.readouterr().out
    assert out.count("✓") == 7 and "Hint:" in out and "UNBIASED" in out and "add (+=)" in out
