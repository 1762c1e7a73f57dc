"""Momentum: SMA, EMA, RSI (Wilder), MACD, relative volume and momentum-shift matching.

Conventions follow TA-Lib's separate EMA calls and StockCharts: an EMA of period ``n`` is
seeded with the simple mean of its first ``n`` values, Wilder's RSI averages are seeded
with the simple mean of the first ``n`` changes, and MACD's signal line is an EMA of the
MACD line seeded the same way. So figures match what traders see on their charts from the
first defined bar, including MACD's warm-up.

Long series (from :data:`comove.analytics.kernels.MOMENTUM_MIN_SIZE` bars, with numba
installed) run the EMA and RSI recursions as compiled loops, about as fast as TA-Lib;
shorter ones use ``scipy.signal.lfilter`` and never load numba.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from comove.analytics.kernels import macd_line, seeded_ema, wilder_rsi
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


def _smooth_values(values: np.ndarray, period: int, decay: float) -> np.ndarray:
    """Seeded smoothing of a float array; NaNs are skipped, not treated as values.

    The first ``period`` non-missing values give the seed (their simple mean), placed on
    the last of them; earlier positions and missing values are NaN.
    """
    out = np.full(len(values), np.nan)
    missing = np.isnan(values)
    first = int(np.argmin(missing)) if len(values) else 0
    positions: np.ndarray | None = None
    if not missing[first:].any():  # the common case: at most a NaN warm-up in front
        valid, target = values[first:], out[first:]
    else:
        positions = np.flatnonzero(~missing)
        valid, target = values[positions], np.full(len(positions), np.nan)
    if len(valid) < period:
        return out
    if not seeded_ema(valid, period, decay, target):
        seed = float(valid[:period].mean())
        target[period - 1] = seed
        target[period:] = _recursive(valid[period:], seed, decay)
    if positions is not None:
        out[positions] = target
    return out


def _ema_values(values: np.ndarray, period: int) -> np.ndarray:
    return _smooth_values(values, period, 1.0 - 2.0 / (period + 1.0))


def ema(close: pd.Series, period: int) -> pd.Series:
    """Exponential moving average, ``k = 2 / (period + 1)``, seeded with the first SMA.

    Missing values (e.g. a MACD line still warming up) are skipped, not treated as values.
    """
    _check_period("EMA", period)
    values = _ema_values(close.to_numpy(dtype="float64"), period)
    return pd.Series(values, index=close.index, name=close.name)


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
    compiled = wilder_rsi(values, period)
    if compiled is not None:
        return pd.Series(compiled, index=close.index, name=close.name)
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
    values = close.to_numpy(dtype="float64")
    # One (3, n) block, handed to pandas without a copy.
    lines = np.empty((3, len(values)))
    finite = len(values) >= slow and bool(np.isfinite(values).all())
    if finite and macd_line(values, fast, slow, lines[0]):
        lines[0, : slow - 1] = np.nan
    else:
        np.subtract(_ema_values(values, fast), _ema_values(values, slow), out=lines[0])
    lines[1] = _ema_values(lines[0], signal)
    np.subtract(lines[0], lines[1], out=lines[2])
    return pd.DataFrame(lines.T, index=close.index, columns=["macd", "signal", "hist"], copy=False)


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
