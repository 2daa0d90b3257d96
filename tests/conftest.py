"""Shared fixtures: tests never touch the network (OCRLAB_OFFLINE=1) and run on the CPU."""
import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("OCRLAB_OFFLINE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def tiny_digits():
    """A small synthetic digit set (font split), quick to train on."""
    from ocrlab import synth

    train = synth.load_synthetic("train", n_per_class=60, seed=0)
    test = synth.load_synthetic("test", n_per_class=20, seed=0)
    return train, test


# ---------------------------------------------------------------- CI: a skipped test is a failure unless allowed
_ALLOWED = Path(__file__).with_name("allowed_skips.txt")
_skipped: list[tuple[str, str]] = []


def _allowed_prefixes() -> list[str]:
    lines = [line.split("  # ")[0].strip() for line in _ALLOWED.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def pytest_runtest_logreport(report):
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append((report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes") or not _skipped:
        return
    allowed = _allowed_prefixes()
    unexpected = [(node, why) for node, why in _skipped if not any(node.startswith(p) for p in allowed)]
    if unexpected:
        print("\nCI=true: these tests were skipped but are not listed in tests/allowed_skips.txt:")
        for node, why in unexpected:
            print(f"  {node}: {why}")
        session.exitstatus = 1
