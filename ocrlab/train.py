"""Fast, honest training for small image classifiers: ``fit``, ``evaluate`` and their helpers.

The whole dataset lives on the device as uint8 tensors; each step gathers a batch with a seeded permutation,
converts and normalises it on the device, optionally augments it there, and runs the model (channels_last,
mixed precision on CUDA). No DataLoader, no per-sample Python, no PIL in the hot path: on a 2-core CPU this is
faster than a plain hand-written loop, and several times faster than the textbook DataLoader pipeline
(``benchmarks/train_speed.py`` measures both).
"""
from __future__ import annotations

import contextlib
import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import progress_enabled
from .device import get_device
from .inputs import Data, as_image_batch, check_labelled, input_normalization, normalization_stats, preprocess

class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; ``history`` holds the epochs completed before that."""

    def __init__(self, message: str, history: "History"):
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """Per-epoch metrics of one ``fit`` run (lists indexed by epoch), plus how and where it ran."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  #: training time of each epoch (evaluation excluded)
    images_per_s: list[float] = field(default_factory=list)
    device: str = ""
    settings: dict = field(default_factory=dict)
    interrupted: bool = False

    @property
    def train_seconds(self) -> float:
        """Total training time (evaluation excluded)."""
        return float(sum(self.seconds))

    @property
    def final_test_acc(self) -> float:
        return self.test_acc[-1] if self.test_acc else float("nan")

    def __repr__(self) -> str:
        last = (f"final test accuracy {self.final_test_acc:.2%}, " if self.test_acc else "")
        state = ", interrupted" if self.interrupted else ""
        return (f"History({len(self.epoch)} epochs on {self.device}: {last}"
                f"{self.train_seconds:.1f} s of training{state})")


@dataclass
class Evaluation:
    """Accuracy, mean loss and per-example outputs of a model on a labelled set."""

    accuracy: float
    loss: float
    predictions: torch.Tensor  #: int64 (N,)
    labels: torch.Tensor  #: int64 (N,)
    probabilities: torch.Tensor  #: float32 (N, classes)

    def __repr__(self) -> str:
        return f"Evaluation(accuracy={self.accuracy:.2%}, loss={self.loss:.4f}, n={len(self.labels)})"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so a run can be repeated exactly on the CPU."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ------------------------------------------------------------------------------------------------ mechanics
def _amp_dtype(device: torch.device, amp: bool | None) -> torch.dtype | None:
    """bf16 on CUDA where supported (else fp16), nothing elsewhere: CPU autocast is slower on small convnets."""
    if device.type != "cuda" or amp is False:
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _has_conv(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def _make_optimizer(kind: str | Callable, params: Iterable, lr: float, weight_decay: float, device: torch.device):
    if callable(kind):
        return kind(params)
    params = list(params)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=device.type in ("cpu", "cuda"))
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=device.type in ("cpu", "cuda"))
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    raise ValueError(f"Unknown optimizer {kind!r}; use 'adamw', 'adam', 'sgd' or a function params → optimizer")


def _make_schedule(kind: str | None, optimizer, lr: float, total_steps: int):
    if kind in (None, "constant") or total_steps < 4:  # a schedule needs a few steps to mean anything
        return None
    if kind == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                                   pct_start=max(0.25, 2 / total_steps))
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    raise ValueError(f"Unknown schedule {kind!r}; use 'onecycle', 'cosine' or 'constant'")


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, mininterval=0.5, unit="batch")


def _diverged_message(epoch: int, step: int, lr: float, loss: float) -> str:
    return (f"Training stopped: the loss became {loss} at epoch {epoch}, step {step}. Usual causes: the "
            f"learning rate is too high (lr={lr:g}: try 3–10× lower), or the inputs contain NaN/inf or are not "
            "normalised. The model's weights are now unusable: re-create the model before training again.")


# ------------------------------------------------------------------------------------------------- training
def fit(
    model: nn.Module,
    train: Data,
    test: Data | None = None,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 5e-4,
    optimizer: str | Callable = "adamw",
    schedule: str | None = "onecycle",
    label_smoothing: float = 0.0,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    augment: Callable | None = None,
    normalization: tuple[float, float] | None = None,
    device: str | torch.device | None = None,
    amp: bool | None = None,
    channels_last: bool | None = None,
    compile: bool = False,
    seed: int | None = 0,
    progress: bool | None = None,
    live_plot: bool = False,
    callbacks: Sequence[Callable[["History"], None]] = (),
    verbose: bool = True,
) -> History:
    """Train ``model`` on ``train = (images, labels)``, evaluating on ``test`` after each epoch.

    Images are ``uint8 (N, H, W)``/``(N, C, H, W)`` (or float in [0, 1]); they are normalised per batch with the
    training set's mean and std (stored on the model as ``model.input_normalization``). ``augment(x, generator)``
    transforms a normalised float batch on the device (see ``ocrlab.augment``). Mixed precision (bf16) on CUDA,
    channels_last for conv nets, optional ``torch.compile``. A NaN/inf loss raises ``TrainingDivergedError`` with
    an explanation; Ctrl-C (kernel interrupt) stops cleanly and returns the history so far.
    Returns a ``History`` of per-epoch loss, accuracy, seconds and images/s.
    """
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"epochs and batch_size must be ≥ 1 and lr > 0; got epochs={epochs}, "
                         f"batch_size={batch_size}, lr={lr}")
    train_x, train_y = check_labelled(train, "train")
    test_xy = check_labelled(test, "test") if test is not None else None
    dev = get_device(device, verbose=verbose)
    if test_xy is not None:
        test_xy = (test_xy[0].to(dev), test_xy[1])  # moved once, not at every epoch's evaluation
    if seed is not None:
        seed_everything(seed)
    amp_dtype = _amp_dtype(dev, amp)
    use_cl = _has_conv(model) if channels_last is None else channels_last
    norm = tuple(normalization) if normalization is not None else normalization_stats(train_x)
    progress = progress_enabled() if progress is None else progress

    model.to(dev)
    if use_cl:
        model.to(memory_format=torch.channels_last)
    model.input_normalization = norm
    step_fn = torch.compile(model) if compile else model
    if verbose:
        extras = [f"mixed precision {str(amp_dtype).removeprefix('torch.')}" if amp_dtype else "float32",
                  "channels_last" if use_cl else "contiguous", "torch.compile" if compile else "eager"]
        print(f"Training on {len(train_y)} images for {epochs} epochs (batch {batch_size}, {optimizer}, "
              f"lr {lr:g}, {schedule or 'constant'} schedule; {', '.join(extras)}).")

    # Data live on the device as uint8; one CPU generator drives shuffling and augmentation (device-independent).
    xs, ys = train_x.to(dev), train_y.to(dev)
    gen = torch.Generator().manual_seed(0 if seed is None else seed)
    steps_per_epoch = math.ceil(len(ys) / batch_size)
    opt = _make_optimizer(optimizer, model.parameters(), lr, weight_decay, dev)
    sched = _make_schedule(schedule, opt, lr, epochs * steps_per_epoch)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    criterion = loss_fn or (lambda out, y: F.cross_entropy(out, y, label_smoothing=label_smoothing))
    check_every = 1 if dev.type == "cpu" else 25  # each check syncs the GPU; on the CPU it is free
    if live_plot:
        from .viz import LivePlot

        callbacks = [*callbacks, LivePlot()]

    history = History(device=str(dev), settings=dict(
        epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, optimizer=str(optimizer),
        schedule=schedule, label_smoothing=label_smoothing, amp=str(amp_dtype), channels_last=use_cl,
        compile=compile, seed=seed, normalization=norm, augment=repr(augment) if augment else None))
    autocast = (lambda: torch.autocast(dev.type, dtype=amp_dtype)) if amp_dtype else contextlib.nullcontext
    bar = _progress(epochs * steps_per_epoch, "training", progress)
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            perm = torch.randperm(len(ys), generator=gen).to(dev)
            loss_sum = torch.zeros((), device=dev)
            correct = torch.zeros((), device=dev, dtype=torch.long)
            start = time.perf_counter()
            for step in range(steps_per_epoch):
                idx = perm[step * batch_size:(step + 1) * batch_size]
                x, y = preprocess(xs[idx], norm, use_cl), ys[idx]
                if augment is not None:
                    x = augment(x, gen)
                with autocast():
                    out = step_fn(x)
                    loss = criterion(out, y)
                opt.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    loss.backward()
                    opt.step()
                if sched is not None:
                    sched.step()
                loss_sum += loss.detach() * len(y)
                correct += (out.detach().argmax(1) == y).sum()
                if (step + 1) % check_every == 0 and not torch.isfinite(loss_sum):
                    raise TrainingDivergedError(
                        _diverged_message(epoch, step + 1, lr, float(loss.detach())), history)
                if bar is not None:
                    bar.update(1)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            seconds = time.perf_counter() - start
            train_loss = float(loss_sum) / len(ys)
            if not math.isfinite(train_loss):
                raise TrainingDivergedError(_diverged_message(epoch, steps_per_epoch, lr, train_loss), history)
            history.epoch.append(epoch)
            history.train_loss.append(train_loss)
            history.train_acc.append(int(correct) / len(ys))
            history.seconds.append(seconds)
            history.images_per_s.append(len(ys) / seconds)
            line = (f"epoch {epoch:>2}/{epochs}  train loss {train_loss:.4f}  acc {history.train_acc[-1]:.2%}")
            if test_xy is not None:
                ev = evaluate(model, test_xy, device=dev, normalization=norm, channels_last=use_cl)
                history.test_loss.append(ev.loss)
                history.test_acc.append(ev.accuracy)
                line += f"  | test loss {ev.loss:.4f}  acc {ev.accuracy:.2%}"
            line += f"  | {seconds:.1f} s, {history.images_per_s[-1]:,.0f} img/s"
            if bar is not None:
                bar.set_postfix_str(f"loss {train_loss:.3f}" + (f", test {history.test_acc[-1]:.1%}"
                                                                if test_xy is not None else ""))
            if verbose:
                (bar.write if bar is not None else print)(line)
            for callback in callbacks:
                callback(history)
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Interrupted after {len(history.epoch)} complete epoch(s): the model keeps its current weights "
              "and the history so far is returned.")
    finally:
        if bar is not None:
            bar.close()
    model.eval()
    return history


# ----------------------------------------------------------------------------------------------- evaluation
@torch.no_grad()
def predict(
    model: nn.Module,
    images: torch.Tensor,
    *,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
    normalization: tuple[float, float] | None = None,
    channels_last: bool | None = None,
) -> torch.Tensor:
    """Class probabilities ``float32 (N, classes)`` for a batch of images, computed in eval mode on the CPU side."""
    images = as_image_batch(images)
    dev = get_device(device) if device is not None else next(model.parameters()).device
    norm = tuple(normalization) if normalization is not None else input_normalization(model)
    use_cl = _has_conv(model) if channels_last is None else channels_last
    was_training = model.training
    model.eval()
    try:
        probs = [F.softmax(model(preprocess(chunk.to(dev), norm, use_cl)).float(), dim=1).cpu()
                 for chunk in images.split(batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(probs)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Data,
    *,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
    normalization: tuple[float, float] | None = None,
    channels_last: bool | None = None,
) -> Evaluation:
    """Accuracy, mean cross-entropy, predictions and probabilities of ``model`` on ``data = (images, labels)``."""
    images, labels = check_labelled(data, "data")
    probs = predict(model, images, batch_size=batch_size, device=device, normalization=normalization,
                    channels_last=channels_last)
    if probs.shape[1] <= int(labels.max()):
        raise ValueError(f"The model outputs {probs.shape[1]} classes but the labels go up to {int(labels.max())}")
    labels = labels.cpu()
    loss = F.nll_loss(torch.log(probs.clamp_min(1e-12)), labels).item()
    predictions = probs.argmax(1)
    return Evaluation((predictions == labels).float().mean().item(), loss, predictions, labels, probs)


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int | None = None) -> torch.Tensor:
    """Counts ``int64 (C, C)``: row = true class, column = predicted class."""
    labels, predictions = labels.long().cpu(), predictions.long().cpu()
    if labels.shape != predictions.shape:
        raise ValueError(f"labels {tuple(labels.shape)} and predictions {tuple(predictions.shape)} differ in shape")
    n = num_classes or int(max(labels.max(), predictions.max())) + 1
    return torch.bincount(labels * n + predictions, minlength=n * n).reshape(n, n)


# ---------------------------------------------------------------------------------------------- checkpoints
def save_checkpoint(model: nn.Module, path: str | os.PathLike, **metadata) -> None:
    """Save the state dict (and plain metadata such as class names) — never a pickled model object."""
    payload = {"state_dict": model.state_dict(), "metadata": metadata}
    norm = getattr(model, "input_normalization", None)
    if norm is not None:
        payload["input_normalization"] = tuple(float(v) for v in norm)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save(payload, path)


def load_checkpoint(model: nn.Module, path: str | os.PathLike, device: str | torch.device | None = "cpu") -> dict:
    """Load weights saved by ``save_checkpoint`` into ``model`` (safely, ``weights_only=True``); return metadata."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No checkpoint at {path}; train and save one first (ocrlab.train.save_checkpoint).")
    try:
        payload = torch.load(path, map_location=get_device(device), weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is not a readable ocrlab checkpoint ({type(err).__name__}: {err}).") from err
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise ValueError(f"{path} is not an ocrlab checkpoint (no 'state_dict'); was it saved with save_checkpoint?")
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as err:
        raise ValueError(f"The checkpoint {path} does not fit this model's architecture: {err}") from err
    if "input_normalization" in payload:
        model.input_normalization = tuple(payload["input_normalization"])
    return payload.get("metadata", {})
