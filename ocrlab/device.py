"""Choose where tensors live: CUDA if present, else Apple's MPS, else the CPU; ``OCRLAB_DEVICE`` overrides."""
from __future__ import annotations

import itertools
import os

import torch

_KNOWN = ("cpu", "cuda", "mps")


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return kind == "cpu"


def _fix_hint(source: str, argument: str) -> str:
    """How to choose the CPU instead, in the words of wherever the bad device came from."""
    if source == "OCRLAB_DEVICE":
        return "Unset OCRLAB_DEVICE or set it to cpu."
    return f"Use {argument} cpu." if argument.startswith("--") else f"Pass {argument}='cpu'."


def get_device(device: str | torch.device | None = None, verbose: bool = False, argument: str = "device"
               ) -> torch.device:
    """Resolve a device: the argument, else ``OCRLAB_DEVICE``, else the best available one.

    An unknown name or a device this machine lacks is a ``ValueError`` that says what is available and how to fix
    it; ``argument`` names the setting in that message (``"--device"`` on the command line).
    """
    source = argument
    if device is None and os.environ.get("OCRLAB_DEVICE", "").strip():
        device, source = os.environ["OCRLAB_DEVICE"].strip(), "OCRLAB_DEVICE"
    if device is None:
        kind = next(k for k in ("cuda", "mps", "cpu") if _available(k))
        chosen, source = torch.device(kind), "auto"
    else:
        try:
            chosen = torch.device(device)
        except (RuntimeError, TypeError) as err:
            raise ValueError(
                f"Unknown device {device!r} (from {source}). Use one of {', '.join(_KNOWN)}, e.g. 'cpu' or 'cuda:0'."
            ) from err
        if chosen.type not in _KNOWN:
            raise ValueError(f"Unsupported device {device!r} (from {source}); ocrlab runs on {', '.join(_KNOWN)}.")
        if not _available(chosen.type):
            have = [k for k in _KNOWN if _available(k)]
            raise ValueError(
                f"Device {device!r} (from {source}) is not available on this machine; available: {', '.join(have)}. "
                + _fix_hint(source, argument)
            )
        if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(
                f"Device {device!r} (from {source}) does not exist: this machine has {torch.cuda.device_count()} GPU(s). "
                + _fix_hint(source, argument)
            )
    if verbose:
        name = torch.cuda.get_device_name(chosen) if chosen.type == "cuda" else chosen.type.upper()
        print(f"Device: {chosen} ({name}; chosen by {source})")
    return chosen


def model_device(model: torch.nn.Module) -> torch.device:
    """Where a model's parameters (or, failing those, buffers) live; the CPU for a model with neither."""
    tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")
