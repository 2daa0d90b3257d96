"""Checkpoints: weights with plain metadata, and resumable training state, written atomically and read safely.

One file format for both: ``{"state_dict", "metadata", "input_normalization"}``, plus ``"training"`` (optimiser,
schedule, epoch, history, settings and random-number state) when written during ``fit``. Files are read with
``torch.load(weights_only=True)``, which never runs code from the file, so only tensors and plain Python values
(str, int, float, bool, None, lists, tuples, dicts) may go in; anything else is refused when saving, not when a
learner later tries to load it. Writes go to a temporary file that replaces the target in one step, so a crash
while saving never leaves a half-written checkpoint.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import torch
import torch.nn as nn

from .device import get_device

if TYPE_CHECKING:
    from .callbacks import Run

_PLAIN = (str, int, float, bool, type(None))


def _check_plain(value: Any, where: str) -> None:
    """Refuse values that ``torch.load(weights_only=True)`` would refuse to read back."""
    if isinstance(value, _PLAIN) or isinstance(value, torch.Tensor):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise TypeError(f"checkpoint metadata {where} has a key of type {type(key).__name__}; use str keys")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise TypeError(f"checkpoint metadata {where} is a {type(value).__name__}, which a safe (weights_only) load "
                    "cannot read back: store plain values (str, int, float, bool, None, lists, dicts, tensors), "
                    "e.g. str(value) or a list of its numbers.")


def _atomic_save(payload: dict, path: str | os.PathLike) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _payload(model: nn.Module, metadata: dict) -> dict:
    for key, value in metadata.items():
        _check_plain(value, repr(key))
    payload = {"state_dict": model.state_dict(), "metadata": dict(metadata)}
    norm = getattr(model, "input_normalization", None)
    if norm is not None:
        payload["input_normalization"] = tuple(float(v) for v in norm)
    return payload


def save_checkpoint(model: nn.Module, path: str | os.PathLike, **metadata: Any) -> None:
    """Save the weights (a state dict, never a pickled model) and plain metadata such as class names."""
    _atomic_save(_payload(model, metadata), path)


def save_training_state(path: str | os.PathLike, run: "Run", **metadata: Any) -> None:
    """Save everything ``fit(resume=...)`` needs to continue exactly where this epoch ended."""
    payload = _payload(run.model, metadata)
    history = asdict(run.history)
    _check_plain(history, "history")
    payload["training"] = {
        "epoch": len(run.history.epoch), "step": run.step, "history": history,
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict() if run.scheduler is not None else None,
        "generator": run.generator.get_state(), "torch_rng": torch.get_rng_state(),
    }
    _atomic_save(payload, path)


def read_checkpoint(path: str | os.PathLike, device: str | torch.device | None = "cpu") -> dict:
    """The raw checkpoint dictionary, read safely (``weights_only=True``), with clear errors for bad files."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No checkpoint at {path}; train and save one first (ocrlab.train.save_checkpoint, "
                                "or python -m ocrlab train ... --save PATH).")
    try:
        payload = torch.load(path, map_location=get_device(device), weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is not a readable ocrlab checkpoint ({type(err).__name__}: {err}).") from err
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise ValueError(f"{path} is not an ocrlab checkpoint (no 'state_dict'); was it saved with save_checkpoint?")
    return payload


def load_weights(model: nn.Module, payload: dict, path: str | os.PathLike = "checkpoint") -> None:
    """Put a checkpoint's weights (and input normalisation) into ``model``; ValueError when they do not fit."""
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as err:
        raise ValueError(f"The checkpoint {path} does not fit this model's architecture: {err}") from err
    if "input_normalization" in payload:
        model.input_normalization = tuple(payload["input_normalization"])


def load_checkpoint(model: nn.Module, path: str | os.PathLike, device: str | torch.device | None = "cpu") -> dict:
    """Load weights saved by ``save_checkpoint`` (or during ``fit``) into ``model``; return the metadata."""
    payload = read_checkpoint(path, device)
    load_weights(model, payload, path)
    return payload.get("metadata", {})


__all__ = ["save_checkpoint", "load_checkpoint", "save_training_state", "read_checkpoint", "load_weights"]
