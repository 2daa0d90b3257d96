"""Choose where tensors live: CUDA if present, else Apple's MPS, else the CPU; ``OCRLAB_DEVICE`` overrides."""
from __future__ import annotations

import os

import torch

_KNOWN = ("cpu", "cuda", "mps")


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    return kind == "cpu"


def get_device(device: str | torch.device | None = None, verbose: bool = False) -> torch.device:
    """Resolve a device: the argument, else ``OCRLAB_DEVICE``, else the best available one.

    An unknown name or a device this machine lacks is a ``ValueError`` that says what is available.
    """
    source = "argument"
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
                "Unset OCRLAB_DEVICE or pass device='cpu'."
            )
        if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(
                f"Device {device!r} (from {source}) does not exist: this machine has {torch.cuda.device_count()} GPU(s)."
            )
    if verbose:
        name = torch.cuda.get_device_name(chosen) if chosen.type == "cuda" else chosen.type.upper()
        print(f"Device: {chosen} ({name}; chosen by {source})")
    return chosen
