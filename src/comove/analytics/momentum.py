"""Momentum: SMA, EMA, RSI (Wilder), MACD, relative volume and momentum-shift matching.

Conventions follow TA-Lib's separate EMA calls and StockCharts: an EMA of period ``n`` is
seeded with the simple mean of its first ``n`` values, Wilder's RSI averages are seeded
with the simple mean of the first ``n`` changes, and MACD's signal line is an EMA of the
MACD line seeded the same way. So figures match what traders see on their charts from the
first defined bar, including MACD's warm-up.

The recursions are the plain loops below. A daily series (a few thousand bars) runs them
as Python over a list, which takes well under a millisecond and loads neither scipy nor
numba; from :data:`comove.analytics.rolling.MOMENTUM_MIN_SIZE` bars, with numba
installed, the same loops run compiled (:mod:`comove.analytics._numba.momentum`).
"""

from __future__ import annotations

from collections.abc import MutableSequence, Sequence

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from comove.analytics._inputs import accepts_arrays
from comove.analytics.rolling import MOMENTUM_MIN_SIZE, use_compiled
from comove.errors import DataError

NAN = float("nan")


def ema_loop(
    values: Sequence[float], period: int, decay: float, out: MutableSequence[float]
) -> None:
    """``out[period - 1]`` = mean of the first ``period`` values, then the EMA recursion."""
    total = 0.0
    for i in range(period):
        total += values[i]
    s = total / period
    out[period - 1] = s
    gain = 1.0 - decay
    for i in range(period, len(values)):
        s = gain * values[i] + decay * s
        out[i] = s


def macd_line_loop(
    values: Sequence[float], fast: int, slow: int, out: MutableSequence[float]
) -> None:
    """EMA(fast) - EMA(slow) from bar ``slow - 1``; both recursions in one loop."""
    d_fast = 1.0 - 2.0 / (fast + 1.0)
    d_slow = 1.0 - 2.0 / (slow + 1.0)
    g_fast = 1.0 - d_fast
    g_slow = 1.0 - d_slow
    total = 0.0
    for i in range(fast):
        total += values[i]
    ef = total / fast
    for i in range(fast, slow):
        ef = g_fast * values[i] + d_fast * ef
    total = 0.0
    for i in range(slow):
        total += values[i]
    es = total / slow
    out[slow - 1] = ef - es
    for i in range(slow, len(values)):
        v = values[i]
        ef = g_fast * v + d_fast * ef
        es = g_slow * v + d_slow * es
        out[i] = ef - es


def rsi_loop(close: Sequence[float], period: int, out: MutableSequence[float]) -> None:
    """Wilder RSI from bar ``period``, its averages seeded by the mean of the first changes."""
    gain_sum = 0.0
    loss_sum = 0.0
    for i in range(1, period + 1):
        change = close[i] - close[i - 1]
        if change > 0:
            gain_sum += change
        elif change < 0:
            loss_sum -= change
    avg_gain = gain_sum / period
    avg_loss = loss_sum / period
    decay = (period - 1.0) / period
    gain = 1.0 - decay
    for i in range(period, len(close)):
        if i > period:
            change = close[i] - close[i - 1]
            up = change if change > 0 else 0.0
            down = -change if change < 0 else 0.0
            avg_gain = gain * up + decay * avg_gain
            avg_loss = gain * down + decay * avg_loss
        if avg_loss == 0.0:
            out[i] = 100.0 if avg_gain > 0.0 else NAN
        else:
            out[i] = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def seeded_smoothing(values: np.ndarray, period: int, decay: float) -> np.ndarray:
    """:func:`ema_loop` over finite ``values`` (NaN before ``period - 1``): compiled for long
    series, else run on a list."""
    if use_compiled(len(values), "auto", MOMENTUM_MIN_SIZE):
        from comove.analytics._numba.momentum import ema_kernel

        out = np.full(len(values), np.nan)
        ema_kernel(np.ascontiguousarray(values, dtype="float64"), int(period), float(decay), out)
        return out
    shown = [NAN] * len(values)
    ema_loop(values.tolist(), int(period), float(decay), shown)
    return np.array(shown)


def _run_macd_line(values: np.ndarray, fast: int, slow: int) -> np.ndarray:
    if use_compiled(len(values), "auto", MOMENTUM_MIN_SIZE):
        from comove.analytics._numba.momentum import macd_line_kernel

        out = np.full(len(values), np.nan)
        macd_line_kernel(np.ascontiguousarray(values, dtype="float64"), fast, slow, out)
        return out
    shown = [NAN] * len(values)
    macd_line_loop(values.tolist(), fast, slow, shown)
    return np.array(shown)


def _run_rsi(close: np.ndarray, period: int) -> np.ndarray:
    if use_compiled(len(close), "auto", MOMENTUM_MIN_SIZE):
        from comove.analytics._numba.momentum import rsi_kernel

        out = np.full(len(close), np.nan)
        rsi_kernel(np.ascontiguousarray(close, dtype="float64"), int(period), out)
        return out
    shown = [NAN] * len(close)
    rsi_loop(close.tolist(), int(period), shown)
    return np.array(shown)


def _check_period(name: str, period: int) -> None:
    if int(period) != period or period < 1:
        raise DataError(f"{name} period must be a positive integer, got {period}")


@accepts_arrays("close")
def sma(close: pd.Series, period: int) -> pd.Series:
    """Simple moving average over ``period`` bars; NaN until the window fills."""
    _check_period("SMA", period)
    values = close.to_numpy(dtype="float64")
    out = np.full(len(values), np.nan)
    if len(values) >= period:
        out[period - 1 :] = sliding_window_view(values, period).mean(axis=1)
    return pd.Series(out, index=close.index, name=close.name)


def _smooth_values(values: np.ndarray, period: int, decay: float) -> np.ndarray:
    """Seeded smoothing of a float array; NaNs are skipped, not treated as values.

    The first ``period`` non-missing values give the seed (their simple mean), placed on
    the last of them; earlier positions and missing values are NaN.
    """
    out = np.full(len(values), np.nan)
    missing = np.isnan(values)
    first = int(np.argmin(missing)) if len(values) else 0
    if not missing[first:].any():  # the common case: at most a NaN warm-up in front
        if len(values) - first >= period:
            out[first:] = seeded_smoothing(values[first:], period, decay)
        return out
    positions = np.flatnonzero(~missing)
    if len(positions) >= period:
        out[positions] = seeded_smoothing(values[positions], period, decay)
    return out


def _ema_values(values: np.ndarray, period: int) -> np.ndarray:
    return _smooth_values(values, period, 1.0 - 2.0 / (period + 1.0))


@accepts_arrays("close")
def ema(close: pd.Series, period: int) -> pd.Series:
    """Exponential moving average, ``k = 2 / (period + 1)``, seeded with the first SMA.

    Missing values (e.g. a MACD line still warming up) are skipped, not treated as values.
    """
    _check_period("EMA", period)
    values = _ema_values(close.to_numpy(dtype="float64"), period)
    return pd.Series(values, index=close.index, name=close.name)


@accepts_arrays("close")
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
    return pd.Series(_run_rsi(values, period), index=close.index, name=close.name)


@accepts_arrays("close")
def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD line (EMA fast − EMA slow), its signal line (EMA of the line) and histogram.

    Returns a DataFrame with columns ``macd, signal, hist``. With 12/26/9 the line starts at
    bar 25 and the signal at bar 33 (0-based), as in the textbook definition.
    """
    for name, period in (("MACD fast", fast), ("MACD slow", slow), ("MACD signal", signal)):
        _check_period(name, period)
    if fast >= slow:
        raise DataError(f"MACD fast period ({fast}) must be shorter than the slow one ({slow})")
    values = close.to_numpy(dtype="float64")
    # One (3, n) block, handed to pandas without a copy.
    lines = np.empty((3, len(values)))
    finite = len(values) >= slow and bool(np.isfinite(values).all())
    if finite:
        lines[0] = _run_macd_line(values, fast, slow)
    else:
        np.subtract(_ema_values(values, fast), _ema_values(values, slow), out=lines[0])
    lines[1] = _ema_values(lines[0], signal)
    np.subtract(lines[0], lines[1], out=lines[2])
    return pd.DataFrame(lines.T, index=close.index, columns=["macd", "signal", "hist"], copy=False)


@accepts_arrays("volume")
def relative_volume(volume: pd.Series, window: int = 20) -> pd.Series:
    """Volume divided by the mean volume of the ``window`` bars before it.

    The current bar is left out of its own baseline so a spike is not dampened by itself.
    A zero volume means "not reported" (index feeds do this), not "nothing traded": it is
    missing, both as a value and in baselines, which need half the window reported. NaN
    until then and wherever the volume is missing.
    """
    _check_period("relative volume", window)
    reported = volume.where(volume > 0)
    baseline = reported.rolling(window, min_periods=max(1, window // 2)).mean().shift(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (reported / baseline).to_numpy(dtype="float64", copy=True)
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
