"""Plots the notebooks share: image grids, training curves, confusion matrices, mistakes and feature maps.

Matplotlib only (no ipywidgets): every function returns its ``Figure`` so tests can inspect it.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
from matplotlib.figure import Figure

from .callbacks import Callback, Run
from .features import feature_maps
from .inputs import as_image_batch
from .train import Evaluation, History


def _grid(n: int, ncols: int, cell: float = 1.1, extra_height: float = 0.25, aspect: float = 1.0):
    """A figure of ``n`` blank axes, ``cell`` inches wide each; rows as tall as images of height/width ``aspect``."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, (cell * aspect + extra_height) * nrows),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def show_images(images: torch.Tensor, titles: Sequence[str] | None = None, ncols: int = 10, cmap: str = "gray",
                title: str | None = None, cell: float = 1.1) -> Figure:
    """A grid of images ``(N, H, W)`` or ``(N, 1, H, W)``, each with an optional title."""
    images = as_image_batch(images).detach().cpu()
    lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    fig, axes = _grid(len(images), ncols, cell, extra_height=max(0.25, 0.1 + 0.17 * lines),  # room for the titles
                      aspect=images.shape[-2] / images.shape[-1])
    for i, (ax, img) in enumerate(zip(axes, images)):
        ax.imshow((img[0] if img.shape[0] == 1 else img.permute(1, 2, 0)).numpy(), cmap=cmap)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history: History | dict[str, History], title: str | None = None) -> Figure:
    """Loss and accuracy per epoch (train solid, test dashed); pass a dict to compare several runs."""
    runs = history if isinstance(history, dict) else {"": history}
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    for i, (name, h) in enumerate(runs.items()):
        color = f"C{i}"
        label = f"{name} " if name else ""
        ax_loss.plot(h.epoch, h.train_loss, color=color, label=f"{label}train")
        ax_acc.plot(h.epoch, [100 * a for a in h.train_acc], color=color, label=f"{label}train")
        if h.test_acc:
            ax_loss.plot(h.epoch, h.test_loss, "--", color=color, label=f"{label}test")
            ax_acc.plot(h.epoch, [100 * a for a in h.test_acc], "--", color=color, label=f"{label}test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix: torch.Tensor, classes: Sequence[str], normalize: bool = True,
                          title: str = "confusion matrix") -> Figure:
    """Rows = true class, columns = predicted; cells show the share of each true class (or counts)."""
    m = matrix.double()
    shown = 100 * m / m.sum(1, keepdim=True).clamp_min(1) if normalize else m  # % of each true class
    n = len(classes)
    fig, ax = plt.subplots(figsize=(0.55 * n + 2.5, 0.55 * n + 2))
    im = ax.imshow(shown.numpy(), cmap="Blues")
    ax.set_xticks(range(n), classes, rotation=60 if max(map(len, classes)) > 2 else 0, fontsize=8)
    ax.set_yticks(range(n), classes, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    if n <= 15:
        for i in range(n):
            for j in range(n):
                value = shown[i, j].item()
                text = f"{value:.0f}" if normalize else f"{int(value)}"
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if value > 0.6 * shown.max().item() else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, label="% of the true class" if normalize else "images")
    fig.tight_layout()
    return fig


def show_mistakes(images: torch.Tensor, evaluation: Evaluation, classes: Sequence[str], n: int = 20,
                  ncols: int = 10) -> Figure:
    """The most confident mistakes: each titled 'true → predicted (probability)'."""
    wrong = (evaluation.predictions != evaluation.labels).nonzero().flatten()
    confidence = evaluation.probabilities[wrong].max(1).values
    chosen = wrong[confidence.argsort(descending=True)[:n]]
    titles = [f"{classes[evaluation.labels[i]]}→{classes[evaluation.predictions[i]]}\n"
              f"{evaluation.probabilities[i].max():.0%}" for i in chosen]
    if len(chosen) == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no mistakes", ha="center")
        return fig
    return show_images(images[chosen], titles, ncols=ncols, cell=1.2,
                       title=f"{len(wrong)} mistakes of {len(evaluation.labels)}; most confident first")


def show_first_layer(model: nn.Module, image: torch.Tensor, max_maps: int = 16) -> Figure:
    """The first convolution's kernels and the feature maps they produce on one image ``(H, W)``."""
    name, conv = next(((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)), (None, None))
    if conv is None:
        raise ValueError("The model has no nn.Conv2d layer to show.")
    maps = feature_maps(model, image, layers=[name]).layers[name].maps
    kernels = conv.weight.detach().float().cpu().mean(1)  # average over input channels
    k = min(max_maps, len(maps))
    fig, axes = plt.subplots(2, k + 1, figsize=(1.3 * (k + 1), 2.9), squeeze=False)
    axes[0, 0].imshow(image.cpu().reshape(image.shape[-2:]).numpy(), cmap="gray")
    axes[0, 0].set_title("input", fontsize=8)
    axes[1, 0].axis("off")
    for i in range(k):
        bound = kernels[i].abs().max().item()
        axes[0, i + 1].imshow(kernels[i].numpy(), cmap="RdBu_r", vmin=-bound, vmax=bound)
        axes[0, i + 1].set_title(f"kernel {i}", fontsize=8)
        axes[1, i + 1].imshow(maps[i].numpy(), cmap="magma")
        axes[1, i + 1].set_title(f"map {i}", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("first convolution: kernels (top, red = +, blue = −) and their feature maps (bottom)", fontsize=9)
    fig.tight_layout()
    return fig


class LivePlot(Callback):
    """A ``fit`` callback that redraws loss/accuracy curves in place in a notebook (at most once per second).

    ``fit(..., callbacks=[LivePlot()])``; the last epoch is always drawn, so the stored figure is the final one.
    """

    def __init__(self, min_interval: float = 1.0):
        self.min_interval = min_interval
        self._handle = None
        self._last = 0.0

    def on_epoch_end(self, run: Run) -> None:
        self.draw(run.history, final=run.epoch == run.epochs)

    def draw(self, history: History, final: bool = True) -> None:
        """Show the curves of ``history`` (in place of the previous drawing); skipped if the last was too recent."""
        try:
            from IPython.display import display
        except ImportError:
            return
        if not final and time.monotonic() - self._last < self.min_interval:
            return
        self._last = time.monotonic()
        fig = plot_history(history)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)
