"""Exercise checks (CS231n style): each ``check_*`` function prints ✓ on success or a hint on failure.

They return True/False so a notebook can ``assert`` on them; they never raise for a wrong answer, because a
learner's first attempt should get a hint, not a stack trace.
"""
from __future__ import annotations


def report(passed: bool, name: str, hint: str) -> bool:
    """Print the outcome of one exercise check and return it."""
    if passed:
        print(f"✓ {name}: correct.")
    else:
        print(f"✗ {name}: not yet. Hint: {hint}")
    return bool(passed)
