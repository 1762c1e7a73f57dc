"""The compiled universe-scan pass: one visit per series, in parallel across series.

The numpy twins of these kernels (same numbers, tested) are in :mod:`comove.analytics.scan`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from comove.analytics._numba import OPTIONS
from comove.analytics._numba.rolling import centred_sums


@njit(**OPTIONS)
def _window_exact(x: Any, y: Any, lo: int, end: int) -> tuple[float, float]:
    """Two-pass correlation and beta of rows ``lo..end`` (all finite), with the rolling rules.

    A constant x or y gives NaN correlation; a constant y gives NaN beta, a constant x
    (only) beta 0.
    """
    m = end - lo + 1
    mx = 0.0
    my = 0.0
    xmin = np.inf
    xmax = -np.inf
    ymin = np.inf
    ymax = -np.inf
    for i in range(lo, end + 1):
        mx += x[i]
        my += y[i]
        xmin = min(xmin, x[i])
        xmax = max(xmax, x[i])
        ymin = min(ymin, y[i])
        ymax = max(ymax, y[i])
    mx /= m
    my /= m
    sxx = 0.0
    syy = 0.0
    sxy = 0.0
    for i in range(lo, end + 1):
        dx = x[i] - mx
        dy = y[i] - my
        sxx += dx * dx
        syy += dy * dy
        sxy += dx * dy
    const_x = xmin == xmax
    const_y = ymin == ymax
    corr = np.nan
    if not (const_x or const_y) and sxx > 0.0 and syy > 0.0:
        corr = min(1.0, max(-1.0, sxy / math.sqrt(sxx * syy)))
    beta = np.nan
    if not const_y and syy > 0.0:
        beta = 0.0 if const_x else sxy / syy
    return corr, beta


@njit(**OPTIONS)
def _side_from_sums(
    sx: float,
    sy: float,
    sxx: float,
    syy: float,
    sxy: float,
    inv: float,
    t2: float,
    positive: bool,
    constant: bool,
) -> int:
    """Side of the threshold (1 above, 0 at or below, -1 NaN) from a window's centred sums.

    ``c / sqrt(vx * vy) > t`` is decided by squares (no square root): for ``t >= 0`` it
    is ``c > 0 and c^2 > t^2 vx vy``, for ``t < 0`` it is ``c >= 0 or c^2 < t^2 vx vy``.
    """
    vx = sxx - sx * sx * inv
    vy = syy - sy * sy * inv
    if constant or not (vx > 0.0 and vy > 0.0):
        return -1
    c = sxy - sx * sy * inv
    v = t2 * vx * vy
    above = (c > 0.0 and c * c > v) if positive else (c >= 0.0 or c * c < v)
    return 1 if above else 0


@njit(**OPTIONS)
def _side_run_column(
    x: Any, y: Any, start: int, end: int, window: int, every: int, threshold: float, at_end: float
) -> tuple[int, int, int]:
    """Side of ``threshold`` of the rolling correlation at ``end``, its run, the side before.

    Rows ``start..end`` are finite. Sides are 1 above the threshold, 0 at or below, -1
    where the correlation is NaN (rows before the first full window, constant windows).
    The correlation is rolled with running centred sums, recomputed exactly every
    ``every`` rows as in ``comoment_column``; ``at_end``, the exact value at ``end``,
    decides the last side, so it agrees with the correlation shown. Returns ``(last
    side, first row of its run, side before the run)``.
    """
    first_full = start + window - 1
    if end < first_full:
        return -1, end + 1, -1
    inv = 1.0 / window
    t2 = threshold * threshold
    positive = threshold >= 0.0
    prev = -1
    run_start = first_full
    before = -1
    # x (or y) is constant over the window ending at t when its last change (a row whose
    # value differs from the previous row's) is at or before the window's first row.
    change_x = start
    change_y = start
    for i in range(start + 1, first_full + 1):
        change_x = i if x[i] != x[i - 1] else change_x
        change_y = i if y[i] != y[i - 1] else change_y
    block = first_full
    while block < end:
        # exact two-pass sums of the window ending at ``block``; the centre is its mean
        lo = block - window + 1
        cx, cy, sx, sy, sxx, syy, sxy = centred_sums(x, y, lo, block)
        if block > first_full:
            change_x = block if x[block] != x[block - 1] else change_x
            change_y = block if y[block] != y[block - 1] else change_y
        constant = change_x <= lo or change_y <= lo
        side = _side_from_sums(sx, sy, sxx, syy, sxy, inv, t2, positive, constant)
        if side != prev:
            run_start = block
            before = prev
            prev = side
        stop = min(block + every, end)
        for t in range(block + 1, stop):
            dx = x[t] - cx
            dy = y[t] - cy
            ox = x[t - window] - cx
            oy = y[t - window] - cy
            sx += dx - ox
            sy += dy - oy
            sxx += dx * dx - ox * ox
            syy += dy * dy - oy * oy
            sxy += dx * dy - ox * oy
            change_x = t if x[t] != x[t - 1] else change_x
            change_y = t if y[t] != y[t - 1] else change_y
            lo = t - window + 1
            constant = change_x <= lo or change_y <= lo
            side = _side_from_sums(sx, sy, sxx, syy, sxy, inv, t2, positive, constant)
            if side != prev:
                run_start = t
                before = prev
                prev = side
        block = stop
    side = -1 if at_end != at_end else (1 if at_end > threshold else 0)
    if side != prev:
        run_start = end
        before = prev
        prev = side
    return prev, run_start, before


@njit(**OPTIONS)
def _best_lag_column(
    x: Any, y: Any, lo: int, end: int, max_lag: int, cross: Any
) -> tuple[float, float]:
    """Lag of the largest absolute ``corr(x_t, y_{t+lag})`` over rows ``lo..end`` (finite).

    The numbers of ``comove.lead_lag``: each lag uses its overlapping pairs with their
    own means; lags with fewer than three pairs are skipped; the first lag wins a tie.
    Values are centred on the whole span's means first (correlation is shift-free, and
    it keeps the one-pass sums well conditioned); the cross products of all lags are
    gathered in one pass over the rows into ``cross`` (scratch of ``2 * max_lag + 1``),
    which then holds each lag's correlation.
    """
    rows = end - lo + 1
    mx = 0.0
    my = 0.0
    for i in range(lo, end + 1):
        mx += x[i]
        my += y[i]
    mx /= rows
    my /= rows
    lags = 2 * max_lag + 1
    for j in range(lags):
        cross[j] = 0.0
    for s in range(lo, end + 1):
        xs = x[s] - mx
        # pairs (x[s], y[s + lag]) with s + lag inside lo..end
        j0 = max(0, lo - s + max_lag)
        j1 = min(lags, end - s + max_lag + 1)
        for j in range(j0, j1):
            cross[j] += xs * (y[s + j - max_lag] - my)
    # Sums of each lag's x rows and y rows: the whole span's, less the rows it drops
    # (lag >= 0 drops x's last and y's first ``lag`` rows; lag < 0 the other way round).
    tx = 0.0
    txx = 0.0
    ty = 0.0
    tyy = 0.0
    for i in range(lo, end + 1):
        xi = x[i] - mx
        yi = y[i] - my
        tx += xi
        txx += xi * xi
        ty += yi
        tyy += yi * yi
    for sign in (1, -1):
        a = tx
        aa = txx
        b = ty
        bb = tyy
        for size in range(0 if sign > 0 else 1, max_lag + 1):
            lag = sign * size
            j = lag + max_lag
            m = rows - size
            if m < 3:
                # Too few pairs; the rows it would drop lie outside the span.
                cross[j] = np.nan
                continue
            if size > 0:
                xi = x[end - size + 1] - mx if sign > 0 else x[lo + size - 1] - mx
                yi = y[lo + size - 1] - my if sign > 0 else y[end - size + 1] - my
                a -= xi
                aa -= xi * xi
                b -= yi
                bb -= yi * yi
            r = np.nan
            var_a = aa - a * a / m
            var_b = bb - b * b / m
            if var_a > 0.0 and var_b > 0.0:
                r = min(1.0, max(-1.0, (cross[j] - a * b / m) / math.sqrt(var_a * var_b)))
            cross[j] = r
    best_abs = -1.0
    best_lag = np.nan
    best_corr = np.nan
    for j in range(lags):
        r = cross[j]
        if r == r and abs(r) > best_abs:
            best_abs = abs(r)
            best_lag = float(j - max_lag)
            best_corr = r
    return best_lag, best_corr


@njit(parallel=True, **OPTIONS)
def scan_kernel(
    series: Any,
    bench: Any,
    firsts: Any,
    ends: Any,
    windows: Any,
    main: int,
    every: int,
    threshold: float,
    span: int,
    max_lag: int,
    out_corr: Any,
    out_beta: Any,
    out_side: Any,
    out_run_start: Any,
    out_before: Any,
    out_lag: Any,
    out_lag_corr: Any,
    out_done: Any,
) -> None:
    """Everything a scan row needs, one pass per series, in parallel over series.

    ``series`` is ``(K, n)`` log returns (time along the row), ``bench`` ``(n,)`` and finite
    from row 1. Series ``k`` has its first close at row ``firsts[k]`` (so a NaN return
    there) and finite returns up to ``ends[k]``; a series with a non-finite return in that
    span is left with ``out_done[k] = False`` for the caller's exact path.
    """
    for k in prange(series.shape[0]):
        x = series[k]
        start = firsts[k] + 1
        end = ends[k]
        clean = True
        for t in range(start, end + 1):
            if not math.isfinite(x[t]):
                clean = False
        if not clean:
            out_done[k] = False
            continue
        at_end = np.nan
        for j in range(windows.shape[0]):
            w = windows[j]
            corr = np.nan
            beta = np.nan
            if end - w + 1 >= start:
                corr, beta = _window_exact(x, bench, end - w + 1, end)
            out_corr[k, j] = corr
            out_beta[k, j] = beta
            if w == main:
                at_end = corr
        side, run_start, before = _side_run_column(
            x, bench, start, end, main, every, threshold, at_end
        )
        out_side[k] = side
        out_run_start[k] = run_start
        out_before[k] = before
        lag, lag_corr = _best_lag_column(
            x, bench, max(start, end - span + 1), end, max_lag, np.empty(2 * max_lag + 1)
        )
        out_lag[k] = lag
        out_lag_corr[k] = lag_corr
        out_done[k] = True
