"""Momentum: SMA, EMA, RSI (Wilder), MACD, relative volume and momentum-shift matching.

Conventions follow TA-Lib's separate EMA calls and StockCharts: an EMA of period ``n`` is
seeded with the simple mean of its first ``n`` values, Wilder's RSI averages are seeded
with the simple mean of the first ``n`` changes, and MACD's signal line is an EMA of the
MACD line seeded the same way. So figures match what traders see on their charts from the
first defined bar, including MACD's warm-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from comove.errors import DataError


def _check_period(name: str, period: int) -> None:
    if int(period) != period or period < 1:
        raise DataError(f"{name} period must be a positive integer, got {period}")


def _recursive(values: np.ndarray, seed: float, decay: float) -> np.ndarray:
    """``s_t = decay * s_{t-1} + (1 - decay) * v_t`` from ``seed``, run in compiled code."""
    from scipy.signal import lfilter

    return np.asarray(lfilter([1.0 - decay], [1.0, -decay], values, zi=[decay * seed])[0])


def sma(close: pd.Series, period: int) -> pd.Series:
    """Simple moving average over ``period`` bars; NaN until the window fills."""
    _check_period("SMA", period)
    values = close.to_numpy(dtype="float64")
    out = np.full(len(values), np.nan)
    if len(values) >= period:
        out[period - 1 :] = sliding_window_view(values, period).mean(axis=1)
    return pd.Series(out, index=close.index, name=close.name)


def _seeded_smoothing(close: pd.Series, period: int, decay: float) -> pd.Series:
    # Leading NaNs (e.g. a MACD line still warming up) are skipped, not treated as values.
    valid = close.dropna()
    out = pd.Series(np.nan, index=close.index, name=close.name, dtype="float64")
    if len(valid) < period:
        return out
    values = valid.to_numpy(dtype="float64")
    seed = float(values[:period].mean())
    smoothed = np.concatenate(([seed], _recursive(values[period:], seed, decay)))
    out.loc[valid.index[period - 1 :]] = smoothed
    return out


def ema(close: pd.Series, period: int) -> pd.Series:
    """Exponential moving average, ``k = 2 / (period + 1)``, seeded with the first SMA."""
    _check_period("EMA", period)
    return _seeded_smoothing(close, period, 1.0 - 2.0 / (period + 1.0))


def rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Relative Strength Index with Wilder smoothing.

    Average gain and loss start as the simple mean of the first ``period`` changes (first RSI
    at bar ``period``), then ``avg = (avg_prev * (period - 1) + x) / period``. 100 when there
    were no losses, NaN when the price did not move at all.
    """
    _check_period("RSI", period)
    values = close.to_numpy(dtype="float64")
    out = np.full(len(values), np.nan)
    if len(values) <= period:
        return pd.Series(out, index=close.index, name=close.name)
    change = np.diff(values)
    gains, losses = np.clip(change, 0, None), np.clip(-change, 0, None)
    decay = (period - 1.0) / period
    avg_gain = np.concatenate(
        ([gains[:period].mean()], _recursive(gains[period:], gains[:period].mean(), decay))
    )
    avg_loss = np.concatenate(
        ([losses[:period].mean()], _recursive(losses[period:], losses[:period].mean(), decay))
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        result = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    result[(avg_loss == 0) & (avg_gain > 0)] = 100.0
    result[(avg_loss == 0) & (avg_gain == 0)] = np.nan
    out[period:] = result
    return pd.Series(out, index=close.index, name=close.name)


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD line (EMA fast − EMA slow), its signal line (EMA of the line) and histogram.

    Returns a DataFrame with columns ``macd, signal, hist``. With 12/26/9 the line starts at
    bar 25 and the signal at bar 33 (0-based), as in the textbook definition.
    """
    for name, period in (("MACD fast", fast), ("MACD slow", slow), ("MACD signal", signal)):
        _check_period(name, period)
    if fast >= slow:
        raise DataError(f"MACD fast period ({fast}) must be shorter than the slow one ({slow})")
    line = ema(close, fast) - ema(close, slow)
    signal_line = ema(line, signal)
    return pd.DataFrame(
        {"macd": line, "signal": signal_line, "hist": line - signal_line}, index=close.index
    )


def relative_volume(volume: pd.Series, window: int = 20) -> pd.Series:
    """Volume divided by the mean volume of the ``window`` bars before it.

    The current bar is left out of its own baseline so a spike is not dampened by itself.
    NaN until ``window`` earlier bars exist and wherever that mean is zero or missing.
    """
    _check_period("relative volume", window)
    baseline = sma(volume, window).shift(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (volume / baseline.where(baseline > 0)).to_numpy(dtype="float64", copy=True)
    values[~np.isfinite(values)] = np.nan
    return pd.Series(values, index=volume.index, name=volume.name)


def momentum_shifts(rsi_values: pd.Series, macd_hist: pd.Series) -> pd.DataFrame:
    """Bar-by-bar momentum shifts: +1 turning up, −1 turning down, 0 none.

    ``rsi_shift`` marks RSI crossing 50; ``macd_shift`` marks the MACD histogram changing sign.
    """

    def crossings(values: pd.Series, level: float) -> pd.Series:
        side = np.sign(values - level)
        previous = side.shift(1)
        turned = (side != previous) & side.notna() & previous.notna() & (side != 0)
        return side.where(turned, 0.0).fillna(0.0).astype("int64")

    return pd.DataFrame(
        {"rsi_shift": crossings(rsi_values, 50.0), "macd_shift": crossings(macd_hist, 0.0)}
    )


def matched_shifts(crypto: pd.DataFrame, equity: pd.DataFrame, within: int = 3) -> pd.DataFrame:
    """Momentum shifts that happened the same way on both assets within ``within`` rows.

    ``crypto`` and ``equity`` are :func:`momentum_shifts` frames on the same (aligned) index.
    Each row of the result is a match, dated on the later of the two shifts, with the
    ``indicator`` (``rsi`` or ``macd``), its ``direction`` (``up``/``down``) and the
    ``gap`` in rows between the two shifts.
    """
    if within < 0:
        raise DataError(f"the matching window must be zero or more sessions, got {within}")
    if not crypto.index.equals(equity.index):
        raise DataError("momentum shifts must be on the same sessions to be matched")
    rows: list[dict[str, object]] = []
    dates = crypto.index
    for indicator in ("rsi", "macd"):
        a = crypto[f"{indicator}_shift"].to_numpy()
        b = equity[f"{indicator}_shift"].to_numpy()
        used_b: set[int] = set()
        for i in (int(k) for k in np.flatnonzero(a)):
            lo, hi = max(0, i - within), min(len(b), i + within + 1)
            candidates = [j for j in range(lo, hi) if b[j] == a[i] and j not in used_b]
            if not candidates:
                continue
            j = min(candidates, key=lambda k: (abs(k - i), k))
            used_b.add(j)
            rows.append(
                {
                    "date": dates[max(i, j)],
                    "indicator": indicator,
                    "direction": "up" if a[i] > 0 else "down",
                    "gap": int(abs(int(i) - j)),
                }
            )
    result = pd.DataFrame(rows, columns=["date", "indicator", "direction", "gap"])
    return result.sort_values("date", kind="stable").reset_index(drop=True)
