"""Seed sweeps: train the same model under several seeds and report mean ± spread, so a notebook asserts only what
holds beyond the run-to-run noise. One loop (``ocrlab.train.fit``), many seeds; nothing here plots.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn as nn

from .train import History, fit, seed_everything


@dataclass(frozen=True)
class Spread:
    """Values of one metric over seeds: ``mean``, ``std`` (sample standard deviation), ``lo``/``hi`` (min/max)."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def std(self) -> float:
        n = len(self.values)
        if n < 2:
            return 0.0
        return math.sqrt(sum((v - self.mean) ** 2 for v in self.values) / (n - 1))

    @property
    def lo(self) -> float:
        return min(self.values)

    @property
    def hi(self) -> float:
        return max(self.values)

    def __sub__(self, other: "Spread") -> "Spread":
        """Per-seed difference (seed i of ``self`` minus seed i of ``other``): a paired comparison."""
        if len(self.values) != len(other.values):
            raise ValueError(f"paired difference needs the same number of seeds, got {len(self.values)} and "
                             f"{len(other.values)}")
        return Spread(tuple(a - b for a, b in zip(self.values, other.values)))

    def percent(self) -> str:
        """``'91.23 ± 0.45 %'``: mean ± sample std of a fraction, in percent."""
        return f"{100 * self.mean:.2f} ± {100 * self.std:.2f} %"

    def points(self) -> str:
        """``'+1.23 ± 0.45 pt'``: mean ± std of a difference of fractions, in percentage points."""
        return f"{100 * self.mean:+.2f} ± {100 * self.std:.2f} pt"

    def __repr__(self) -> str:
        return f"Spread(mean={self.mean:.4f}, std={self.std:.4f}, n={len(self.values)})"


def beyond_spread(a: Spread, b: Spread) -> bool:
    """True when ``a`` is above ``b`` by more than the seed noise: ``mean(a) − mean(b) > std(a) + std(b)``."""
    return a.mean - b.mean > a.std + b.std


@dataclass
class Run:
    seed: int
    model: nn.Module
    history: History


@dataclass
class Sweep:
    """The runs of one model under several seeds; ``metric(fn)`` evaluates ``fn(model)`` on every run."""

    name: str
    runs: list[Run] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accuracy(self) -> Spread:
        """Final test accuracy of each seed."""
        return Spread(tuple(r.history.final_test_acc for r in self.runs))

    def metric(self, fn: Callable[[nn.Module], float]) -> Spread:
        return Spread(tuple(float(fn(r.model)) for r in self.runs))

    def __repr__(self) -> str:
        return f"Sweep({self.name!r}: {self.accuracy.percent()} over seeds {[r.seed for r in self.runs]}, {self.seconds:.0f} s)"


def seed_sweep(make_model: Callable[[], nn.Module], train, test=None, seeds: Sequence[int] = (0, 1, 2),
               name: str = "model", verbose: bool = True, **fit_kwargs) -> Sweep:
    """Build ``make_model()`` and ``fit`` it once per seed (model initialisation and data order both follow the seed).

    ``fit_kwargs`` go to ``ocrlab.train.fit`` (``verbose=False`` there; one summary line per seed here instead).
    """
    if not seeds:
        raise ValueError("give at least one seed")
    # data sets that unpack like a pair (``synth.SyntheticCharacters``) become one
    train = train if isinstance(train, (tuple, list)) else tuple(train)
    test = test if test is None or isinstance(test, (tuple, list)) else tuple(test)
    sweep = Sweep(name)
    start = time.perf_counter()
    for seed in seeds:
        seed_everything(seed)
        model = make_model()
        history = fit(model, train, test, seed=seed, verbose=False, **fit_kwargs)
        sweep.runs.append(Run(seed, model, history))
        if verbose and test is not None:
            print(f"  {name} seed {seed}: test accuracy {history.final_test_acc:.2%} ({history.train_seconds:.0f} s)")
    sweep.seconds = time.perf_counter() - start
    return sweep


def accuracy_by_group(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, groups: torch.Tensor,
                      n_groups: int) -> torch.Tensor:
    """Accuracy of ``model`` within each group ``0 … n_groups−1`` (e.g. text-size bins): float ``(n_groups,)``."""
    from .train import evaluate

    result = evaluate(model, (images, labels))
    correct = (result.predictions == result.labels).float()
    out = torch.full((n_groups,), float("nan"))
    for g in range(n_groups):
        mask = groups == g
        if mask.any():
            out[g] = correct[mask].mean()
    return out


__all__ = ["Spread", "beyond_spread", "Run", "Sweep", "seed_sweep", "accuracy_by_group"]
