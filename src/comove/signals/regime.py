"""The correlation regime of each rolling window: above or below a level, with hysteresis.

A window is *above* once its correlation reaches ``enter`` and stays above until it falls
below ``exit`` (two levels, so a value hovering around one line does not flip every
session); *unknown* while the correlation is undefined. Alerts compare these states
between runs; they never recompute them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from comove.errors import ConfigError
from comove.signals.logic import hysteresis

if TYPE_CHECKING:
    from comove.analytics.comparison import Regime

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


#: The commentary's regimes, as :func:`commentary_regimes` names them.
REGIME_NAMES = ("risk_on", "crypto_only_moves")

#: Sessions either side of a crypto-only move that count as "around" it.
AROUND_MOVE = 2


def commentary_regimes(
    table: pd.DataFrame,
    breadth_falling: pd.Series,
    crypto_only_moves: pd.Series,
    around: int = AROUND_MOVE,
) -> list[Regime]:
    """The commentary's regimes as session masks (1 inside, 0 outside, NaN unknown).

    *risk-on*: the liquidity score above zero and small-cap breadth rising (its 20-session
    change not negative), both as known that session. *around crypto-only moves*: within
    ``around`` sessions of a crypto-only move (crypto beyond k σ while the index stayed
    quiet, :attr:`~comove.signals.rules.SignalResult.crypto_only_moves`).
    """
    # Only the commentary needs the comparison module (and its statistics): import it here.
    from comove.analytics.comparison import Regime

    score = table["liquidity_score"].to_numpy(dtype="float64")
    falling = breadth_falling.reindex(table.index).to_numpy(dtype="float64")
    known = np.isfinite(score) & np.isfinite(falling)
    risk_on = np.where(known, ((score > 0) & (falling == 0.0)).astype("float64"), np.nan)
    moves = crypto_only_moves.reindex(table.index).to_numpy(dtype="float64")
    flagged = np.flatnonzero(moves == 1.0)
    near = np.zeros(len(moves))
    for i in flagged:
        near[max(0, i - around) : i + around + 1] = 1.0
    near[~np.isfinite(moves) & (near == 0.0)] = np.nan
    return [
        Regime(
            "risk_on",
            "in risk-on sessions",
            "liquidity score above zero and small-cap breadth rising",
            pd.Series(risk_on, index=table.index),
        ),
        Regime(
            "crypto_only_moves",
            f"around crypto-only moves (±{around} sessions)",
            f"within {around} sessions of a crypto move beyond k σ while the index stayed quiet",
            pd.Series(near, index=table.index),
        ),
    ]
