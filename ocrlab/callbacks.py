"""Listeners of ``fit``'s training loop: progress, per-step records, early stops and checkpoints.

``fit`` is the only training loop in ``ocrlab``; what a lesson needs at each step (gradient norms, an exact number
of steps, a live plot, a checkpoint per epoch) is a ``Callback`` that listens to its events, as in fastai's
``Learner`` and Lightning. Events, in order::

    on_train_begin(run)
      per epoch:  per step: on_after_backward(run)  (gradients present, before the optimiser step)
                            on_batch_end(run)       (run.loss: this batch's loss tensor, run.step: global step)
                  on_epoch_end(run)                 (run.history holds the finished epoch)
    on_interrupt(run)                               (Ctrl-C: the history so far is returned)
    on_train_end(run)                               (always, also after an interrupt or an error)

A callback may raise ``StopTraining`` to end training cleanly after the current step. A plain function
``f(history)`` passed in ``callbacks`` is called at each epoch's end.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import torch
import torch.nn as nn

if TYPE_CHECKING:
    from .train import History


class StopTraining(Exception):
    """Raised by a callback to end ``fit`` after the current step; ``fit`` returns normally."""


@dataclass
class Run:
    """What callbacks see of a ``fit`` run; ``fit`` updates it as training proceeds."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    history: "History"
    device: torch.device
    epochs: int
    steps_per_epoch: int
    generator: torch.Generator  #: drives shuffling and augmentation
    epoch: int = 0  #: the epoch in progress (1-based)
    step: int = 0  #: optimiser steps taken so far in the whole run
    loss: torch.Tensor | None = None  #: the last batch's loss
    state: dict = field(default_factory=dict)  #: scratch space shared by callbacks


class Callback:
    """Base class: override the events you need (see the module docstring for their order)."""

    def on_train_begin(self, run: Run) -> None: ...
    def on_after_backward(self, run: Run) -> None: ...
    def on_batch_end(self, run: Run) -> None: ...
    def on_epoch_end(self, run: Run) -> None: ...
    def on_interrupt(self, run: Run) -> None: ...
    def on_train_end(self, run: Run) -> None: ...


EVENTS = ("on_train_begin", "on_after_backward", "on_batch_end", "on_epoch_end", "on_interrupt", "on_train_end")


class Events:
    """Dispatches ``fit``'s events; each event calls only the callbacks that override it (resolved once, so the
    per-step events cost nothing when nobody listens)."""

    def __init__(self, listeners: list[Callback]):
        self.hooks = {name: [getattr(cb, name) for cb in listeners
                             if getattr(type(cb), name) is not getattr(Callback, name)] for name in EVENTS}

    def __call__(self, name: str, run: Run) -> None:
        for hook in self.hooks[name]:
            hook(run)


class EpochFunction(Callback):
    """Adapts a plain ``f(history)`` into an epoch-end callback."""

    def __init__(self, fn: Callable[["History"], None]):
        self.fn = fn

    def on_epoch_end(self, run: Run) -> None:
        self.fn(run.history)


def as_callbacks(callbacks) -> list[Callback]:
    """Callbacks as a list of ``Callback`` objects (plain functions become epoch-end callbacks)."""
    out = []
    for cb in callbacks:
        if isinstance(cb, Callback):
            out.append(cb)
        elif callable(cb):
            out.append(EpochFunction(cb))
        else:
            raise TypeError(f"callbacks must be Callback objects or functions f(history); got {type(cb).__name__}")
    return out


class EpochLines(Callback):
    """The line ``fit`` prints after each epoch (with ``verbose``), and the note after an interrupt."""

    def __init__(self, verbose: bool = True):
        self.verbose = verbose
        self.write = print

    def on_epoch_end(self, run: Run) -> None:
        if not self.verbose:
            return
        h = run.history
        line = f"epoch {h.epoch[-1]:>2}/{run.epochs}  train loss {h.train_loss[-1]:.4f}  acc {h.train_acc[-1]:.2%}"
        if h.test_acc:
            line += f"  | test loss {h.test_loss[-1]:.4f}  acc {h.test_acc[-1]:.2%}"
        self.write(line + f"  | {h.seconds[-1]:.1f} s, {h.images_per_s[-1]:,.0f} img/s")

    def on_interrupt(self, run: Run) -> None:
        print(f"Interrupted after {len(run.history.epoch)} complete epoch(s): the model keeps its current weights "
              "and the history so far is returned.")


class ProgressBar(Callback):
    """A tqdm progress bar over all steps of the run; epoch lines are written above it, not through it."""

    def __init__(self, lines: EpochLines | None = None):
        self.lines, self.bar = lines, None

    def on_train_begin(self, run: Run) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=run.epochs * run.steps_per_epoch, initial=run.step, desc="training", leave=False,
                        mininterval=0.5, unit="batch")
        if self.lines is not None:
            self.lines.write = self.bar.write

    def on_batch_end(self, run: Run) -> None:
        self.bar.update(1)

    def on_epoch_end(self, run: Run) -> None:
        h = run.history
        self.bar.set_postfix_str(f"loss {h.train_loss[-1]:.3f}" + (f", test {h.test_acc[-1]:.1%}" if h.test_acc else ""))

    def on_train_end(self, run: Run) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.lines is not None:
            self.lines.write = print


def reporters(verbose: bool, progress: bool) -> list[Callback]:
    """What ``fit`` reports by itself: epoch lines (``verbose``) and a progress bar (``progress``)."""
    lines = EpochLines(verbose)
    return [lines, ProgressBar(lines)] if progress else [lines]


class StopAfterSteps(Callback):
    """End training after exactly ``steps`` optimiser steps (whatever the number of epochs)."""

    def __init__(self, steps: int):
        if steps < 1:
            raise ValueError(f"steps must be ≥ 1, got {steps}")
        self.steps = steps

    def on_batch_end(self, run: Run) -> None:
        if run.step >= self.steps:
            raise StopTraining


class LossRecorder(Callback):
    """Records every step's training loss (``losses``), for per-step curves."""

    def __init__(self):
        self.losses: list[float] = []

    def on_batch_end(self, run: Run) -> None:
        self.losses.append(float(run.loss.detach()))


class GradientNorms(Callback):
    """Records the L2 norm of chosen layers' weight gradients at every step (before the optimiser step)."""

    def __init__(self, layers: list[str]):
        self.layers = list(layers)
        self.norms: dict[str, list[float]] = {name: [] for name in self.layers}
        self._modules: dict[str, nn.Module] = {}

    def on_train_begin(self, run: Run) -> None:
        modules = dict(run.model.named_modules())
        missing = [name for name in self.layers if name not in modules]
        if missing:
            convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]
            raise ValueError(f"No layer named {missing} in the model; choose among {convs[:5]}…")
        self._modules = {name: modules[name] for name in self.layers}

    def on_after_backward(self, run: Run) -> None:
        for name, module in self._modules.items():
            self.norms[name].append(float(module.weight.grad.norm()))


class SaveEveryEpoch(Callback):
    """Write a resumable checkpoint (``ocrlab.checkpoints``) at the end of every epoch, atomically."""

    def __init__(self, path, **metadata):
        self.path, self.metadata = path, metadata

    def on_epoch_end(self, run: Run) -> None:
        from .checkpoints import save_training_state

        save_training_state(self.path, run, **self.metadata)


__all__ = ["Callback", "Run", "StopTraining", "Events", "as_callbacks", "EpochLines", "ProgressBar", "reporters", "StopAfterSteps", "LossRecorder",
           "GradientNorms", "SaveEveryEpoch", "EpochFunction"]
