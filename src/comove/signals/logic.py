"""Three-valued signal logic: hysteresis, Kleene AND/OR, strict AND, minimum duration.

States are float arrays: 1.0 pass/on, 0.0 fail/off, NaN unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

Comparison = Literal[">=", ">", "<", "<="]


def hysteresis(
    values: np.ndarray, comparison: Comparison, enter: float, exit_: float
) -> np.ndarray:
    """Pass (1.0) / fail (0.0) / unknown (NaN) per row, entering and leaving at two levels.

    A missing value is unknown and forgets the previous state: the condition has to reach the
    enter level again afterwards. The enter level is the stricter one (as in SignalConfig).
    """
    passes = _COMPARE[comparison]
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        entered = finite & passes(values, enter)
        left = finite & ~passes(values, exit_)
    # Each row either decides the state (enter, leave, or a missing value that resets it)
    # or, between the two levels, carries the previous state forward.
    decided = np.full(len(values), np.nan)
    decided[left | ~finite] = 0.0
    decided[entered] = 1.0
    state = pd.Series(decided).ffill().fillna(0.0).to_numpy()
    return np.where(finite, state, np.nan)


_COMPARE: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<": np.less,
    "<=": np.less_equal,
}


def kleene_and(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Three-valued AND: false if any part is false, else unknown if any is unknown."""
    stack = np.vstack(parts)
    out = np.where(np.isnan(stack).any(axis=0), np.nan, 1.0)
    out[(stack == 0.0).any(axis=0)] = 0.0
    return out


def kleene_or(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Three-valued OR: true if any part is true, else unknown if any is unknown."""
    stack = np.vstack(parts)
    out = np.where(np.isnan(stack).any(axis=0), np.nan, 0.0)
    out[(stack == 1.0).any(axis=0)] = 1.0
    return out


def strict_and(parts: Sequence[np.ndarray]) -> np.ndarray:
    """A signal's raw state: unknown as soon as any required condition is unknown."""
    stack = np.vstack(parts)
    out = np.where((stack == 1.0).all(axis=0), 1.0, 0.0)
    out[np.isnan(stack).any(axis=0)] = np.nan
    return out


def hold(raw: np.ndarray, min_duration: int) -> np.ndarray:
    """Keep an on/off state for at least ``min_duration`` sessions before it may change.

    Changes to or from unknown happen at once; between on and off the previous state holds
    until it is ``min_duration`` sessions old.
    """
    out = np.full(len(raw), np.nan)
    state = math.nan
    age = 0
    # Plain floats: a loop over NumPy scalars is several times slower.
    for i, r in enumerate(raw.tolist()):
        if math.isnan(r) or math.isnan(state):
            if not (math.isnan(r) and math.isnan(state)) and r != state:
                age = 0
            state = r
        elif r != state and age >= min_duration:
            state = r
            age = 0
        age += 1
        out[i] = state
    return out
