"""What the blocks of notebooks 09–11 do to a learner's own input, as tensors and as pictures: the attention a
trained model applied, where a deformable layer sampled, effective receptive fields. The ``*_on`` functions
return tensors (tests call them); the ``draw_*`` functions draw them on matplotlib axes (notebooks and widgets).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from .device import model_device
from .inputs import as_image_batch, input_normalization, preprocess
from .models.attention import attention_maps
from .models.text_conv import DeformableConv2d


def _normalised(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    x = as_image_batch(images)
    return preprocess(x, input_normalization(model)).to(model_device(model))


@torch.no_grad()
def attention_on(model: nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run ``model`` (eval mode) on uint8 ``images`` ``(N, H, W)``; return its class probabilities ``(N, classes)``
    and the attention every attention module applied (``ocrlab.models.attention.attention_maps``), on the CPU."""
    was = model.training
    model.eval()
    try:
        probs = torch.softmax(model(_normalised(model, images)).float(), 1).cpu()
    finally:
        model.train(was)
    return probs, {k: v.cpu() for k, v in attention_maps(model).items()}


def upsample_map(m: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A spatial map ``(N, 1, h, w)`` resized (bilinear) to the image size ``(N, H, W)``."""
    return torch.nn.functional.interpolate(m.float(), size=size, mode="bilinear", align_corners=False)[:, 0]


def attention_mass_on_ink(spatial: torch.Tensor, ink: torch.Tensor, threshold: int = 128) -> torch.Tensor:
    """Share of a spatial attention map's mass that falls on the glyph's ink, per image ``(N,)``.

    ``spatial (N, 1, h, w)``; ``ink`` the clean glyphs ``uint8 (N, H, W)`` (``ClutteredCharacters.clean``), whose
    pixels ≥ ``threshold`` count as ink. Compare with the ink's share of the image (what uniform attention gives).
    """
    m = upsample_map(spatial, tuple(ink.shape[-2:]))
    mask = (ink >= threshold).float()
    return (m * mask).sum((1, 2)) / m.sum((1, 2)).clamp(min=1e-12)


def draw_attention(axes: Sequence, image: torch.Tensor, maps: dict[str, torch.Tensor], index: int = 0,
                   title: str = "") -> None:
    """Image with every spatial map overlaid, then bars of every channel-attention vector, on ``axes`` (one per
    panel: ``1 + len(maps)``). ``maps`` as returned by ``attention_on``; ``index`` picks the image."""
    img = image if image.ndim == 2 else as_image_batch(image)[index, 0]
    axes = list(axes)
    axes[0].imshow(img.numpy(), cmap="gray", vmin=0, vmax=255)
    axes[0].set_title(title or "input", fontsize=9)
    for ax, (name, a) in zip(axes[1:], maps.items()):
        a = a[index]
        short = name.replace("stages.", "stage ").replace(".attention", "").replace(".channel", " ch") \
            .replace(".spatial", " sp")
        if a.ndim == 3:  # spatial (1, h, w)
            up = upsample_map(a[None], tuple(img.shape))[0]
            ax.imshow(img.numpy(), cmap="gray", vmin=0, vmax=255)
            ax.imshow(up.numpy(), cmap="inferno", alpha=0.55, vmin=0, vmax=1)
            ax.set_title(f"{short}\nspatial {tuple(a.shape[-2:])}", fontsize=8)
        else:  # channel (C,)
            ax.bar(range(len(a)), a.numpy(), color="tab:blue", width=1.0)
            ax.set_ylim(0, 1)
            ax.set_title(f"{short}\nchannel weights ({len(a)})", fontsize=8)
            ax.set_xticks([])
            continue
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_xticks([])
    axes[0].set_yticks([])


def deformable_layers(model: nn.Module) -> list[tuple[str, DeformableConv2d]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, DeformableConv2d)]


@torch.no_grad()
def sampling_on(model: nn.Module, image: torch.Tensor, layer: str | None = None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Where a trained model's deformable layer (default: the last) samples, for uint8 images ``(H, W)`` or ``(N, H, W)``.

    Returns ``(positions, regular, stride)``: ``positions (H', W', k², 2)`` (or ``(N, H', W', k², 2)`` for a batch),
    (row, col) in the layer's input coordinates with the learned offsets; ``regular`` the same grid without
    offsets ``(H', W', k², 2)``; and the layer input's ``stride`` in image pixels (to draw them on the image:
    ``(p + 0.5)·stride − 0.5``).
    """
    layers = dict(deformable_layers(model))
    if not layers:
        raise ValueError("this model has no DeformableConv2d layer")
    name = layer or list(layers)[-1]
    if name not in layers:
        raise ValueError(f"no DeformableConv2d called {name!r}; the model has {', '.join(layers)}")
    target = layers[name]
    single = image.ndim == 2
    batch = image[None] if single else image
    captured = {}
    handle = target.register_forward_pre_hook(lambda m, args: captured.setdefault("x", args[0]))
    was = model.training
    model.eval()
    try:
        model(_normalised(model, batch))
    finally:
        handle.remove()
        model.train(was)
    x = captured["x"]
    positions = target.sampling_positions(x).cpu()
    regular = positions - target.offsets(x).cpu().view(len(x), -1, 2, *x.shape[-2:]).permute(0, 3, 4, 1, 2) \
        if target.stride == 1 else None
    if regular is None:
        raise ValueError("sampling_on supports stride-1 deformable layers")
    stride = batch.shape[-1] // x.shape[-1]
    return (positions[0] if single else positions), regular[0], stride


def grid_rotation(positions: torch.Tensor, regular: torch.Tensor) -> torch.Tensor:
    """The rotation (degrees, clockwise on the screen, the sign convention of ``synth.make_distorted_characters``'s
    ``angle``) that best maps each regular k×k tap pattern onto its
    learned one, about the centre tap (least squares, Procrustes): ``positions (..., k², 2)`` → ``(...)``.

    A deformable layer that has learned to follow a tilted glyph tilts its grid with it."""
    k2 = positions.shape[-2]
    c = k2 // 2
    r = regular - regular[..., c:c + 1, :]
    q = positions - positions[..., c:c + 1, :]
    # (row, col) → (x, y) with y pointing down, as on the screen: a positive angle turns clockwise
    rx, ry, qx, qy = r[..., 1], r[..., 0], q[..., 1], q[..., 0]
    cross = (rx * qy - ry * qx).sum(-1)
    dot = (rx * qx + ry * qy).sum(-1)
    return torch.rad2deg(torch.atan2(cross, dot))


def draw_sampling(ax, image: torch.Tensor, positions: torch.Tensor, regular: torch.Tensor, stride: int,
                  cells: Sequence[tuple[int, int]] | None = None, title: str = "") -> None:
    """A glyph with the k² taps of some output ``cells`` (default: the centre cell and four around it): regular
    grid as hollow circles, learned sampling positions as dots joined to them."""
    import matplotlib.pyplot as plt

    ho, wo = positions.shape[:2]
    if cells is None:
        c = ho // 2
        cells = [(c, c), (c - 2, c), (c + 2, c), (c, c - 2), (c, c + 2)]
    ax.imshow(image.numpy(), cmap="gray", vmin=0, vmax=255)
    colours = plt.get_cmap("tab10")
    for i, (r, q) in enumerate(cells):
        p = (positions[r, q] + 0.5) * stride - 0.5
        g = (regular[r, q] + 0.5) * stride - 0.5
        col = colours(i % 10)
        ax.scatter(g[:, 1], g[:, 0], s=22, facecolors="none", edgecolors=col, linewidths=0.8)
        ax.scatter(p[:, 1], p[:, 0], s=12, color=col)
        for a, b in zip(g, p):
            ax.plot([a[1], b[1]], [a[0], b[0]], color=col, linewidth=0.6)
    h, w = image.shape[-2:]
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def draw_receptive_field(ax, erf: torch.Tensor, title: str = "", crop: int | None = None) -> None:
    """An effective receptive field map (``models.multiscale.effective_receptive_field``), optionally cropped to
    ``crop``×``crop`` around the centre, on a log-like (square-root) colour scale."""
    h, w = erf.shape
    if crop:
        top, left = h // 2 - crop // 2, w // 2 - crop // 2
        erf = erf[top:top + crop, left:left + crop]
    ax.imshow((erf / erf.max()).sqrt().numpy(), cmap="magma", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


__all__ = ["attention_on", "upsample_map", "attention_mass_on_ink", "draw_attention", "deformable_layers",
           "sampling_on", "grid_rotation", "draw_sampling", "draw_receptive_field"]
