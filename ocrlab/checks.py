"""Exercise checks (CS231n style): each ``check_*`` function prints ✓ on success or a hint on failure.

They return True/False so a notebook can ``assert`` on them; they never raise for a wrong answer, because a
learner's first attempt should get a hint, not a stack trace.
"""
from __future__ import annotations


def report(passed: bool, name: str, hint: str) -> bool:
    """Print the outcome of one exercise check and return it."""
    if passed:
        print(f"✓ {name}: correct.")
    else:
        print(f"✗ {name}: not yet. Hint: {hint}")
    return bool(passed)


# ------------------------------------------------------------------ notebooks 01–04: convolution, sizes, pooling
def _describe(value) -> str:
    """A short description of a learner's answer for a hint: its type, and its shape or length."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    return repr(value) if isinstance(value, (int, float, str, type(None))) else type(value).__name__


def matches(got, expected, tol: float = 1e-6) -> tuple[bool, str]:
    """Compare a learner's answer with the expected one without ever raising.

    Numbers compare within ``tol``; sequences (lists, tuples, 1-D tensors) element by element; tensors by shape,
    then values. Returns ``(ok, what_was_given)`` so a check can put the second part in its hint.
    """
    import torch

    try:
        if isinstance(expected, torch.Tensor):
            ok = (isinstance(got, torch.Tensor) and got.shape == expected.shape
                  and torch.allclose(got.detach().to(expected.dtype), expected, atol=tol, rtol=tol))
        elif isinstance(expected, (list, tuple)):
            items = got.tolist() if isinstance(got, torch.Tensor) else got
            ok = (isinstance(items, (list, tuple)) and len(items) == len(expected)
                  and all(matches(g, e, tol)[0] for g, e in zip(items, expected)))
        elif isinstance(expected, bool) or not isinstance(expected, (int, float)):
            ok = got == expected
        else:
            if isinstance(got, torch.Tensor) and got.numel() == 1:
                got = got.item()
            ok = (isinstance(got, (int, float)) and not isinstance(got, bool)
                  and abs(float(got) - float(expected)) <= tol * max(1.0, abs(float(expected))))
    except Exception:  # noqa: BLE001 - a strange answer is a hint, never a crash
        ok = False
    return bool(ok), _describe(got)


def _try(fn, *args, **kwargs):
    """Call a learner's function; an exception becomes (None, message) so the check can hint instead of crash."""
    try:
        return fn(*args, **kwargs), None
    except Exception as err:  # noqa: BLE001 - any error in a learner's code is a hint, not a crash
        return None, f"{type(err).__name__}: {err}"


def check_conv2d(fn) -> bool:
    """``fn(x, weight, stride=, padding=)`` must equal ``torch.nn.functional.conv2d`` on random batched inputs."""
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(7)
    for shape, wshape, stride, padding in [((1, 1, 6, 6), (1, 1, 3, 3), 1, 0), ((2, 3, 7, 5), (4, 3, 3, 2), 2, 1),
                                           ((1, 2, 8, 8), (3, 2, 1, 1), 3, 0)]:
        x, w = torch.randn(shape, generator=gen), torch.randn(wshape, generator=gen)
        got, err = _try(fn, x, w, stride=stride, padding=padding)
        expected = F.conv2d(x, w, stride=stride, padding=padding)
        if err:
            return report(False, "conv2d", f"it raised {err} for x {shape}, weight {wshape}, stride {stride}, "
                                            f"padding {padding}")
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            return report(False, "conv2d", f"for x {shape}, weight {wshape}, stride {stride}, padding {padding} the "
                          f"output shape should be {tuple(expected.shape)}, got "
                          f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}")
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-4):
            return report(False, "conv2d", "right shape, wrong values: do you multiply x_pad[..., i·s + u, j·s + v] "
                          "by weight[o, c, u, v] (no kernel flip) and sum over c, u and v?")
    return report(True, "conv2d", "")


def check_stroke_detector(kernel, orientation: str = "horizontal") -> bool:
    """A 3×3 kernel that responds (after ReLU) at least 3× more to a stroke of ``orientation`` than across it."""
    import torch

    from .strokes import filter_image

    name = f"{orientation} stroke detector"
    given = _describe(kernel)
    kernel, err = _try(torch.as_tensor, kernel, dtype=torch.float32)
    if err or kernel.shape != (3, 3):
        return report(False, name, f"give a 3×3 kernel (a tensor or nested list), got {given}")
    bar = torch.zeros(15, 15)
    bar[7, 3:12] = 1.0  # a horizontal stroke
    along, across = (bar, bar.T) if orientation == "horizontal" else (bar.T, bar)
    r_along = float(filter_image(along, kernel).clamp(min=0).sum())
    r_across = float(filter_image(across, kernel).clamp(min=0).sum())
    if r_along <= 0:
        return report(False, name, "it gives no positive response on the stroke: put positive weights along the "
                      "stroke's direction (the middle row for horizontal, the middle column for vertical)")
    ok = r_along >= 3 * r_across and abs(float(kernel.sum())) < 0.5 * float(kernel.abs().sum())
    return report(ok, name, f"response along {r_along:.2f} vs across {r_across:.2f}: make the weights beside the "
                  "stroke negative so that flat regions and perpendicular strokes cancel (weights summing to ~0)")


def check_param_count(answer, layer) -> bool:
    """``answer`` must equal the number of learnable parameters of ``layer`` (weights and biases)."""
    expected = sum(p.numel() for p in layer.parameters())
    hint = ("a Conv2d has C_out · (C_in / groups) · kH · kW weights plus C_out biases; a Linear has "
            "in · out weights plus out biases")
    return report(matches(answer, expected)[0], f"parameter count of {layer}", f"{hint} (you said {answer})")


def check_output_size(fn) -> bool:
    """``fn(size, kernel, stride, padding, dilation)`` must give PyTorch's output length on a grid of settings."""
    import itertools

    import torch
    import torch.nn.functional as F

    for h, k, s, p, d in itertools.product((5, 8, 13), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2)):
        if d * (k - 1) + 1 > h + 2 * p:
            continue
        expected = F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
        got, err = _try(fn, h, k, s, p, d)
        if err or not matches(got, expected)[0]:
            return report(False, "output_size", f"for H={h}, F={k}, S={s}, P={p}, D={d} PyTorch gives {expected}, "
                          f"you gave {err or got}: remember the floor (//) and the dilated size D·(F−1)+1")
    return report(True, "output_size", "")


def check_receptive_field(answer, layers) -> bool:
    """``answer`` must be the receptive field size of ``layers`` (modules or (kernel, stride, dilation) tuples)."""
    from .shapes import receptive_field

    rf = receptive_field(layers)
    return report(matches(answer, rf.size)[0], "receptive field", f"you said {answer}. Go layer by layer from r = 1, j = 1: "
                  "r ← r + (k − 1)·d·j, then j ← j·s (the jump grows with every stride)")


def check_pool(fn, kind: str = "max") -> bool:
    """``fn(x, k)`` must equal ``F.max_pool2d(x, k)`` (or ``avg_pool2d``) for k×k windows with stride k."""
    import torch
    import torch.nn.functional as F

    reference = F.max_pool2d if kind == "max" else F.avg_pool2d
    gen = torch.Generator().manual_seed(3)
    for shape, k in [((1, 1, 4, 4), 2), ((2, 3, 9, 7), 2), ((1, 2, 12, 12), 3)]:
        x = torch.randn(shape, generator=gen)
        got, err = _try(fn, x, k)
        expected = reference(x, k)
        if err or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            return report(False, f"{kind} pooling", f"for x {shape} and k={k} expected shape {tuple(expected.shape)}, "
                          f"got {err or (tuple(got.shape) if isinstance(got, torch.Tensor) else got)}: crop to a "
                          "multiple of k first (x[..., :H//k*k, :W//k*k]), then reshape to (N, C, H//k, k, W//k, k)")
        if not torch.allclose(got, expected, atol=1e-5):
            return report(False, f"{kind} pooling", "right shape, wrong values: reduce over the two k-sized axes")
    return report(True, f"{kind} pooling", "")


def check_activation(fn, name: str) -> bool:
    """``fn(x)`` must equal the PyTorch activation ``name`` ('relu', 'leaky_relu' (slope 0.01), 'sigmoid',
    'tanh', 'gelu') on random inputs, including its gradient."""
    import torch
    import torch.nn.functional as F

    reference = {"relu": F.relu, "leaky_relu": F.leaky_relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                 "gelu": F.gelu}[name]
    x = torch.linspace(-5, 5, 101, dtype=torch.float64, requires_grad=True)
    got, err = _try(fn, x)
    if err or not isinstance(got, torch.Tensor):
        return report(False, name, f"it should return a tensor, got {err or type(got).__name__}")
    if not torch.allclose(got, reference(x), atol=1e-6):
        return report(False, name, "values differ from PyTorch's; check the formula on negative inputs")
    grad = torch.autograd.grad(got.sum(), x)[0]
    expected = torch.autograd.grad(reference(x).sum(), x)[0]
    return report(torch.allclose(grad, expected, atol=1e-6), name,
                  "values are right but the gradient is not: build it from differentiable torch operations")


def check_dead_fraction(fn) -> bool:
    """``fn(pre_activations (N, units))`` must return the fraction of units that are ≤ 0 for every input."""
    import torch

    pre = torch.tensor([[1.0, -1.0, -2.0, 0.0], [-1.0, -3.0, 0.5, -0.1], [-0.5, -1.0, -1.0, 0.0]])
    got, err = _try(fn, pre)
    ok, given = matches(got, 0.5)
    return report(err is None and ok, "dead-unit fraction", f"for this 3×4 example the answer is 0.5 (units 1 and 3), "
                  f"you gave {err or given}: a unit is dead when it is ≤ 0 for ALL inputs (.all(dim=0)), then average")


# ------------------------------------------------------------- backward passes and layers written from scratch
def _mismatch(got, expected) -> str | None:
    """None when ``got`` is a tensor with ``expected``'s shape and values (float64 tolerances), else why not."""
    import torch

    if not isinstance(got, torch.Tensor):
        return f"expected a tensor of shape {tuple(expected.shape)}, got {_describe(got)}"
    if got.shape != expected.shape:
        return f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    if not torch.allclose(got.to(expected.dtype), expected, atol=1e-6, rtol=1e-5):
        return "right shape, wrong values"
    return None


def check_conv2d_backward(fn) -> bool:
    """``fn(x, weight, grad_out, stride=, padding=)`` must return ``(grad_x, grad_weight, grad_bias)`` equal to
    autograd's gradients of ``F.conv2d`` (float64, including a stride that leaves the last row unused)."""
    import torch
    import torch.nn.functional as F

    name = "conv2d backward"
    hints = {"grad_x": "dilate grad_out by the stride (s − 1 zeros between entries), pad it by k − 1, correlate "
                       "with the weight flipped in space and with C_in/C_out swapped, then crop the padding (rows no "
                       "window reached get 0)",
             "grad_weight": "grad_weight[o, c, u, v] = Σ_n,i,j grad_out[n, o, i, j] · x_pad[n, c, i·s + u, "
                            "j·s + v]: correlate the padded x with grad_out, the batch playing the channels' role",
             "grad_bias": "grad_bias is grad_out summed over N, H_out and W_out"}
    gen = torch.Generator().manual_seed(11)
    for shape, wshape, stride, padding in [((1, 1, 5, 5), (1, 1, 3, 3), 1, 0), ((2, 3, 7, 6), (4, 3, 3, 2), 2, 1),
                                           ((2, 2, 8, 7), (3, 2, 2, 3), 3, 0)]:
        x = torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
        w = torch.randn(wshape, generator=gen, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(wshape[0], dtype=torch.float64, requires_grad=True)
        out = F.conv2d(x, w, b, stride=stride, padding=padding)
        grad_out = torch.randn(out.shape, generator=gen, dtype=torch.float64)
        expected = torch.autograd.grad(out, (x, w, b), grad_out)
        setting = f"x {shape}, weight {wshape}, stride {stride}, padding {padding}"
        got, err = _try(fn, x.detach(), w.detach(), grad_out, stride=stride, padding=padding)
        if err:
            return report(False, name, f"it raised {err} for {setting}")
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return report(False, name, f"return a tuple (grad_x, grad_weight, grad_bias), got {_describe(got)}")
        for label, g, e in zip(("grad_x", "grad_weight", "grad_bias"), got, expected):
            why = _mismatch(g, e)
            if why:
                return report(False, name, f"{label} for {setting}: {why}. {hints[label]}")
    return report(True, name, "")


def check_max_pool_backward(fn) -> bool:
    """``fn(x, grad_out, kernel_size, stride=)`` must equal autograd's gradient of ``F.max_pool2d`` (float64),
    including overlapping windows (kernel 3, stride 2) whose gradients add up."""
    import torch
    import torch.nn.functional as F

    name = "max-pool backward"
    gen = torch.Generator().manual_seed(5)
    for shape, k, stride in [((1, 1, 4, 4), 2, 2), ((2, 3, 7, 6), 2, 2), ((2, 2, 9, 9), 3, 2)]:
        x = torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
        out = F.max_pool2d(x, k, stride)
        grad_out = torch.randn(out.shape, generator=gen, dtype=torch.float64)
        expected = torch.autograd.grad(out, x, grad_out)[0]
        got, err = _try(fn, x.detach(), grad_out, k, stride=stride)
        why = err or _mismatch(got, expected)
        if why:
            return report(False, name, f"for x {shape}, kernel {k}, stride {stride}: {why}. Each window sends its "
                          "grad_out to the position of its maximum only (0 elsewhere, rows left over by the floor "
                          "included); where windows overlap, add (+=) rather than overwrite")
    return report(True, name, "")


def check_batchnorm(module_cls) -> bool:
    """``module_cls(num_features)`` must behave like ``nn.BatchNorm2d``: training outputs, running statistics
    after a few batches (``running_mean``, ``running_var``), and evaluation outputs (float64)."""
    import torch
    import torch.nn as nn

    name = "BatchNorm2d"
    mine, err = _try(module_cls, 3)
    if err or not isinstance(mine, nn.Module):
        return report(False, name, f"module_cls(3) should build an nn.Module, got {err or _describe(mine)}: subclass "
                      "nn.Module and call super().__init__() first")
    mine, err = _try(mine.double)
    if err:
        return report(False, name, f"calling .double() on it raised {err}")
    reference = nn.BatchNorm2d(3).double()
    gen = torch.Generator().manual_seed(2)
    for step in range(3):
        x = 2 + 3 * torch.randn(4, 3, 5, 5, generator=gen, dtype=torch.float64)
        got, err = _try(lambda: mine.train()(x))
        why = err or _mismatch(got, reference.train()(x))
        if why:
            return report(False, name, f"training step {step + 1}: {why}. Normalise each channel with the batch's "
                          "mean and biased variance over N, H, W (unbiased=False), then · weight + bias")
        for buffer in ("running_mean", "running_var"):
            why = _mismatch(getattr(mine, buffer, None), getattr(reference, buffer))
            if why:
                unbiased = "update it with the UNBIASED batch variance (× n/(n−1), n = N·H·W)"
                ema = "running ← (1 − momentum)·running + momentum·batch mean, with momentum 0.1"
                hint = unbiased if buffer == "running_var" else ema
                return report(False, name, f"{buffer} after {step + 1} training step(s): {why}. {hint}")
    x = torch.randn(2, 3, 4, 4, generator=gen, dtype=torch.float64)
    got, err = _try(lambda: mine.eval()(x))
    why = err or _mismatch(got, reference.eval()(x))
    if why:
        return report(False, name, f"evaluation mode: {why}. After .eval() use running_mean and running_var "
                      "instead of the batch's statistics (check self.training)")
    return report(True, name, "")


def check_dropout(module_cls) -> bool:
    """``module_cls(p)`` must behave like ``nn.Dropout``: identity in eval mode; in training, zeros with frequency
    ≈ p (within 5 binomial standard deviations) and survivors scaled by 1/(1−p)."""
    import math

    import torch

    name = "Dropout"
    x = torch.ones(100_000, dtype=torch.float64)
    with torch.random.fork_rng():  # the learner's global random state is left as it was
        torch.manual_seed(0)
        for p in (0.5, 0.2):
            layer, err = _try(module_cls, p)
            if err or not isinstance(layer, torch.nn.Module):
                return report(False, name, f"module_cls({p}) should build an nn.Module, got {err or _describe(layer)}: "
                              "subclass nn.Module and call super().__init__() first")
            got, err = _try(lambda: layer.eval()(x))
            why = err or _mismatch(got, x)
            if why:
                return report(False, name, f"evaluation mode (p={p}): {why}. After .eval() dropout is the identity "
                              "(check self.training)")
            got, err = _try(lambda: layer.train()(x))
            if err or not isinstance(got, torch.Tensor) or got.shape != x.shape:
                return report(False, name, f"training mode (p={p}): expected a tensor of shape {tuple(x.shape)}, "
                              f"got {err or _describe(got)}")
            zeros = float((got == 0).double().mean())
            sigma = math.sqrt(p * (1 - p) / x.numel())
            if abs(zeros - p) > 5 * sigma:
                return report(False, name, f"training mode (p={p}): {zeros:.3f} of the outputs are 0, expected about "
                              f"{p}: zero each element with probability p (torch.rand_like(x) < p)")
            kept = got[got != 0]
            if not torch.allclose(kept, x[: kept.numel()] / (1 - p)):
                return report(False, name, f"training mode (p={p}): the surviving values should be x / (1 − p) = "
                              f"{1 / (1 - p):.4g} for x = 1 so that the expectation stays x (inverted dropout)")
    return report(True, name, "")

# ------------------------------------------------------- notebooks 05–08: LeNet-5, AlexNet, ResNet, DenseNet, reading
def check_conv_macs(fn) -> bool:
    """``fn(c_in, c_out, k, h_out, w_out)`` must give the multiply-accumulates of a k×k Conv2d (``count_macs``)."""
    import torch.nn as nn

    from .models.complexity import count_macs

    for c_in, c_out, k, size in [(1, 6, 5, 28), (6, 16, 5, 14), (16, 32, 3, 7), (3, 4, 1, 9)]:
        conv = nn.Conv2d(c_in, c_out, k)
        h_out = size - k + 1
        expected = count_macs(conv, (c_in, size, size))
        got, err = _try(fn, c_in, c_out, k, h_out, h_out)
        if err or not matches(got, expected)[0]:
            return report(False, "conv MACs", f"for c_in={c_in}, c_out={c_out}, k={k}, output {h_out}×{h_out} the "
                          f"answer is {expected}, you gave {err or got}: each output value (c_out·h_out·w_out of "
                          "them) needs c_in·k·k multiply-accumulates")
    return report(True, "conv MACs", "")


def check_segments(fn) -> bool:
    """``fn(line (H, W))`` must return the ``(start, end)`` column ranges that ``reading.segment_columns`` finds."""
    import torch

    from .reading import segment_columns
    from .synth import render_text

    lines = [render_text("2024", "Computer Modern Sans", 28, 0), render_text("17", "DejaVu Sans", 28, 3),
             torch.tensor([[0, 9, 9, 0, 0, 5, 5, 5, 0, 7, 7]], dtype=torch.uint8)]
    for line in lines:
        expected = segment_columns(line)
        got, err = _try(fn, line)
        if err or not matches(got, expected)[0]:
            return report(False, "segmentation", f"on a line of width {line.shape[1]} expected {expected}, got "
                          f"{err or matches(got, expected)[1]}: sum each column, a segment is a run of columns with ink > 0 (end excluded)")
    return report(True, "segmentation", "")


def check_stack_params(fn) -> bool:
    """``fn(c)`` must return ``(two_3x3, one_5x5)``: weights of two stacked 3×3 convs c→c and of one 5×5 (no bias)."""
    for c in (1, 16, 64):
        got, err = _try(fn, c)
        ok, given = matches(got, (18 * c * c, 25 * c * c))
        if err or not ok:
            return report(False, "3×3 stack vs 5×5", f"for c={c} expected ({18 * c * c}, {25 * c * c}), got "
                          f"{err or given}: a k×k conv c→c has k·k·c·c weights")
    return report(True, "3×3 stack vs 5×5", "")


def check_identity_init(fn) -> bool:
    """``fn(model)`` must make every residual block of a ``ResNet`` start as the identity (Goyal et al. 2017):
    each block without downsampling then outputs ``relu(x)`` for its input ``x``."""
    import torch

    from .models import BasicBlock, resnet

    with torch.random.fork_rng():  # a fixed model without resetting the learner's random numbers
        torch.manual_seed(0)
        model = resnet(14, width=4).eval()
    _, err = _try(fn, model)
    if err:
        return report(False, "identity at initialisation", f"it raised {err}")
    for block in (m for m in model.modules() if isinstance(m, BasicBlock) and m.downsample is None):
        x = torch.randn(2, block.conv1.in_channels, 7, 7, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            if not torch.allclose(block(x), torch.relu(x), atol=1e-6):
                return report(False, "identity at initialisation", "a block does not output relu(x): which layer's "
                              "scale γ, set to zero, makes the residual branch F(x) vanish? (the last BN of each block)")
    return report(True, "identity at initialisation", "")


def check_dense_channels(fn) -> bool:
    """``fn(in_channels, growth_rate, num_layers)`` must give a dense block's output channels."""
    import torch

    from .models import DenseBlock

    for c, k, n in [(24, 12, 6), (16, 8, 3), (1, 32, 1)]:
        expected = DenseBlock(n, c, k).eval()(torch.zeros(1, c, 4, 4)).shape[1]
        got, err = _try(fn, c, k, n)
        if err or not matches(got, expected)[0]:
            return report(False, "dense block channels", f"for in={c}, growth={k}, layers={n} the block outputs "
                          f"{expected} channels, you gave {err or got}: every layer adds k maps to the concatenation")
    return report(True, "dense block channels", "")


# ------------------------------------------------------------------ notebooks 09–11: multi-scale, attention, text convs
def check_dilated_receptive_field(fn) -> bool:
    """``fn(kernel_size, dilations)`` must give the receptive field of a stride-1 stack of k×k convolutions with those
    dilations (one per layer)."""
    from .shapes import receptive_field

    for k, dilations in [(3, (1, 1, 1, 1)), (3, (1, 2, 4, 8)), (5, (1, 3)), (3, (2,)), (7, (1, 1, 2, 2, 4))]:
        expected = receptive_field([(k, 1, d) for d in dilations]).size
        got, err = _try(fn, k, dilations)
        if err or not matches(got, expected)[0]:
            return report(False, "dilated receptive field", f"for k={k}, dilations={dilations} the receptive field is "
                          f"{expected}, you gave {err or got}: a dilated k×k kernel spans d·(k−1)+1 pixels, and at "
                          "stride 1 each layer adds d·(k−1)")
    return report(True, "dilated receptive field", "")


def check_se_parameters(fn) -> bool:
    """``fn(channels, reduction)`` must give the parameter count of a squeeze-and-excitation block (two linear
    layers with biases, ``channels → channels // reduction → channels``)."""
    from .models.attention import SqueezeExcitation

    for c, r in [(16, 4), (64, 16), (32, 8), (12, 3)]:
        expected = sum(p.numel() for p in SqueezeExcitation(c, r).parameters())
        got, err = _try(fn, c, r)
        if err or not matches(got, expected)[0]:
            return report(False, "SE parameters", f"for channels={c}, reduction={r} the block has {expected} "
                          f"parameters, you gave {err or got}: count the weights *and* biases of both linear layers")
    return report(True, "SE parameters", "")


def check_sampling_grid(fn) -> bool:
    """``fn(row, col, kernel_size, stride, padding, dilation)`` must return the ``(k², 2)`` (row, col) input positions
    a plain convolution reads for output pixel (row, col), taps in row-major order: the grid a deformable
    convolution starts from."""
    import torch

    from .models.text_conv import DeformableConv2d

    for row, col, k, s, p, d in [(0, 0, 3, 1, 1, 1), (2, 3, 3, 2, 1, 1), (1, 1, 5, 1, 2, 2), (4, 0, 3, 1, 0, 3)]:
        layer = DeformableConv2d(1, 1, k, s, p, d)
        expected = layer.sampling_positions(torch.zeros(1, 1, 16, 16))[0, row, col]
        got, err = _try(fn, row, col, k, s, p, d)
        if err:
            return report(False, "sampling grid", f"it raised {err}")
        got_tensor, _ = _try(torch.as_tensor, got, dtype=torch.float32)
        ok, given = matches(got_tensor, expected, tol=1e-5)
        if not ok:
            return report(False, "sampling grid", f"for output ({row}, {col}), k={k}, stride={s}, padding={p}, "
                          f"dilation={d} expected {expected.tolist()}, got {given}: tap (u, v) reads "
                          "(row·S − P + u·D, col·S − P + v·D)")
    return report(True, "sampling grid", "")
