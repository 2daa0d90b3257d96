"""Fast, honest training for small image classifiers: ``fit``, ``evaluate``, ``predict``.

The whole dataset lives on the device as uint8 tensors; each step gathers a batch with a seeded permutation,
converts and normalises it on the device, optionally augments it there, and runs the model (channels_last,
mixed precision on CUDA). No DataLoader, no per-sample Python, no PIL in the hot path: on a 2-core CPU this is
faster than a plain hand-written loop, and several times faster than the textbook DataLoader pipeline
(``benchmarks/train_speed.py`` measures both). ``fit`` is the only training loop: progress bars, live plots,
per-step records and checkpoints listen to its events (``ocrlab.callbacks``).
"""
from __future__ import annotations

import contextlib
import math
import os
import random
import time
import warnings
from dataclasses import dataclass, field, fields
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .callbacks import Callback, Events, Run, StopTraining, as_callbacks, reporters
from .checkpoints import load_checkpoint, load_weights, read_checkpoint, save_checkpoint
from .config import progress_enabled
from .device import get_device, model_device
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

    def append(self, record: dict) -> None:
        """Add one finished epoch: every per-epoch list grows together, so they always have equal lengths."""
        for f in fields(self):
            if isinstance(getattr(self, f.name), list) and f.name in record:
                getattr(self, f.name).append(record[f.name])

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
    """Seed Python, NumPy and torch (CPU and CUDA) so a run can be repeated exactly on the CPU.

    Call it *before* building a model to fix its initial weights; ``fit(seed=...)`` seeds only training."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ------------------------------------------------------------------------------------------------ mechanics
def _amp_dtype(device: torch.device, amp: bool | None) -> torch.dtype | None:
    """bf16 autocast on CUDA by default (fp16 where bf16 is missing); on the CPU only when asked (``amp=True``),
    since bf16 is usually slower than float32 for small convnets there; never on MPS (with a warning)."""
    if amp is False or (amp is None and device.type != "cuda"):
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu":
        return torch.bfloat16
    warnings.warn(f"amp=True is ignored on {device.type}: ocrlab uses mixed precision on CUDA and the CPU only; "
                  "training runs in float32.", stacklevel=3)
    return None


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


def _diverged_message(epoch: int, step: int, lr: float, loss: float) -> str:
    return (f"Training stopped: the loss became {loss} at epoch {epoch}, step {step}. Usual causes: the "
            f"learning rate is too high (lr={lr:g}: try 3–10× lower), or the inputs contain NaN/inf or are not "
            "normalised. The model's weights are now unusable: re-create the model before training again.")


@torch.no_grad()
def _check_labels_fit(model: nn.Module, sets: dict, norm: tuple[float, float], device: torch.device) -> None:
    """One eval-mode forward pass up front: the model must output logits ``(N, classes)`` covering every label."""
    images = next(iter(sets.values()))[0]
    was_training = model.training
    model.eval()
    try:
        out = model(preprocess(images[:1].to(device), norm))
    finally:
        model.train(was_training)
    if out.ndim != 2:
        raise ValueError(f"The model must return logits of shape (N, classes); it returned {tuple(out.shape)}.")
    for name, (_, labels) in sets.items():
        if int(labels.max()) >= out.shape[1]:
            raise ValueError(f"The {name} labels go up to {int(labels.max())} but the model outputs {out.shape[1]} "
                             f"classes: build the model with num_classes={int(labels.max()) + 1}, or check the labels.")


def _restore(run: Run, resume, settings: dict) -> None:
    """Continue a run from a checkpoint written during ``fit`` (``SaveEveryEpoch`` or ``--save``)."""
    payload = read_checkpoint(resume, run.device) if not isinstance(resume, dict) else resume
    state = payload.get("training")
    if state is None:
        raise ValueError(f"{resume} holds weights only (save_checkpoint), not a training state to resume; "
                         "checkpoints written during training (--save, SaveEveryEpoch) can be resumed.")
    saved = state["history"]["settings"]
    keys = ["batch_size", "lr", "optimizer", "schedule"] + (["epochs"] if settings["schedule"] not in
                                                             (None, "constant") else [])
    changed = {k: (saved.get(k), settings[k]) for k in keys if saved.get(k) != settings[k]}
    if changed:
        raise ValueError("Cannot resume with different settings (checkpoint → now): " +
                         ", ".join(f"{k} {a} → {b}" for k, (a, b) in changed.items()) +
                         ". Resume with the settings of the interrupted run.")
    load_weights(run.model, payload, resume if not isinstance(resume, dict) else "checkpoint")
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scheduler is not None and state["scheduler"] is not None:
        run.scheduler.load_state_dict(state["scheduler"])
    for f in fields(run.history):
        if f.name not in ("device", "settings", "interrupted"):
            setattr(run.history, f.name, list(state["history"][f.name]))
    run.generator.set_state(state["generator"].cpu())
    torch.set_rng_state(state["torch_rng"].cpu())
    run.step = int(state["step"])


def _train_epoch(run: Run, xs: torch.Tensor, ys: torch.Tensor, batch_size: int, step: Callable,
                 prepare: Callable, emit: Events) -> dict:
    """One pass over the shuffled training set; returns the epoch's record for ``History.append``."""
    run.model.train()
    perm = torch.randperm(len(ys), generator=run.generator).to(run.device)
    loss_sum = torch.zeros((), device=run.device)
    correct = torch.zeros((), device=run.device, dtype=torch.long)
    check_every = 1 if run.device.type == "cpu" else 25  # each finiteness check syncs a GPU; on the CPU it is free
    start = time.perf_counter()
    for i in range(run.steps_per_epoch):
        idx = perm[i * batch_size:(i + 1) * batch_size]
        y = ys[idx]
        out, run.loss = step(prepare(xs[idx]), y, emit)
        run.step += 1
        loss_sum += run.loss.detach() * len(y)
        correct += (out.detach().argmax(1) == y).sum()
        if (i + 1) % check_every == 0 and not torch.isfinite(loss_sum):
            raise TrainingDivergedError(_diverged_message(run.epoch, i + 1, run.optimizer.param_groups[0]["lr"],
                                                          float(run.loss.detach())), run.history)
        emit("on_batch_end", run)
    if run.device.type == "cuda":
        torch.cuda.synchronize(run.device)
    seconds = time.perf_counter() - start
    train_loss = float(loss_sum) / len(ys)
    if not math.isfinite(train_loss):
        raise TrainingDivergedError(_diverged_message(run.epoch, run.steps_per_epoch,
                                                      run.optimizer.param_groups[0]["lr"], train_loss), run.history)
    return dict(epoch=run.epoch, train_loss=train_loss, train_acc=int(correct) / len(ys), seconds=seconds,
                images_per_s=len(ys) / seconds)


def _optimiser_step(run: Run, forward: Callable, criterion: Callable, scaler, autocast: Callable) -> Callable:
    """The per-batch update as one function: forward, loss, backward (then ``on_after_backward``), step."""
    def step(x: torch.Tensor, y: torch.Tensor, emit: Events):
        with autocast():
            out = forward(x)
            loss = criterion(out, y)
        run.optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        emit("on_after_backward", run)
        scaler.step(run.optimizer)
        scaler.update()
        if run.scheduler is not None:
            run.scheduler.step()
        return out, loss
    return step


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
    callbacks: Sequence[Callback | Callable[["History"], None]] = (),
    resume: str | os.PathLike | dict | None = None,
    verbose: bool = True,
) -> History:
    """Train ``model`` on ``train = (images, labels)``, evaluating on ``test`` after each epoch; return a ``History``.

    Images are ``uint8 (N, H, W)``/``(N, C, H, W)`` (or float in [0, 1]), normalised per batch on the device with
    the training set's mean and std (kept as ``model.input_normalization``). ``augment(x, generator)`` transforms
    each normalised batch (``ocrlab.augment``). ``seed`` fixes shuffling, augmentation and dropout (``None``: a fresh
    random seed, recorded in ``history.settings``); the initial weights are fixed by seeding *before* building the
    model (``seed_everything``). ``amp``: mixed precision, on by default on CUDA (bf16), on the CPU only if True.
    ``callbacks`` listen to the loop's events (``ocrlab.callbacks``); ``resume`` continues a run from a checkpoint
    written during training, with ``epochs`` counting the whole run. A NaN/inf loss raises ``TrainingDivergedError``;
    Ctrl-C stops cleanly and returns the completed epochs.
    """
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"epochs and batch_size must be ≥ 1 and lr > 0; got epochs={epochs}, "
                         f"batch_size={batch_size}, lr={lr}")
    train_x, train_y = check_labelled(train, "train")
    sets = {"train": (train_x, train_y), **({"test": check_labelled(test, "test")} if test is not None else {})}
    dev = get_device(device, verbose=verbose)
    seed = random.SystemRandom().randrange(2**31 - 1) if seed is None else seed
    seed_everything(seed)
    amp_dtype = _amp_dtype(dev, amp)
    use_cl = _has_conv(model) if channels_last is None else channels_last
    norm = tuple(normalization) if normalization is not None else normalization_stats(train_x)
    model.to(dev)
    if use_cl:
        model.to(memory_format=torch.channels_last)
    model.input_normalization = norm
    _check_labels_fit(model, sets, norm, dev)

    xs, ys = train_x.to(dev), train_y.to(dev)  # the whole set on the device, as uint8
    test_xy = (sets["test"][0].to(dev), sets["test"][1]) if test is not None else None
    steps_per_epoch = math.ceil(len(ys) / batch_size)
    opt = _make_optimizer(optimizer, model.parameters(), lr, weight_decay, dev)
    settings = dict(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, optimizer=str(optimizer),
                    schedule=schedule, label_smoothing=label_smoothing, amp=str(amp_dtype), channels_last=use_cl,
                    compile=compile, seed=seed, normalization=norm, augment=repr(augment) if augment else None)
    run = Run(model, opt, _make_schedule(schedule, opt, lr, epochs * steps_per_epoch),
              History(device=str(dev), settings=settings), dev, epochs, steps_per_epoch,
              torch.Generator().manual_seed(seed))
    if resume is not None:
        _restore(run, resume, settings)
    criterion = loss_fn or (lambda out, y: F.cross_entropy(out, y, label_smoothing=label_smoothing))
    autocast = (lambda: torch.autocast(dev.type, dtype=amp_dtype)) if amp_dtype else contextlib.nullcontext
    scaler = torch.amp.GradScaler(dev.type, enabled=amp_dtype == torch.float16)  # a no-op unless fp16
    step = _optimiser_step(run, torch.compile(model) if compile else model, criterion, scaler, autocast)
    prepare = (lambda x: augment(preprocess(x, norm, use_cl), run.generator)) if augment else \
        (lambda x: preprocess(x, norm, use_cl))
    # the reporters come last, so an epoch line is printed once the epoch's checkpoint (if any) is written
    emit = Events([*as_callbacks(callbacks), *reporters(verbose, progress_enabled() if progress is None else progress)])
    if verbose:
        extras = [f"mixed precision {str(amp_dtype).removeprefix('torch.')}" if amp_dtype else "float32",
                  "channels_last" if use_cl else "contiguous", "torch.compile" if compile else "eager"]
        start = f", resuming after epoch {len(run.history.epoch)}" if resume is not None else ""
        print(f"Training on {len(ys)} images for {epochs} epochs (batch {batch_size}, {optimizer}, lr {lr:g}, "
              f"{schedule or 'constant'} schedule; {', '.join(extras)}{start}).")
    try:
        emit("on_train_begin", run)
        for run.epoch in range(len(run.history.epoch) + 1, epochs + 1):
            record = _train_epoch(run, xs, ys, batch_size, step, prepare, emit)
            if test_xy is not None:
                ev = evaluate(model, test_xy, device=dev, normalization=norm, channels_last=use_cl)
                record.update(test_loss=ev.loss, test_acc=ev.accuracy)
            run.history.append(record)  # all of the epoch's fields at once, after its evaluation
            emit("on_epoch_end", run)
    except StopTraining:
        pass
    except KeyboardInterrupt:
        run.history.interrupted = True
        emit("on_interrupt", run)
    finally:
        emit("on_train_end", run)
        model.eval()
    return run.history


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
    dev = get_device(device) if device is not None else model_device(model)
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


__all__ = ["fit", "evaluate", "predict", "confusion_matrix", "History", "Evaluation", "TrainingDivergedError",
           "seed_everything", "save_checkpoint", "load_checkpoint"]
