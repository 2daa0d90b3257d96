"""The course's training recipes: where a model trains best with settings other than ``fit``'s defaults.

One place, so the command line, the notebooks and the benchmarks train a model the same way. A recipe lists only
what differs from ``ocrlab.train.fit``'s defaults; a model without a recipe trains with those defaults.
"""
from __future__ import annotations

from typing import Any

#: model name → keyword arguments of ``ocrlab.train.fit`` that differ from its defaults
RECIPES: dict[str, dict[str, Any]] = {
    # Measured on a 2-core CPU: ≥ 91% Fashion-MNIST / ≥ 99% MNIST test accuracy (benchmarks/RESULTS.md).
    "lenet5": dict(epochs=15, batch_size=256, lr=4e-3),
    "lenet5-classic": dict(epochs=15, batch_size=256, lr=4e-3),
}


def recipe(model_name: str, **overrides: Any) -> dict[str, Any]:
    """The recipe of ``model_name`` (empty: ``fit``'s defaults) with ``overrides`` applied (``None`` ignored)."""
    settings = dict(RECIPES.get(model_name.lower(), {}))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return settings
