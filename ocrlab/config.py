"""Quick vs full mode: one switch (``OCRLAB_QUICK=1``) that shrinks data and epochs for tests and CI.

Learners get full mode by default. Each notebook declares both sizes in one visible cell::

    S = sizes(full=dict(epochs=8, n_train=60_000), quick=dict(epochs=1, n_train=2_000))
"""
from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def quick_mode() -> bool:
    """True when ``OCRLAB_QUICK`` is set to 1/true: small data, few epochs (tests, CI)."""
    return _flag("OCRLAB_QUICK")


def progress_enabled() -> bool:
    """Progress bars are on for learners and off in quick mode, under pytest, or with ``OCRLAB_PROGRESS=0``."""
    setting = os.environ.get("OCRLAB_PROGRESS", "").strip().lower()
    if setting:
        return setting in _TRUE
    return not (quick_mode() or "PYTEST_CURRENT_TEST" in os.environ)


def sizes(*, full: dict[str, Any], quick: dict[str, Any], verbose: bool = True) -> SimpleNamespace:
    """Pick the full or quick sizes of an experiment; both must name the same keys.

    Returns a namespace (``S.epochs``) and prints which mode is active, so a stored notebook says how it ran.
    """
    if set(full) != set(quick):
        raise ValueError(f"full and quick sizes must name the same keys; got {sorted(full)} and {sorted(quick)}")
    chosen = quick if quick_mode() else full
    if verbose:
        mode = "QUICK mode (OCRLAB_QUICK=1)" if quick_mode() else "FULL mode (set OCRLAB_QUICK=1 for a fast smoke run)"
        print(f"{mode}: " + ", ".join(f"{k}={v}" for k, v in chosen.items()))
    return SimpleNamespace(**chosen)
