"""Feature maps of any CNN for one input: what each conv, activation and pooling layer produces.

The pure part of the feature-map explorer (``ocrlab.widgets.FeatureMapExplorer``), after CNN Explainer (Wang et al.
2020): forward hooks record every conv / activation / pooling output of one forward pass, and are always removed
afterwards. ``colour_limits`` gives the colour scale of each map: per map, per layer or global.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .inputs import as_image_batch, input_normalization, preprocess

CONV_TYPES = (nn.Conv2d,)
ACTIVATION_TYPES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.Hardtanh)
POOL_TYPES = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
SCALE_MODES = ("per map", "per layer", "global")


def layer_kind(module: nn.Module) -> str | None:
    """``'conv'``, ``'activation'``, ``'pool'``, or ``None`` for layers the explorer does not show."""
    if isinstance(module, CONV_TYPES):
        return "conv"
    if isinstance(module, ACTIVATION_TYPES):
        return "activation"
    if isinstance(module, POOL_TYPES):
        return "pool"
    return None


def feature_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's conv, activation and pooling modules as ``(name, module)``, in definition order."""
    return [(name, m) for name, m in model.named_modules() if name and layer_kind(m) is not None]


@dataclass
class LayerMaps:
    """One layer's output for one input: maps ``(C, H, W)``, its kernels ``(C_out, kh, kw)`` or ``None``, stats."""

    name: str
    kind: str  #: 'conv', 'activation' or 'pool'
    module: str  #: class name, e.g. 'Conv2d'
    maps: torch.Tensor
    mean: float
    zero_fraction: float  #: share of exact zeros (dead ReLU outputs)
    layer: nn.Module | None = field(default=None, repr=False)

    @property
    def kernels(self) -> torch.Tensor | None:
        """The layer's kernels as 2-D images (see ``viewable_kernels``), read when asked for."""
        return viewable_kernels(self.layer) if self.layer is not None else None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.maps.shape)


@dataclass
class FeatureMaps:
    """Everything the explorer shows for one input: the layers in forward order, probabilities, prediction."""

    input: torch.Tensor  #: the normalised input ``(C, H, W)``
    layers: dict[str, LayerMaps]
    probabilities: torch.Tensor  #: ``(num_classes,)``
    prediction: int

    def statistics(self) -> list[dict]:
        """Per-layer activation statistics: name, kind, shape, mean and share of zeros."""
        return [dict(name=l.name, kind=l.kind, shape=l.shape, mean=l.mean, zero_fraction=l.zero_fraction)
                for l in self.layers.values()]


def viewable_kernels(module: nn.Module) -> torch.Tensor | None:
    """A conv layer's kernels as 2-D images ``(C_out, kh, kw)``: the kernel itself for one input channel, else its
    mean over input channels; ``None`` for 1×1 kernels and non-conv layers (nothing 2-D to see)."""
    if not isinstance(module, nn.Conv2d) or min(module.kernel_size) < 2:
        return None
    w = module.weight.detach().float().cpu()
    return w[:, 0] if w.shape[1] == 1 else w.mean(1)


def _as_maps(output) -> torch.Tensor | None:
    if not isinstance(output, torch.Tensor) or output.dim() != 4:
        return None  # e.g. an activation inside the dense classifier: (N, F), not maps
    return output[0].detach().float().cpu().clone()  # clone: a later in-place op must not change what we saw


@contextlib.contextmanager
def _threads(n: int | None):
    """Run a block with ``n`` intra-op threads (``None``: unchanged), then restore the previous setting."""
    before = torch.get_num_threads()
    if n is not None and n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@torch.no_grad()
def feature_maps(model: nn.Module, image: torch.Tensor, normalization: tuple[float, float] | None = None,
                 layers: Sequence[str] | None = None, threads: int | None = 1) -> FeatureMaps:
    """Run ``model`` on one image ``(H, W)`` or ``(C, H, W)`` (uint8 or float in [0, 1]) and record its feature maps.

    Every conv / activation / pooling layer with 4-D output is recorded (or only ``layers``); a module called
    twice (a shared ReLU) gives ``name``, ``name#2``, …. Hooks are removed even if the forward pass raises.
    The model runs in eval mode and is put back in its previous mode. ``threads=1`` (default): one image is
    too little work to share, and on a busy CPU threads waiting for each other made it 10–20× slower (measured).
    """
    x = as_image_batch(image[None] if image.dim() in (2, 3) else image, "image")
    if len(x) != 1:
        raise ValueError(f"feature_maps takes ONE image, got a batch of {len(x)}")
    norm = normalization if normalization is not None else input_normalization(model)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    wanted = None if layers is None else set(layers)
    found = [(n, m) for n, m in feature_layers(model) if wanted is None or n in wanted]
    recorded: dict[str, LayerMaps] = {}
    calls: dict[str, int] = {}

    def hook(name: str, module: nn.Module):
        def record(_module, _inputs, output):
            maps = _as_maps(output)
            if maps is None:
                return
            calls[name] = calls.get(name, 0) + 1
            key = name if calls[name] == 1 else f"{name}#{calls[name]}"
            recorded[key] = LayerMaps(key, layer_kind(module), type(module).__name__, maps, float(maps.mean()),
                                      float((maps == 0).float().mean()), module)
        return record

    handles = []
    was_training = model.training
    try:
        for name, module in found:
            handles.append(module.register_forward_hook(hook(name, module)))
        model.eval()
        x = preprocess(x.to(device), norm)
        with _threads(threads if device.type == "cpu" else None):
            logits = model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    probs = F.softmax(logits.float(), 1)[0].cpu()
    return FeatureMaps(x[0].cpu(), recorded, probs, int(probs.argmax()))


def colour_limits(layers: Mapping[str, torch.Tensor], layer: str, mode: str = "per map") -> list[tuple[float, float]]:
    """(vmin, vmax) for each channel of ``layers[layer]`` (maps ``(C, H, W)``), as CNN Explainer offers:

    ``"per map"``: each map's own range (shows every map's pattern, hides magnitudes); ``"per layer"``: one range
    for the layer (compares channels); ``"global"``: one range over all layers (compares depths). A constant range
    is widened by 1e-6 so it is never empty.
    """
    if mode not in SCALE_MODES:
        raise ValueError(f"mode must be one of {SCALE_MODES}, got {mode!r}")
    if layer not in layers:
        raise KeyError(f"No layer {layer!r}; choose among {list(layers)}")
    maps = layers[layer]

    def widen(lo: float, hi: float) -> tuple[float, float]:
        return (lo, hi) if hi > lo else (lo - 1e-6, hi + 1e-6)

    if mode == "per map":
        flat = maps.reshape(len(maps), -1)
        return [widen(float(lo), float(hi)) for lo, hi in zip(flat.min(1).values, flat.max(1).values)]
    pool = [maps] if mode == "per layer" else list(layers.values())
    lo, hi = min(float(m.min()) for m in pool), max(float(m.max()) for m in pool)
    return [widen(lo, hi)] * len(maps)


def tile(maps: torch.Tensor, limits: Sequence[tuple[float, float]] | None = None, ncols: int | None = None,
         pad: int = 1, fill: float = float("nan")) -> torch.Tensor:
    """Maps ``(C, H, W)`` scaled to [0, 1] by their ``limits`` and laid out in one image grid (``nan`` padding)."""
    c, h, w = maps.shape
    ncols = ncols or max(1, int(torch.tensor(c).float().sqrt().ceil()))
    nrows = -(-c // ncols)
    if limits is not None:
        lo = torch.tensor([l[0] for l in limits])[:, None, None]
        hi = torch.tensor([l[1] for l in limits])[:, None, None]
        maps = ((maps - lo) / (hi - lo)).clamp(0, 1)
    grid = torch.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), fill)
    for i in range(c):
        r, q = divmod(i, ncols)
        grid[r * (h + pad):r * (h + pad) + h, q * (w + pad):q * (w + pad) + w] = maps[i]
    return grid


__all__ = ["SCALE_MODES", "layer_kind", "feature_layers", "LayerMaps", "FeatureMaps", "viewable_kernels",
           "feature_maps", "colour_limits", "tile"]
