"""The course's training recipes: the settings ``fit`` uses for each model unless told otherwise.

One place, so the command line, the notebooks and the benchmarks train a model the same way.
"""
from __future__ import annotations

from typing import Any

#: model name → keyword arguments of ``ocrlab.train.fit``
RECIPES: dict[str, dict[str, Any]] = {
    # Measured on a 2-core CPU: ≥ 91% Fashion-MNIST / ≥ 99% MNIST test accuracy (benchmarks/RESULTS.md).
    "lenet5": dict(epochs=15, batch_size=256, lr=4e-3, weight_decay=5e-4, optimizer="adamw", schedule="onecycle"),
    "lenet5-classic": dict(epochs=15, batch_size=256, lr=4e-3, weight_decay=5e-4, optimizer="adamw",
                           schedule="onecycle"),
}
DEFAULT_RECIPE: dict[str, Any] = dict(epochs=10, batch_size=128, lr=3e-3, weight_decay=5e-4, optimizer="adamw",
                                      schedule="onecycle")


def recipe(model_name: str, **overrides: Any) -> dict[str, Any]:
    """The recipe of ``model_name`` (or the default one) with ``overrides`` applied (``None`` values ignored)."""
    settings = dict(RECIPES.get(model_name.lower(), DEFAULT_RECIPE))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return settings
