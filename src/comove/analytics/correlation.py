"""Co-movement statistics: rolling Pearson/Spearman/EWMA correlation, Fisher bands, beta, lead-lag.

Rolling Pearson correlation, beta and covariance come from :mod:`comove.analytics.rolling`:
an exact two-pass computation per window for small inputs (a daily pair), and for large
ones, when numba is installed, a compiled one-pass kernel that stays within ~1e-12 of it
on returns. Windows follow pandas' ``min_periods`` rule: fewer valid pairs than required
gives NaN; a window where either input is constant gives NaN, never ±inf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, cast, overload

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from comove._json import finite
from comove.analytics._inputs import accepts_arrays
from comove.analytics.momentum import seeded_smoothing
from comove.analytics.rolling import check_window, panel_corr_beta, rolling_stats
from comove.errors import DataError

FloatArray = np.ndarray


def _check_window(window: int, min_periods: int | None) -> int:
    return check_window(window, min_periods)


def _pad(values: FloatArray, n: int) -> FloatArray:
    out = np.full(n, np.nan)
    out[n - len(values) :] = values
    return out


def _as_arrays(x: pd.Series, y: pd.Series) -> tuple[pd.Index, FloatArray, FloatArray]:
    if not x.index.equals(y.index):
        x, y = x.align(y, join="outer")
    return x.index, x.to_numpy(dtype="float64"), y.to_numpy(dtype="float64")


def _rolling(
    x: pd.Series, y: pd.Series, window: int, min_periods: int | None, *stats: str
) -> list[pd.Series]:
    """The requested statistics (``corr``, ``beta`` of x on y, ``cov``) from one pass."""
    check_window(window, min_periods)
    index, xa, ya = _as_arrays(x, y)
    values = rolling_stats(xa, ya, window, min_periods, stats)
    return [pd.Series(values[stat], index=index, name=x.name) for stat in stats]


def rolling_corr_beta(
    x: pd.Series, y: pd.Series, window: int, min_periods: int | None = None
) -> tuple[pd.Series, pd.Series]:
    """Rolling correlation of ``x`` and ``y`` and beta of ``x`` on ``y``, sharing one pass."""
    corr, beta = _rolling(x, y, window, min_periods, "corr", "beta")
    return corr, beta


@overload
def rolling_corr(
    x: pd.Series, y: pd.Series, window: int, min_periods: int | None = None
) -> pd.Series: ...
@overload
def rolling_corr(
    x: pd.DataFrame, y: pd.Series, window: int, min_periods: int | None = None
) -> pd.DataFrame: ...
@overload
def rolling_corr(
    x: np.ndarray, y: np.ndarray, window: int, min_periods: int | None = None
) -> np.ndarray: ...
@accepts_arrays("x", "y", frames=("x",))
def rolling_corr(
    x: pd.Series | pd.DataFrame | np.ndarray,
    y: pd.Series | np.ndarray,
    window: int,
    min_periods: int | None = None,
) -> pd.Series | pd.DataFrame | np.ndarray:
    """Rolling Pearson correlation of ``x`` and ``y`` over ``window`` rows.

    Pass returns, not price levels. Two Series give a Series (aligned on their index), two
    1-D arrays an array; a DataFrame ``x`` gives one column per series, shaped like
    ``x.rolling(window).corr(y)``. Values lie in [-1, 1]; NaN before the window fills,
    where fewer than ``min_periods`` (default: ``window``) pairs are valid, and where either
    input is constant.
    """
    # accepts_arrays has made any array a Series by now.
    bench = cast(pd.Series, y)
    if isinstance(x, pd.DataFrame):
        check_window(window, min_periods)
        if not x.index.equals(bench.index):
            x, bench = x.align(bench, join="outer", axis=0)
        corr, _ = panel_corr_beta(
            x.to_numpy(dtype="float64"), bench.to_numpy(dtype="float64"), window, min_periods
        )
        return pd.DataFrame(corr, index=x.index, columns=x.columns)
    return _rolling(cast(pd.Series, x), bench, window, min_periods, "corr")[0]


@accepts_arrays("y", "x")
def rolling_beta(
    y: pd.Series, x: pd.Series, window: int, min_periods: int | None = None
) -> pd.Series:
    """Rolling OLS slope of ``y`` on ``x``: cov(y, x) / var(x) over ``window`` rows."""
    return _rolling(y, x, window, min_periods, "beta")[0]


@accepts_arrays("x", "y")
def rolling_cov(
    x: pd.Series, y: pd.Series, window: int, min_periods: int | None = None
) -> pd.Series:
    """Rolling sample covariance (divisor n - 1), as ``x.rolling(window).cov(y)``."""
    return _rolling(x, y, window, min_periods, "cov")[0]


def average_ranks(rows: FloatArray) -> FloatArray:
    """Ranks 1..m along the last axis, ties sharing their average rank (``rankdata``'s rule)."""
    m = rows.shape[-1]
    order = np.argsort(rows, axis=-1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=-1)
    starts = np.ones(ordered.shape, dtype=bool)
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    ends = np.ones(ordered.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    position = np.broadcast_to(np.arange(m), ordered.shape)
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=-1)
    last = (m - 1) - np.maximum.accumulate(np.where(ends[..., ::-1], position, 0), axis=-1)[
        ..., ::-1
    ]
    ranks = np.empty(ordered.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=-1)
    return ranks


@accepts_arrays("x", "y")
def rolling_spearman(x: pd.Series, y: pd.Series, window: int) -> pd.Series:
    """Rolling Spearman rank correlation: Pearson on the ranks within each window.

    Ties get their average rank. A window containing any missing value is NaN.
    """
    _check_window(window, None)
    index, xa, ya = _as_arrays(x, y)
    n = len(xa)
    if n < window:
        return pd.Series(np.nan, index=index, name=x.name, dtype="float64")
    xs = sliding_window_view(xa, window)
    ys = sliding_window_view(ya, window)
    complete = np.isfinite(xs).all(axis=1) & np.isfinite(ys).all(axis=1)
    rx = average_ranks(np.where(np.isfinite(xs), xs, 0.0))
    ry = average_ranks(np.where(np.isfinite(ys), ys, 0.0))
    dx = rx - rx.mean(axis=1, keepdims=True)
    dy = ry - ry.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.clip(
            (dx * dy).sum(axis=1) / np.sqrt((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1)), -1, 1
        )
    values[~complete | ~np.isfinite(values)] = np.nan
    return pd.Series(_pad(values, n), index=index, name=x.name)


@accepts_arrays("x", "y")
def ewma_corr(x: pd.Series, y: pd.Series, lam: float = 0.94, min_periods: int = 30) -> pd.Series:
    """RiskMetrics EWMA correlation with decay ``lam`` (zero-mean returns).

    Variances and covariance follow ``s_t = lam * s_{t-1} + (1 - lam) * a_t * b_t``, seeded
    with the plain mean of the products over the first ``min_periods`` valid pairs; rows
    where either input is missing leave the state unchanged and are NaN.
    """
    if not 0.0 < lam < 1.0:
        raise DataError(f"EWMA decay lambda must be between 0 and 1, got {lam}")
    index, xa, ya = _as_arrays(x, y)
    out = np.full(len(xa), np.nan)
    valid = np.flatnonzero(np.isfinite(xa) & np.isfinite(ya))
    if len(valid) < min_periods or min_periods < 1:
        return pd.Series(out, index=index, name=x.name)
    a, b = xa[valid], ya[valid]

    def smooth(products: FloatArray) -> FloatArray:
        return seeded_smoothing(products, min_periods, lam)[min_periods - 1 :]

    cov, var_a, var_b = smooth(a * b), smooth(a * a), smooth(b * b)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.clip(cov / np.sqrt(var_a * var_b), -1.0, 1.0)
    corr[~np.isfinite(corr)] = np.nan
    out[valid[min_periods - 1 :]] = corr
    return pd.Series(out, index=index, name=x.name)


@overload
def fisher_ci(r: float, n: float, level: float = 0.95) -> tuple[float, float]: ...
@overload
def fisher_ci(
    r: pd.Series, n: float | pd.Series, level: float = 0.95
) -> tuple[pd.Series, pd.Series]: ...
@overload
def fisher_ci(
    r: FloatArray, n: float | FloatArray, level: float = 0.95
) -> tuple[FloatArray, FloatArray]: ...
def fisher_ci(r, n, level=0.95):  # type: ignore[no-untyped-def]
    """Confidence interval for a Pearson correlation ``r`` from ``n`` pairs (Fisher z).

    ``tanh(atanh(r) ± z / sqrt(n - 3))`` with ``z`` the normal quantile for ``level``.
    NaN where ``n <= 3`` or ``r`` is NaN. Works on floats, arrays and Series.
    """
    if not 0.0 < level < 1.0:
        raise DataError(f"confidence level must be between 0 and 1, got {level}")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    r_arr = np.asarray(r, dtype="float64")
    n_arr = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.arctanh(np.clip(r_arr, -1.0, 1.0))
        half = z / np.sqrt(np.where(n_arr > 3, n_arr - 3, np.nan))
        lo, hi = np.tanh(centre - half), np.tanh(centre + half)
    if isinstance(r, pd.Series):
        return pd.Series(lo, index=r.index), pd.Series(hi, index=r.index)
    if np.ndim(lo) == 0:
        return float(lo), float(hi)
    return lo, hi


def _pair_corr(a: FloatArray, b: FloatArray) -> tuple[float, int]:
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 3:
        return float("nan"), n
    da, db = a - a.mean(), b - b.mean()
    denom = np.sqrt((da * da).sum() * (db * db).sum())
    return (float(np.clip((da * db).sum() / denom, -1, 1)) if denom > 0 else float("nan")), n


@accepts_arrays("x", "y")
def lead_lag(x: pd.Series, y: pd.Series, max_lag: int = 10) -> pd.Series:
    """Cross-correlation ``corr(x_t, y_{t+lag})`` for lags ``-max_lag .. max_lag``.

    The index is the lag in rows (sessions). A positive lag means ``x`` leads ``y``: today's
    ``x`` correlates with ``y`` ``lag`` sessions later. Each lag uses all overlapping pairs.
    """
    if max_lag < 0:
        raise DataError(f"max lag must be zero or more, got {max_lag}")
    _, xa, ya = _as_arrays(x, y)
    lags = np.arange(-max_lag, max_lag + 1)
    values = []
    for lag in lags:
        if lag >= 0:
            a, b = xa[: len(xa) - lag], ya[lag:]
        else:
            a, b = xa[-lag:], ya[: len(ya) + lag]
        values.append(_pair_corr(a, b)[0])
    return pd.Series(values, index=pd.Index(lags, name="lag"), name="corr")


@dataclass(frozen=True)
class LeadLagSummary:
    """The strongest lag of a cross-correlation and how surprising it is.

    ``p_value`` is two-sided for that one lag (Fisher z); ``p_adjusted`` multiplies it by
    the number of lags scanned (Bonferroni), since the best of many lags is picked.
    """

    best_lag: int
    corr: float
    n: int
    p_value: float
    p_adjusted: float
    lag0_corr: float

    @property
    def significant(self) -> bool:
        return bool(self.p_adjusted < 0.05)

    def to_dict(self) -> dict[str, Any]:
        return {
            "best_lag": self.best_lag,
            "corr": finite(self.corr),
            "n": self.n,
            "p_value": finite(self.p_value),
            "p_adjusted": finite(self.p_adjusted),
            "lag0_corr": finite(self.lag0_corr),
            "significant": self.significant,
        }


@accepts_arrays("x", "y")
def lead_lag_summary(x: pd.Series, y: pd.Series, max_lag: int = 10) -> LeadLagSummary:
    """Pick the lag with the largest absolute cross-correlation and test it."""
    ccf = lead_lag(x, y, max_lag)
    if ccf.isna().all():
        raise DataError("lead-lag needs at least three overlapping observations")
    best = int(ccf.index[int(np.argmax(ccf.abs().fillna(-1.0).to_numpy()))])
    _, xa, ya = _as_arrays(x, y)
    a, b = (xa[: len(xa) - best], ya[best:]) if best >= 0 else (xa[-best:], ya[: len(ya) + best])
    r, n = _pair_corr(a, b)
    if n > 3 and abs(r) < 1:
        z = abs(np.arctanh(r)) * np.sqrt(n - 3)
        p = math.erfc(float(z) / math.sqrt(2.0))
    else:
        p = 0.0 if abs(r) == 1 else float("nan")
    return LeadLagSummary(
        best_lag=best,
        corr=r,
        n=n,
        p_value=p,
        p_adjusted=min(1.0, p * len(ccf)) if math.isfinite(p) else float("nan"),
        lag0_corr=float(ccf.loc[0]),
    )


@accepts_arrays("x", "y")
def lag_adjusted_corr(x: pd.Series, y: pd.Series, window: int) -> pd.Series:
    """Rolling correlation that also counts one-session leads and lags.

    ``(cov(x_t, y_t) + cov(x_t, y_{t-1}) + cov(x_{t-1}, y_t)) / sqrt(var x * var y)`` over
    ``window`` rows: non-synchronous closes (crypto's UTC midnight vs the 16:00 New York
    equity close) spread co-movement over adjacent sessions, and this gathers it back. Being
    a sum of three terms it is not bounded by 1.
    """
    index, xa, ya = _as_arrays(x, y)
    xs = pd.Series(xa, index=index)
    ys = pd.Series(ya, index=index)
    cov = (
        rolling_cov(xs, ys, window)
        + rolling_cov(xs, ys.shift(1), window)
        + rolling_cov(xs.shift(1), ys, window)
    )
    var_x = rolling_cov(xs, xs, window)
    var_y = rolling_cov(ys, ys, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        values: FloatArray = (cov / np.sqrt(var_x * var_y)).to_numpy(dtype="float64", copy=True)
    values[~np.isfinite(values)] = np.nan
    return pd.Series(values, index=index, name=x.name)
