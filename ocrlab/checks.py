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
    kernel = torch.as_tensor(kernel, dtype=torch.float32)
    if kernel.shape != (3, 3):
        return report(False, name, f"give a 3×3 kernel, got shape {tuple(kernel.shape)}")
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
    return report(answer == expected, f"parameter count of {layer}", f"{hint} (you said {answer})")


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
        if err or got != expected:
            return report(False, "output_size", f"for H={h}, F={k}, S={s}, P={p}, D={d} PyTorch gives {expected}, "
                          f"you gave {err or got}: remember the floor (//) and the dilated size D·(F−1)+1")
    return report(True, "output_size", "")


def check_receptive_field(answer, layers) -> bool:
    """``answer`` must be the receptive field size of ``layers`` (modules or (kernel, stride, dilation) tuples)."""
    from .shapes import receptive_field

    rf = receptive_field(layers)
    return report(answer == rf.size, "receptive field", f"you said {answer}. Go layer by layer from r = 1, j = 1: "
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
    ok = err is None and abs(float(got) - 0.5) < 1e-6
    return report(ok, "dead-unit fraction", f"for this 3×4 example the answer is 0.5 (units 1 and 3), you gave "
                  f"{err or float(got)}: a unit is dead when it is ≤ 0 for ALL inputs (.all(dim=0)), then average")


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
        if err or got != expected:
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
        if err or [tuple(map(int, s)) for s in (got or [])] != expected:
            return report(False, "segmentation", f"on a line of width {line.shape[1]} expected {expected}, got "
                          f"{err or got}: sum each column, a segment is a run of columns with ink > 0 (end excluded)")
    return report(True, "segmentation", "")


def check_stack_params(fn) -> bool:
    """``fn(c)`` must return ``(two_3x3, one_5x5)``: weights of two stacked 3×3 convs c→c and of one 5×5 (no bias)."""
    ok, got = True, None
    for c in (1, 16, 64):
        got, err = _try(fn, c)
        ok = err is None and tuple(got) == (2 * 9 * c * c, 25 * c * c)
        if not ok:
            return report(False, "3×3 stack vs 5×5", f"for c={c} expected ({18 * c * c}, {25 * c * c}), got "
                          f"{err or got}: a k×k conv c→c has k·k·c·c weights")
    return report(True, "3×3 stack vs 5×5", "")


def check_identity_init(fn) -> bool:
    """``fn(model)`` must make every residual block of a ``ResNet`` start as the identity (Goyal et al. 2017):
    each block without downsampling then outputs ``relu(x)`` for its input ``x``."""
    import torch

    from .models import BasicBlock, resnet

    torch.manual_seed(0)
    model = resnet(14, width=4).eval()
    _, err = _try(fn, model)
    if err:
        return report(False, "identity at initialisation", f"it raised {err}")
    for block in (m for m in model.modules() if isinstance(m, BasicBlock) and m.downsample is None):
        x = torch.randn(2, block.conv1.in_channels, 7, 7)
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
        if err or got != expected:
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
        if err or got != expected:
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
        if err or got != expected:
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
        got = torch.as_tensor(got, dtype=torch.float32)
        if got.shape != expected.shape or not torch.allclose(got, expected):
            return report(False, "sampling grid", f"for output ({row}, {col}), k={k}, stride={s}, padding={p}, "
                          f"dilation={d} expected {expected.tolist()}, got {got.tolist()}: tap (u, v) reads "
                          "(row·S − P + u·D, col·S − P + v·D)")
    return report(True, "sampling grid", "")
