"""Hand-built analysis tables: every input a signal reads, set row by row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from comove.signals.rules import SignalConfig, SignalResult


def sessions(n: int) -> pd.DatetimeIndex:
    return pd.bdate_range("2024-01-01", periods=n, name="date")


def scenario(n: int = 120, **columns: Any) -> pd.DataFrame:
    """A table where synchronized_breakout holds everywhere once its windows fill.

    Both closes rise 1% a session (always at their 20-session high), correlations 0.7 with a
    lower band of 0.5, RSIs rising above 50, relative volume 1.5, liquidity +1, breadth
    rising, the index MACD histogram positive. Keyword arguments replace whole columns.
    """
    index = sessions(n)
    step = np.full(n, 0.01)
    step[0] = 0.0
    crypto_close = 1000.0 * np.exp(np.cumsum(step))
    equity_close = 2000.0 * np.exp(np.cumsum(step))
    crypto_ret = np.log(crypto_close / np.roll(crypto_close, 1))
    equity_ret = np.log(equity_close / np.roll(equity_close, 1))
    crypto_ret[0] = equity_ret[0] = np.nan
    table = pd.DataFrame(
        {
            "crypto_close": crypto_close,
            "equity_close": equity_close,
            "crypto_ret": crypto_ret,
            "equity_ret": equity_ret,
            "corr_30": 0.7,
            "corr_30_lo": 0.5,
            "corr_60": 0.7,
            "corr_60_lo": 0.5,
            "corr_90": 0.7,
            "corr_90_lo": 0.5,
            "rsi_crypto": np.linspace(55.0, 80.0, n),
            "rsi_equity": np.linspace(55.0, 80.0, n),
            "macd_hist_equity": 1.0,
            "relvol_crypto": 1.5,
            "relvol_equity": 1.5,
            "liquidity_score": 1.0,
            "breadth": np.linspace(0.5, 0.6, n),
        },
        index=index,
    )
    for name, values in columns.items():
        table[name] = values
    return table.astype("float64")


def path(*pieces: tuple[int, float]) -> np.ndarray:
    """A piecewise-constant path: ``path((40, 0.3), (10, 0.6))``."""
    return np.concatenate([np.full(count, value, dtype="float64") for count, value in pieces])


def stance_result(stance: list[float] | np.ndarray, index: pd.DatetimeIndex) -> SignalResult:
    """A SignalResult carrying only a given stance (for the backtest accounting)."""
    columns = pd.DataFrame(
        {
            "signal_synchronized_breakout": np.nan,
            "signal_risk_off_alignment": np.nan,
            "signal_decoupling": np.nan,
            "stance": np.asarray(stance, dtype="float64"),
        },
        index=index,
    )
    return SignalResult(
        columns=columns,
        conditions=pd.DataFrame(index=index),
        values=pd.DataFrame(index=index),
        crypto_only_moves=pd.Series(np.nan, index=index),
        history=pd.DataFrame(columns=["date", "signal", "from", "to"]),
        config=SignalConfig(),
    )
