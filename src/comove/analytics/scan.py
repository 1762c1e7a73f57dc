"""A universe scan's per-asset statistics: the exact numpy path and the compiled pass.

For columns of log returns sharing one benchmark (rows = sessions), :func:`group_stats`
gives what a scan row shows: the latest window of each length with its Fisher band and
beta, how long the main window's correlation has stayed on its side of a threshold (and
whether it crossed recently), and the strongest lead-lag over the last sessions. With
numba installed the compiled pass (:mod:`comove.analytics._numba.scan`, through
:func:`scan_statistics`) visits each column once; the numpy functions here are its exact
twins and the fallback (tested equal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from comove.analytics.correlation import fisher_ci, lead_lag
from comove.analytics.rolling import (
    FloatArray,
    numba_available,
    panel_corr_beta,
    recompute_every,
)

NEWLY_COUPLED = "newly coupled"
NEWLY_DECOUPLED = "newly decoupled"


@dataclass(frozen=True)
class ScanParams:
    """The numbers a scan computes: windows (``main`` rolled whole), the threshold whose
    side is tracked, how recent a cross counts as new, and the lead-lag span and lags."""

    windows: tuple[int, ...]
    main: int
    threshold: float
    change_within: int
    lead_lag_sessions: int
    max_lag: int


# --- the rolling kernel: one small function so the compiled kernel drops in -------------


def corr_beta(returns: np.ndarray, bench: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling correlation and beta (of each column on ``bench``) for a ``(n, K)`` panel.

    The compiled panel kernel when numba is installed, else the exact numpy path; both
    follow pandas' ``min_periods`` (= window) rule and give NaN on constant windows.
    """
    corr, beta = panel_corr_beta(
        returns, bench, window, engine="numba" if numba_available() else "numpy"
    )
    return np.asarray(corr).reshape(returns.shape), np.asarray(beta).reshape(returns.shape)


def latest_corr_beta(
    returns: np.ndarray, bench: np.ndarray, ends: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Correlation and beta of the one window ending at row ``ends[k]`` of each column.

    Exact two-pass over the window, with the rolling functions' rules: every one of the
    ``window`` pairs must be valid (``min_periods`` = window), and a constant input gives
    NaN. Equal to the last value of the rolling series, at O(window) instead of O(n).
    """
    k = returns.shape[1]
    rows = ends[None, :] - np.arange(window - 1, -1, -1)[:, None]
    inside = rows >= 0
    rows = np.where(inside, rows, 0)
    x = np.where(inside, returns[rows, np.arange(k)[None, :]], np.nan)
    y = np.where(inside, bench[rows], np.nan)
    complete = (np.isfinite(x) & np.isfinite(y)).all(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = x - x.mean(axis=0)
        dy = y - y.mean(axis=0)
        sxx, syy, sxy = (dx * dx).sum(axis=0), (dy * dy).sum(axis=0), (dx * dy).sum(axis=0)
        corr = np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0)
        beta = sxy / syy
    constant_x = x.max(axis=0) == x.min(axis=0)
    constant_y = y.max(axis=0) == y.min(axis=0)
    corr[~complete | constant_x | constant_y] = np.nan
    beta[~complete | constant_y | ~np.isfinite(beta)] = np.nan
    return corr, beta


# --- lead-lag over the last sessions ---------------------------------------------------


def lead_lag_panel(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """``corr(x_t, y_{t+lag})`` for every column of ``x`` (no NaN), lags ``-max_lag..max_lag``.

    The same numbers as :func:`comove.lead_lag` on each column (each lag uses the
    overlapping pairs, with their own means), from prefix sums and one vectorised product
    per lag instead of one Python call per asset and lag. Returns ``(2 * max_lag + 1, K)``.
    """
    # Column-major, and sums along each column only (no BLAS), so a column's numbers never
    # depend on which other columns share its block: the engines agree bit for bit.
    x = np.asfortranarray(x, dtype="float64")
    n = x.shape[0]
    # Centring first keeps the one-pass sums well conditioned (correlation is shift-free).
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    zeros = np.zeros((1, x.shape[1]))
    sx = np.concatenate((zeros, np.cumsum(xc, axis=0)))
    sxx = np.concatenate((zeros, np.cumsum(xc * xc, axis=0)))
    sy = np.concatenate(([0.0], np.cumsum(yc)))
    syy = np.concatenate(([0.0], np.cumsum(yc * yc)))
    out = np.full((2 * max_lag + 1, x.shape[1]), np.nan)
    for i, lag in enumerate(range(-max_lag, max_lag + 1)):
        m = n - abs(lag)
        if m < 3:
            continue
        x0, y0 = (0, lag) if lag >= 0 else (-lag, 0)
        a_sum, a_sq = sx[x0 + m] - sx[x0], sxx[x0 + m] - sxx[x0]
        b_sum, b_sq = sy[y0 + m] - sy[y0], syy[y0 + m] - syy[y0]
        cross = (xc[x0 : x0 + m] * yc[y0 : y0 + m, None]).sum(axis=0)
        cov = cross - a_sum * b_sum / m
        var_a = a_sq - a_sum * a_sum / m
        var_b = b_sq - b_sum * b_sum / m
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.clip(cov / np.sqrt(var_a * var_b), -1.0, 1.0)
        r[~((var_a > 0) & (var_b > 0))] = np.nan
        out[i] = r
    return out


def _best_lag(ccf: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Lag of the largest absolute correlation per column (first on ties, as lead_lag_summary)."""
    strength = np.where(np.isfinite(ccf), np.abs(ccf), -1.0)
    pick = np.argmax(strength, axis=0)
    cols = np.arange(ccf.shape[1])
    corr = ccf[pick, cols]
    lag = (pick - max_lag).astype("float64")
    lag[~np.isfinite(corr)] = np.nan
    return lag, corr


# --- one aligned group -------------------------------------------------------------------


def _sides(values: np.ndarray, threshold: float) -> np.ndarray:
    """1 above ``threshold``, 0 at or below it, -1 undefined (NaN)."""
    return np.where(np.isnan(values), -1, values > threshold).astype("int8")


def _side_run(
    corr: np.ndarray, ends: np.ndarray, threshold: float, within: int, step: int = 128
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Side of ``threshold`` at each column's end, sessions on it, and a recent-cross flag.

    Walks back from each column's end ``step`` rows at a time and stops at the first row
    on another side, so a typical run costs a few hundred reads, not the whole history.
    """
    k = corr.shape[1]
    last = _sides(corr[ends, np.arange(k)], threshold)
    last_diff = np.full(k, -1)  # row of the latest session on another side; -1: none
    before = np.full(k, -1, dtype="int8")
    pending = np.arange(k)
    top = ends.copy()  # next row to look at, going back
    back = np.arange(step)[:, None]
    while pending.size:
        rows = top[pending][None, :] - back
        inside = rows >= 0
        states = _sides(corr[np.maximum(rows, 0), pending[None, :]], threshold)
        differ = (states != last[pending][None, :]) & inside
        found = differ.any(axis=0)
        first = np.argmax(differ, axis=0)
        hit = pending[found]
        last_diff[hit] = rows[first[found], np.flatnonzero(found)]
        before[hit] = states[first[found], np.flatnonzero(found)]
        top[pending] -= step
        pending = pending[~found & (top[pending] >= 0)]
    return _side_labels(last, ends - last_diff, before, within)


def _side_labels(
    last: np.ndarray, run: np.ndarray, before: np.ndarray, within: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Side names, sessions on the side (0 when undefined) and the recent-cross flag."""
    run = np.where(last >= 0, run, 0).astype("int64")
    side = np.where(last == 1, "above", np.where(last == 0, "below", ""))
    crossed = (last >= 0) & (before >= 0) & (run <= within)
    change = np.where(crossed, np.where(last == 1, NEWLY_COUPLED, NEWLY_DECOUPLED), "")
    return side.astype(object), run, change.astype(object)


def group_stats(
    returns: np.ndarray,
    bench: np.ndarray,
    firsts: np.ndarray,
    ends: np.ndarray,
    params: ScanParams,
) -> dict[str, np.ndarray]:
    """Statistics for columns sharing one benchmark return vector (rows = sessions).

    With numba installed, the compiled one-pass kernel (:func:`scan_statistics`) runs;
    the columns it cannot take (a non-finite return inside their span) and every column
    without numba run the exact numpy path, which computes the same numbers.
    """
    # A scan pays numba's one-off load (~0.5 s from its cache) gladly, and a column's
    # numbers then never depend on the size of the block it came in.
    if not (numba_available() and np.isfinite(bench[1:]).all()):
        return _group_stats_exact(returns, bench, firsts, ends, params)
    found = scan_statistics(
        returns,
        bench,
        firsts,
        ends,
        params.windows,
        params.main,
        threshold=params.threshold,
        span=params.lead_lag_sessions,
        max_lag=params.max_lag,
    )
    out: dict[str, np.ndarray] = {}
    for j, w in enumerate(params.windows):
        latest = found["corr"][:, j]
        lo, hi = fisher_ci(latest, float(w))
        out[f"corr_{w}"], out[f"corr_{w}_lo"], out[f"corr_{w}_hi"] = latest, lo, hi
        out[f"beta_{w}"] = found["beta"][:, j]
    out["side"], out["side_sessions"], out["change"] = _side_labels(
        found["side"], ends - found["run_start"] + 1, found["before"], params.change_within
    )
    out["lead_lag"], out["lead_lag_corr"] = found["lag"], found["lag_corr"]
    rest = np.flatnonzero(~found["done"])
    if len(rest):
        exact = _group_stats_exact(returns[:, rest], bench, firsts[rest], ends[rest], params)
        for name, values in exact.items():
            out[name][rest] = values
    return out


def _group_stats_exact(
    returns: np.ndarray,
    bench: np.ndarray,
    firsts: np.ndarray,
    ends: np.ndarray,
    params: ScanParams,
) -> dict[str, np.ndarray]:
    """:func:`_group_stats` in numpy: rolling kernel for the main window, the rest exact."""
    n, k = returns.shape
    cols = np.arange(k)
    out: dict[str, np.ndarray] = {}
    for w in params.windows:
        if w == params.main:
            # The whole series: how long it has stayed on its side of the threshold.
            corr, beta = corr_beta(returns, bench, w)
            latest, latest_beta = corr[ends, cols], beta[ends, cols]
            out["side"], out["side_sessions"], out["change"] = _side_run(
                corr, ends, params.threshold, params.change_within
            )
            del corr, beta
        else:
            # Only the latest window is shown: no need to roll through all n rows.
            latest, latest_beta = latest_corr_beta(returns, bench, ends, w)
        lo, hi = fisher_ci(latest, float(w))
        out[f"corr_{w}"], out[f"corr_{w}_lo"], out[f"corr_{w}_hi"] = latest, lo, hi
        out[f"beta_{w}"] = latest_beta
    # Lead-lag on each asset's last N return rows of its own aligned table.
    span = params.lead_lag_sessions
    lags = np.full(k, np.nan)
    lag_corr = np.full(k, np.nan)
    done = np.zeros(k, dtype=bool)
    candidates = (ends == n - 1) & (firsts <= n - 1 - span)
    if candidates.any() and n > span and np.isfinite(bench[n - span :]).all():
        tail = returns[n - span :, candidates]
        ok = np.isfinite(tail).all(axis=0) & (np.ptp(tail, axis=0) > 0)
        picked = np.flatnonzero(candidates)[ok]
        if len(picked):
            ccf = lead_lag_panel(returns[n - span :, picked], bench[n - span :], params.max_lag)
            lags[picked], lag_corr[picked] = _best_lag(ccf, params.max_lag)
            done[picked] = True
    for j in np.flatnonzero(~done):
        x = returns[firsts[j] : ends[j] + 1, j]
        y = bench[firsts[j] : ends[j] + 1].copy()
        y[0] = np.nan  # the first aligned session has no return, for either series
        x, y = x[-span:], y[-span:]
        # Lags with at least three valid pairs, as lead_lag_panel.
        pairs = int((np.isfinite(x) & np.isfinite(y)).sum())
        limit = max(0, min(params.max_lag, pairs - 3))
        ccf_one = lead_lag(pd.Series(x), pd.Series(y), limit).to_numpy()[:, None]
        lag_one, corr_one = _best_lag(ccf_one, limit)
        lags[j], lag_corr[j] = lag_one[0], corr_one[0]
    out["lead_lag"], out["lead_lag_corr"] = lags, lag_corr
    return out


def scan_statistics(
    returns: FloatArray,
    bench: FloatArray,
    firsts: np.ndarray,
    ends: np.ndarray,
    windows: tuple[int, ...],
    main: int,
    *,
    threshold: float,
    span: int,
    max_lag: int,
) -> dict[str, np.ndarray]:
    """A universe scan's per-series statistics in one compiled pass (needs numba).

    ``returns`` is an ``(n, K)`` panel of log returns (column-major is read in place),
    ``bench`` the benchmark's ``(n,)`` log returns, finite from row 1. Series ``k`` starts
    at row ``firsts[k]`` (its first close, a NaN return) and has finite returns up to
    ``ends[k]``. Returns ``corr`` and ``beta`` ``(K, len(windows))`` of the window ending at
    ``ends[k]`` (exact two-pass), and for the ``main`` window's rolling correlation the
    side of ``threshold`` at the end (1, 0, -1 for NaN), the first row of that run and the
    side before it; the strongest lead-lag over the last ``span`` returns (``lag``,
    ``lag_corr``). ``done[k]`` is False for a series with a non-finite return inside its
    span: the caller computes it another way.
    """
    from comove.analytics._numba.scan import scan_kernel

    k = returns.shape[1]
    out = {
        "corr": np.full((k, len(windows)), np.nan),
        "beta": np.full((k, len(windows)), np.nan),
        "side": np.full(k, -1, dtype=np.int8),
        "run_start": np.zeros(k, dtype=np.int64),
        "before": np.full(k, -1, dtype=np.int8),
        "lag": np.full(k, np.nan),
        "lag_corr": np.full(k, np.nan),
        "done": np.zeros(k, dtype=np.bool_),
    }
    scan_kernel(
        returns.T,
        np.ascontiguousarray(bench, dtype=np.float64),
        np.ascontiguousarray(firsts, dtype=np.int64),
        np.ascontiguousarray(ends, dtype=np.int64),
        np.asarray(windows, dtype=np.int64),
        int(main),
        recompute_every(main),
        float(threshold),
        int(span),
        int(max_lag),
        out["corr"],
        out["beta"],
        out["side"],
        out["run_start"],
        out["before"],
        out["lag"],
        out["lag_corr"],
        out["done"],
    )
    return out
