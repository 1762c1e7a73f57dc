"""The correlation regime of each rolling window: above or below a level, with hysteresis.

A window is *above* once its correlation reaches ``enter`` and stays above until it falls
below ``exit`` (two levels, so a value hovering around one line does not flip every
session); *unknown* while the correlation is undefined. Alerts compare these states
between runs; they never recompute them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comove.errors import ConfigError
from comove.signals.logic import hysteresis

REGIME_WORDS = {1.0: "above", 0.0: "below"}


def correlation_columns(table: pd.DataFrame) -> list[str]:
    """The rolling-correlation columns of an analysis table (``corr_30``, ``corr_60``, ...)."""
    return [c for c in table.columns if c.startswith("corr_") and c[5:].isdigit()]


def correlation_regimes(table: pd.DataFrame, enter: float, exit_: float) -> pd.DataFrame:
    """Per correlation window: 1.0 above, 0.0 below, NaN undefined, on every session."""
    if not exit_ <= enter:
        raise ConfigError(f"the exit level {exit_} must not be above the enter level {enter}")
    return pd.DataFrame(
        {
            column: hysteresis(table[column].to_numpy(dtype="float64"), ">=", enter, exit_)
            for column in correlation_columns(table)
        },
        index=table.index,
        dtype="float64",
    )


def regime_word(value: float) -> str:
    """``above``, ``below`` or ``unknown`` for one regime state."""
    return "unknown" if np.isnan(value) else REGIME_WORDS[float(value)]
