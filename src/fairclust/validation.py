"""Checks of user-given values shared by the estimators and the command line (one rule, one place)."""

from __future__ import annotations

from typing import Any

from .errors import FairclustError


def check_delta(value: Any, name: str = "delta", example: str = "delta=0.2", hint: str = " (smaller is fairer)") -> float:
    """The proportion-bound slack as a float in [0, 1), or a one-line error naming ``name``."""
    try:
        delta = float(value)
    except (TypeError, ValueError):
        raise FairclustError(f"{name} must be a number in [0, 1), got {value!r}; e.g. {example}") from None
    if not 0.0 <= delta < 1.0:
        raise FairclustError(f"{name} must be in [0, 1), got {delta}; e.g. {example}{hint}")
    return delta
