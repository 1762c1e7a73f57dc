"""Fast rolling co-moment kernels and the O(1) streaming correlation.

One pass, O(n) per series whatever the window: each row adds the new pair and removes the
pair leaving the window, one add per running sum, with sums of deviations about a
*centre* (the first pair, then the exact window mean). Every ``max(window, 256)`` rows
the window is recomputed exactly (two-pass: mean, then centred sums), which moves the
centre to the current mean and bounds the drift of the running sums: measured, within
3e-13 of an exact ``math.fsum`` two-pass on 5,000,000 price levels (pandas: 7e-7, a naive
cumulative-sum method: 9e-4) and ~1e-14 on returns. The recomputation costs ``window``
reads every ``max(window, 256)`` rows. Windows of at most :data:`DIRECT_MAX` rows are
simply computed two-pass per window: there running sums would save nothing and a few
nearly equal values would cost digits.

Semantics are pandas': a pair counts only when both values are finite; a window with
fewer valid pairs than ``min_periods`` (default: the window) is NaN, and the first rows
see partial windows. A window where either input is constant is NaN for correlation (and
for beta when the benchmark is constant; beta is exactly 0 when only x is constant),
never ±inf. Constancy is detected exactly: the kernels remember the last valid row
followed by a different valid value, so a tiny but real variance is never taken for zero.

Compiled code (numba, the ``comove[fast]`` extra) is used only when it pays off: from
:data:`COMPILED_MIN_SIZE` values (rows x series x benchmarks), or when ``engine="numba"``
is asked for. Below that, or without numba, the exact numpy path runs, so ``comove
--help`` and a one-pair daily report never import numba. numba is imported and the
kernels compiled (or loaded from numba's on-disk cache, ``__pycache__`` next to this file
or ``NUMBA_CACHE_DIR``) on first use only.

Compiled kernels walk each series down the time axis, one add per running sum and row;
square roots and divisions are batched per 512 rows into a vectorised loop. A panel
(``panel_corr_beta``) runs one such walk per series x benchmark, in parallel (numba
``prange``) across them. Column-major panels (what ``DataFrame.to_numpy()`` gives for a
float frame) are read in place, row-major ones too (strided, no copy). Outputs are
allocated column-major, each series' time axis contiguous.

A universe scan needs less than whole series: ``scan_statistics`` visits each series
once and keeps only what a scan row shows (the latest window of each length, the run of
the main window's correlation on one side of a threshold, the best lead-lag), so it
writes a few numbers per series instead of ``n`` per window.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from importlib.util import find_spec
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from comove.errors import DataError

prange = range  # replaced by numba.prange when the kernels are compiled

FloatArray = np.ndarray
Engine = Literal["auto", "numba", "numpy"]

#: Inputs with at least this many values (rows x series x benchmarks) use the compiled
#: kernels when numba is installed. A daily pair (a few thousand rows) stays below it, so
#: it never pays numba's import and cache-load cost (~0.5 s).
COMPILED_MIN_SIZE = 200_000
#: Momentum indicators (RSI, EMA, MACD) switch to compiled loops from this many bars.
MOMENTUM_MIN_SIZE = 100_000
#: The running sums are recomputed exactly at least this often (and at least once a window).
RECOMPUTE_MIN = 256
#: A long pair without missing values is cut into ranges of about this many rows that
#: run in parallel (with the same numbers as one walk).
PAIR_SEGMENT_ROWS = 1 << 17
#: Windows up to this length are computed directly (two-pass per window) by the kernels.
DIRECT_MAX = 16
# Rows per block in the numpy path: bounds its memory to ~ block x window values.
_NUMPY_BLOCK_VALUES = 1 << 18


def recompute_every(window: int) -> int:
    """How many steps the running sums go between exact recomputations."""
    return max(int(window), RECOMPUTE_MIN)


def check_window(window: int, min_periods: int | None) -> int:
    """Validate ``window``/``min_periods``; return the valid pairs a window needs (>= 2)."""
    if isinstance(window, bool) or int(window) != window or window < 2:
        raise DataError(f"window must be an integer of at least 2, got {window}")
    required = window if min_periods is None else min_periods
    if isinstance(required, bool) or int(required) != required or not 1 <= required <= window:
        raise DataError(f"min_periods must be between 1 and the window ({window}), got {required}")
    return max(int(required), 2)


# --------------------------------------------------------------------------------------
# Kernels. Plain Python source, compiled by numba on first use (see ``_compiled``). They
# are never run uncompiled: the numpy functions further down are the fallback.


def _direct_column(  # pragma: no cover - runs compiled
    x: Any,
    y: Any,
    window: int,
    required: int,
    out_corr: Any,
    out_beta: Any,
    out_cov: Any,
    out_mean: Any,
    out_var: Any,
) -> None:
    """Two-pass statistics of every window, for short windows (at most DIRECT_MAX rows).

    Running sums lose digits when a window's spread is tiny next to its distance from the
    centre, which a few rows of returns can be by chance; recomputing costs little there.
    """
    nan = np.nan
    for t in range(x.shape[0]):
        lo = max(0, t - window + 1)
        cnt = 0
        mx = 0.0
        my = 0.0
        xmin = np.inf
        xmax = -np.inf
        ymin = np.inf
        ymax = -np.inf
        for i in range(lo, t + 1):
            xi = x[i]
            yi = y[i]
            if math.isfinite(xi) and math.isfinite(yi):
                cnt += 1
                mx += xi
                my += yi
                xmin = min(xmin, xi)
                xmax = max(xmax, xi)
                ymin = min(ymin, yi)
                ymax = max(ymax, yi)
        if cnt < required:
            if out_corr.shape[0] > 0:
                out_corr[t] = nan
            if out_beta.shape[0] > 0:
                out_beta[t] = nan
            if out_cov.shape[0] > 0:
                out_cov[t] = nan
            if out_mean.shape[0] > 0:
                out_mean[t] = nan
            if out_var.shape[0] > 0:
                out_var[t] = nan
            continue
        mx /= cnt
        my /= cnt
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for i in range(lo, t + 1):
            xi = x[i]
            yi = y[i]
            if math.isfinite(xi) and math.isfinite(yi):
                dx = xi - mx
                dy = yi - my
                sxx += dx * dx
                syy += dy * dy
                sxy += dx * dy
        const_x = xmin == xmax
        const_y = ymin == ymax
        cxy = 0.0 if (const_x or const_y) else sxy
        if out_corr.shape[0] > 0:
            bad = const_x or const_y or not (sxx > 0.0 and syy > 0.0)
            r = nan if bad else cxy / math.sqrt(sxx * syy)
            out_corr[t] = nan if bad else min(1.0, max(-1.0, r))
        if out_beta.shape[0] > 0:
            out_beta[t] = nan if (const_y or not syy > 0.0) else cxy / syy
        if out_cov.shape[0] > 0:
            out_cov[t] = cxy / (cnt - 1)
        if out_mean.shape[0] > 0:
            out_mean[t] = xmin if const_x else mx
        if out_var.shape[0] > 0:
            out_var[t] = 0.0 if const_x else sxx / (cnt - 1)


def _all_finite(x: Any, y: Any) -> bool:  # pragma: no cover - runs compiled
    bad = False
    for i in range(x.shape[0]):
        bad |= not (math.isfinite(x[i]) and math.isfinite(y[i]))
    return not bad


def _centred_sums(  # pragma: no cover - runs compiled
    x: Any, y: Any, lo: int, hi: int
) -> tuple[float, float, float, float, float, float, float]:
    """Two-pass: the mean of rows ``lo..hi`` as centre, and the sums centred on it."""
    cnt = hi - lo + 1
    mx = 0.0
    my = 0.0
    for r in range(lo, hi + 1):
        mx += x[r]
        my += y[r]
    cx = mx / cnt
    cy = my / cnt
    sx = 0.0
    sy = 0.0
    sxx = 0.0
    syy = 0.0
    sxy = 0.0
    for r in range(lo, hi + 1):
        dx = x[r] - cx
        dy = y[r] - cy
        sx += dx
        sy += dy
        sxx += dx * dx
        syy += dy * dy
        sxy += dx * dy
    return cx, cy, sx, sy, sxx, syy, sxy


def _clean_column(  # pragma: no cover - runs compiled
    x: Any,
    y: Any,
    window: int,
    required: int,
    every: int,
    first: int,
    stop: int,
    out_corr: Any,
    out_beta: Any,
    out_cov: Any,
    out_mean: Any,
    out_var: Any,
) -> None:
    """``_comoment_column`` for a pair with no missing value, rows ``first..stop-1``.

    The same arithmetic in the same order, bit for bit, without per-row validity checks:
    the valid count is ``min(t + 1, window)``, and rows between two exact recomputations
    run in a tight loop whose co-moments go to buffers, turned into statistics by loops
    without branches that the compiler vectorises. ``first`` must be a multiple of
    ``every``: the state entering it is then the exact recomputation the whole-series walk
    does at row ``first - 1``, so separate ranges can run in parallel with equal results.
    """
    nan = np.nan
    inv_full = 1.0 / window
    if first == 0:
        cx = x[0]
        cy = y[0]
        sx = 0.0
        sy = 0.0
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
    else:
        cx, cy, sx, sy, sxx, syy, sxy = _centred_sums(x, y, max(first - window, 0), first - 1)
    # Last row whose value differs from the previous row's: a window is constant in x
    # when that row is at or before its first row (a partial first window never is, as in
    # _comoment_column). Rows before the first window that ``first`` sees do not matter.
    change_x = 0
    change_y = 0
    for row in range(max(first - window, 1), first):
        change_x = row if x[row] != x[row - 1] else change_x
        change_y = row if y[row] != y[row - 1] else change_y
    buf_c = np.empty(every)
    buf_vx = np.empty(every)
    buf_vy = np.empty(every)
    buf_cnt = np.empty(every, dtype=np.int64)
    t = first
    while t < stop:
        # Rows t..end-1 roll the sums; row ``end - 1`` (every ``every`` rows, counted
        # from row 0) then recomputes them exactly, centred on the window's mean.
        end = min(stop, (t // every + 1) * every)
        for i in range(t, end):
            s = i - window
            ox = x[s] - cx if s >= 0 else 0.0
            oy = y[s] - cy if s >= 0 else 0.0
            if i > 0:
                change_x = i if x[i] != x[i - 1] else change_x
                change_y = i if y[i] != y[i - 1] else change_y
            dx = x[i] - cx
            dy = y[i] - cy
            sx += dx - ox
            sy += dy - oy
            sxx += dx * dx - ox * ox
            syy += dy * dy - oy * oy
            sxy += dx * dy - ox * oy
            cnt = i + 1 if i < window else window
            start = i - window + 1
            if (i + 1) % every == 0:
                cx, cy, sx, sy, sxx, syy, sxy = _centred_sums(x, y, max(start, 0), i)
            inv = inv_full if i >= window else 1.0 / cnt
            const_x = change_x <= start
            const_y = change_y <= start
            vx = sxx - sx * sx * inv
            vy = syy - sy * sy * inv
            j = i - t
            buf_c[j] = 0.0 if (const_x or const_y) else sxy - sx * sy * inv
            buf_vx[j] = vx if (vx > 0.0 and not const_x) else nan
            buf_vy[j] = vy if (vy > 0.0 and not const_y) else nan
            buf_cnt[j] = cnt
            if out_mean.shape[0] > 0:
                out_mean[i] = x[i] if const_x else cx + sx * inv
        m = end - t
        if out_corr.shape[0] > 0:
            for j in range(m):
                r = buf_c[j] / math.sqrt(buf_vx[j] * buf_vy[j])
                r = 1.0 if r > 1.0 else (-1.0 if r < -1.0 else r)
                out_corr[t + j] = r if buf_cnt[j] >= required else nan
        if out_beta.shape[0] > 0:
            for j in range(m):
                b = buf_c[j] / buf_vy[j]
                out_beta[t + j] = b if buf_cnt[j] >= required else nan
        if out_cov.shape[0] > 0:
            for j in range(m):
                c = buf_c[j] / (buf_cnt[j] - 1)
                out_cov[t + j] = c if buf_cnt[j] >= required else nan
        if out_var.shape[0] > 0:
            for j in range(m):
                v = max(buf_vx[j], 0.0) if buf_vx[j] == buf_vx[j] else 0.0
                out_var[t + j] = v / (buf_cnt[j] - 1) if buf_cnt[j] >= required else nan
        if out_mean.shape[0] > 0:
            for j in range(m):
                if buf_cnt[j] < required:
                    out_mean[t + j] = nan
        t = end


def _pair_kernel(  # pragma: no cover - runs compiled
    x: Any,
    y: Any,
    window: int,
    required: int,
    every: int,
    segment: int,
    out_corr: Any,
    out_beta: Any,
    out_cov: Any,
    out_mean: Any,
    out_var: Any,
) -> None:
    """One long pair: without missing values, ranges of ``segment`` rows (a multiple of
    ``every``) run in parallel, each entering with the exact state the serial walk has
    there; otherwise the serial walk."""
    n = x.shape[0]
    if window <= DIRECT_MAX or not _all_finite(x, y):
        _comoment_column(
            x, y, window, required, every, out_corr, out_beta, out_cov, out_mean, out_var
        )
        return
    for part in prange((n + segment - 1) // segment):
        first = part * segment
        _clean_column(
            x,
            y,
            window,
            required,
            every,
            first,
            min(n, first + segment),
            out_corr,
            out_beta,
            out_cov,
            out_mean,
            out_var,
        )


def _comoment_column(  # pragma: no cover - runs compiled
    x: Any,
    y: Any,
    window: int,
    required: int,
    every: int,
    out_corr: Any,
    out_beta: Any,
    out_cov: Any,
    out_mean: Any,
    out_var: Any,
) -> None:
    """Rolling statistics of one pair; an output of length 0 is not computed.

    ``corr`` (Pearson), ``beta`` (of x on y: cov/var y), ``cov`` (sample), ``mean`` and
    ``var`` (sample) of x. Square roots and divisions would bottleneck the serial loop,
    so it stores each row's centred co-moments (NaN where a statistic is undefined) in a
    small block buffer, and correlation and beta are computed from the buffer by a loop
    without branches, which the compiler vectorises.
    """
    if window <= DIRECT_MAX:
        _direct_column(x, y, window, required, out_corr, out_beta, out_cov, out_mean, out_var)
        return
    if _all_finite(x, y):
        _clean_column(
            x, y, window, required, every, 0, x.shape[0],
            out_corr, out_beta, out_cov, out_mean, out_var,
        )  # fmt: skip
        return
    n = x.shape[0]
    do_corr = out_corr.shape[0] > 0
    do_beta = out_beta.shape[0] > 0
    do_cov = out_cov.shape[0] > 0
    do_mean = out_mean.shape[0] > 0
    do_var = out_var.shape[0] > 0
    nan = np.nan
    cnt = 0
    inv = 0.0
    inv_count = -1
    cx = 0.0
    cy = 0.0
    sx = 0.0
    sy = 0.0
    sxx = 0.0
    syy = 0.0
    sxy = 0.0
    last = -1
    lx = nan  # compares unequal to anything: the first pair sets bx = by = -1
    ly = nan
    bx = -1
    by = -1
    block = 512
    buf_c = np.empty(block)
    buf_vx = np.empty(block)
    buf_vy = np.empty(block)
    j = 0
    countdown = every  # rows until the next exact recomputation (no modulo in the loop)
    for t in range(n):
        # One add per running sum and row (new pair in minus old pair out): the sums are
        # the loop's only serial dependency, so this halves its latency.
        xt = x[t]
        yt = y[t]
        ok = math.isfinite(xt) and math.isfinite(yt)
        s = t - window
        ok_old = False
        xo = 0.0
        yo = 0.0
        if s >= 0:
            xo = x[s]
            yo = y[s]
            ok_old = math.isfinite(xo) and math.isfinite(yo)
        ox = xo - cx if ok_old else 0.0
        oy = yo - cy if ok_old else 0.0
        if ok_old:
            cnt -= 1
        if ok:
            if cnt == 0:
                # the window was empty: restart the sums exactly, centred on this pair
                cx = xt
                cy = yt
                sx = 0.0
                sy = 0.0
                sxx = 0.0
                syy = 0.0
                sxy = 0.0
                ox = 0.0
                oy = 0.0
            cnt += 1
            if xt != lx:
                bx = last
            if yt != ly:
                by = last
            last = t
            lx = xt
            ly = yt
        dx = xt - cx if ok else 0.0
        dy = yt - cy if ok else 0.0
        sx += dx - ox
        sy += dy - oy
        sxx += dx * dx - ox * ox
        syy += dy * dy - oy * oy
        sxy += dx * dy - ox * oy
        start = t - window + 1
        countdown -= 1
        if countdown <= 0 and cnt > 0:
            # exact two-pass recomputation of the window; the centre moves to its mean
            lo = max(start, 0)
            mx = 0.0
            my = 0.0
            for i in range(lo, t + 1):
                xi = x[i]
                yi = y[i]
                if math.isfinite(xi) and math.isfinite(yi):
                    mx += xi
                    my += yi
            countdown = every
            cx = mx / cnt
            cy = my / cnt
            sx = 0.0
            sy = 0.0
            sxx = 0.0
            syy = 0.0
            sxy = 0.0
            for i in range(lo, t + 1):
                xi = x[i]
                yi = y[i]
                if math.isfinite(xi) and math.isfinite(yi):
                    dx = xi - cx
                    dy = yi - cy
                    sx += dx
                    sy += dy
                    sxx += dx * dx
                    syy += dy * dy
                    sxy += dx * dy
        if cnt < required:
            buf_c[j] = nan
            buf_vx[j] = nan
            buf_vy[j] = nan
            if do_cov:
                out_cov[t] = nan
            if do_mean:
                out_mean[t] = nan
            if do_var:
                out_var[t] = nan
        else:
            if cnt != inv_count:
                inv = 1.0 / cnt
                inv_count = cnt
            const_x = bx < start
            const_y = by < start
            vx = sxx - sx * sx * inv
            vy = syy - sy * sy * inv
            cxy = 0.0 if (const_x or const_y) else sxy - sx * sy * inv
            buf_c[j] = cxy
            buf_vx[j] = vx if (vx > 0.0 and not const_x) else nan
            buf_vy[j] = vy if (vy > 0.0 and not const_y) else nan
            if do_cov:
                out_cov[t] = cxy / (cnt - 1)
            if do_mean:
                out_mean[t] = lx if const_x else cx + sx * inv
            if do_var:
                out_var[t] = 0.0 if const_x else max(vx, 0.0) / (cnt - 1)
        j += 1
        if j == block or t == n - 1:
            t0 = t + 1 - j
            if do_corr:
                for i in range(j):
                    r = buf_c[i] / math.sqrt(buf_vx[i] * buf_vy[i])
                    out_corr[t0 + i] = 1.0 if r > 1.0 else (-1.0 if r < -1.0 else r)
            if do_beta:
                for i in range(j):
                    out_beta[t0 + i] = buf_c[i] / buf_vy[i]
            j = 0


def _panel_kernel(  # pragma: no cover - runs compiled
    series: Any,
    bench: Any,
    window: int,
    required: int,
    every: int,
    out_corr: Any,
    out_beta: Any,
) -> None:
    """Correlation and beta of every series on every benchmark, in parallel over pairs.

    ``series`` is ``(K, n)`` and ``bench`` ``(B, n)`` (one row per series, time along
    the row); outputs are ``(B, K, n)``.
    """
    n_series = series.shape[0]
    n_bench = bench.shape[0]
    empty = np.empty(0)
    for job in prange(n_series * n_bench):
        k = job // n_bench
        b = job - k * n_bench
        _comoment_column(
            series[k],
            bench[b],
            window,
            required,
            every,
            out_corr[b, k],
            out_beta[b, k],
            empty,
            empty,
            empty,
        )


def _window_exact(  # pragma: no cover - runs compiled
    x: Any, y: Any, lo: int, end: int
) -> tuple[float, float]:
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


def _side_from_sums(  # pragma: no cover - runs compiled
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


def _side_run_column(  # pragma: no cover - runs compiled
    x: Any, y: Any, start: int, end: int, window: int, every: int, threshold: float, at_end: float
) -> tuple[int, int, int]:
    """Side of ``threshold`` of the rolling correlation at ``end``, its run, the side before.

    Rows ``start..end`` are finite. Sides are 1 above the threshold, 0 at or below, -1
    where the correlation is NaN (rows before the first full window, constant windows).
    The correlation is rolled with running centred sums, recomputed exactly every
    ``every`` rows as in ``_comoment_column``; ``at_end``, the exact value at ``end``,
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
        cx, cy, sx, sy, sxx, syy, sxy = _centred_sums(x, y, lo, block)
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


def _best_lag_column(  # pragma: no cover - runs compiled
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
            if size > 0:
                xi = x[end - size + 1] - mx if sign > 0 else x[lo + size - 1] - mx
                yi = y[lo + size - 1] - my if sign > 0 else y[end - size + 1] - my
                a -= xi
                aa -= xi * xi
                b -= yi
                bb -= yi * yi
            m = rows - size
            j = lag + max_lag
            r = np.nan
            if m >= 3:
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


def _scan_kernel(  # pragma: no cover - runs compiled
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


def _stream_kernel(  # pragma: no cover - runs compiled
    xs: Any,
    ys: Any,
    window: int,
    required: int,
    every: int,
    bufx: Any,
    bufy: Any,
    fstate: Any,
    istate: Any,
    out: Any,
) -> None:
    """:meth:`RollingCorrelation.update` over many bars, with the same state and arithmetic.

    ``fstate`` = centre x, y, sums x, y, xx, yy, xy, last x, last y; ``istate`` = bars
    seen, valid pairs, last valid bar, last bar before a change of x, of y.
    """
    cx = fstate[0]
    cy = fstate[1]
    sx = fstate[2]
    sy = fstate[3]
    sxx = fstate[4]
    syy = fstate[5]
    sxy = fstate[6]
    lx = fstate[7]
    ly = fstate[8]
    t = istate[0]
    cnt = istate[1]
    last = istate[2]
    bx = istate[3]
    by = istate[4]
    nan = np.nan
    for j in range(xs.shape[0]):
        xt = xs[j]
        yt = ys[j]
        i = t % window
        xo = bufx[i]
        yo = bufy[i]
        if t >= window and xo == xo:
            dx = xo - cx
            dy = yo - cy
            cnt -= 1
            sx -= dx
            sy -= dy
            sxx -= dx * dx
            syy -= dy * dy
            sxy -= dx * dy
        if math.isfinite(xt) and math.isfinite(yt):
            bufx[i] = xt
            bufy[i] = yt
            if cnt == 0:
                cx = xt
                cy = yt
                sx = 0.0
                sy = 0.0
                sxx = 0.0
                syy = 0.0
                sxy = 0.0
            dx = xt - cx
            dy = yt - cy
            cnt += 1
            sx += dx
            sy += dy
            sxx += dx * dx
            syy += dy * dy
            sxy += dx * dy
            if last >= 0:
                if xt != lx:
                    bx = last
                if yt != ly:
                    by = last
            last = t
            lx = xt
            ly = yt
        else:
            bufx[i] = nan
            bufy[i] = nan
        if t % every == every - 1 and cnt > 0:
            mx = 0.0
            my = 0.0
            for m in range(window):
                if bufx[m] == bufx[m]:
                    mx += bufx[m]
                    my += bufy[m]
            cx = mx / cnt
            cy = my / cnt
            sx = 0.0
            sy = 0.0
            sxx = 0.0
            syy = 0.0
            sxy = 0.0
            for m in range(window):
                if bufx[m] == bufx[m]:
                    dx = bufx[m] - cx
                    dy = bufy[m] - cy
                    sx += dx
                    sy += dy
                    sxx += dx * dx
                    syy += dy * dy
                    sxy += dx * dy
        start = t - window + 1
        t += 1
        if cnt < required or bx < start or by < start:
            out[j] = nan
            continue
        inv = 1.0 / cnt
        vx = sxx - sx * sx * inv
        vy = syy - sy * sy * inv
        if vx > 0.0 and vy > 0.0:
            r = (sxy - sx * sy * inv) / math.sqrt(vx * vy)
            out[j] = min(1.0, max(-1.0, r))
        else:
            out[j] = nan
    fstate[0] = cx
    fstate[1] = cy
    fstate[2] = sx
    fstate[3] = sy
    fstate[4] = sxx
    fstate[5] = syy
    fstate[6] = sxy
    fstate[7] = lx
    fstate[8] = ly
    istate[0] = t
    istate[1] = cnt
    istate[2] = last
    istate[3] = bx
    istate[4] = by


def _ema_kernel(values: Any, period: int, decay: float, out: Any) -> None:  # pragma: no cover
    """``out[period-1]`` = mean of the first ``period`` values, then the EMA recursion."""
    total = 0.0
    for i in range(period):
        total += values[i]
    s = total / period
    out[period - 1] = s
    gain = 1.0 - decay
    for i in range(period, values.shape[0]):
        s = gain * values[i] + decay * s
        out[i] = s


def _macd_line_kernel(  # pragma: no cover - runs compiled
    values: Any, fast: int, slow: int, out: Any
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
    for i in range(slow, values.shape[0]):
        v = values[i]
        ef = g_fast * v + d_fast * ef
        es = g_slow * v + d_slow * es
        out[i] = ef - es


def _rsi_kernel(close: Any, period: int, out: Any) -> None:  # pragma: no cover
    """Wilder RSI with averages seeded by the simple mean of the first ``period`` changes."""
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
    for i in range(period, close.shape[0]):
        if i > period:
            change = close[i] - close[i - 1]
            up = change if change > 0 else 0.0
            down = -change if change < 0 else 0.0
            avg_gain = gain * up + decay * avg_gain
            avg_loss = gain * down + decay * avg_loss
        if avg_loss == 0.0:
            out[i] = 100.0 if avg_gain > 0.0 else np.nan
        else:
            out[i] = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


# Callers first, callees last: each is compiled after the functions it calls.
_KERNELS = (
    "_pair_kernel",
    "_scan_kernel",
    "_best_lag_column",
    "_side_run_column",
    "_side_from_sums",
    "_window_exact",
    "_panel_kernel",
    "_comoment_column",
    "_clean_column",
    "_centred_sums",
    "_all_finite",
    "_direct_column",
    "_stream_kernel",
    "_ema_kernel",
    "_macd_line_kernel",
    "_rsi_kernel",
)
_PARALLEL_KERNELS = ("_pair_kernel", "_panel_kernel", "_scan_kernel")
_compiled_ok: bool | None = None


def numba_available() -> bool:
    """Whether numba is installed (checked without importing it)."""
    return find_spec("numba") is not None


def _compiled() -> None:
    """Import numba and compile (or load from its cache) the kernels, once per process.

    The kernels are rebound in this module's namespace, callees first, so that compiled
    callers resolve compiled callees; ``prange`` becomes numba's parallel range.
    """
    global _compiled_ok
    if _compiled_ok:
        return
    import numba

    namespace = globals()
    namespace["prange"] = numba.prange
    for name in reversed(_KERNELS):
        func = namespace[name]
        namespace[name] = numba.njit(
            cache=True,
            nogil=True,
            parallel=name in _PARALLEL_KERNELS,
            error_model="numpy",  # no ZeroDivisionError checks: they block vectorisation
        )(func)
    _compiled_ok = True


def use_compiled(size: int, engine: Engine = "auto", threshold: int = COMPILED_MIN_SIZE) -> bool:
    """Whether a computation over ``size`` values should run the compiled kernels."""
    if engine == "numpy":
        return False
    if engine == "numba":
        if not numba_available():
            raise DataError("engine='numba' needs numba: pip install 'comove[fast]'")
        return True
    if engine != "auto":
        raise DataError(f"engine must be 'auto', 'numba' or 'numpy', got {engine!r}")
    return size >= threshold and numba_available()


# --------------------------------------------------------------------------------------
# The exact numpy path: two-pass per window, in row blocks so memory stays bounded.

_STATS = ("corr", "beta", "cov", "mean", "var")


def _numpy_column(
    x: FloatArray, y: FloatArray, window: int, required: int, wanted: tuple[str, ...]
) -> dict[str, FloatArray]:
    n = len(x)
    out = {stat: np.full(n, np.nan) for stat in wanted}
    padding = np.full(window - 1, np.nan)
    xp = np.concatenate((padding, x))
    yp = np.concatenate((padding, y))
    block = max(1, _NUMPY_BLOCK_VALUES // window)
    for a in range(0, n, block):
        b = min(n, a + block)
        xs = sliding_window_view(xp[a : b + window - 1], window)
        ys = sliding_window_view(yp[a : b + window - 1], window)
        mask = np.isfinite(xs) & np.isfinite(ys)
        count = mask.sum(axis=1).astype("float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_x = np.where(mask, xs, 0.0).sum(axis=1) / count
            mean_y = np.where(mask, ys, 0.0).sum(axis=1) / count
            dx = np.where(mask, xs - mean_x[:, None], 0.0)
            dy = np.where(mask, ys - mean_y[:, None], 0.0)
            xmax = np.where(mask, xs, -np.inf).max(axis=1)
            constant_x = xmax == np.where(mask, xs, np.inf).min(axis=1)
            constant_y = np.where(mask, ys, -np.inf).max(axis=1) == np.where(mask, ys, np.inf).min(
                axis=1
            )
            sxx = (dx * dx).sum(axis=1)
            syy = (dy * dy).sum(axis=1)
            # a constant input has exactly zero covariance, not rounding noise
            sxy = np.where(constant_x | constant_y, 0.0, (dx * dy).sum(axis=1))
            for stat in wanted:
                if stat == "corr":
                    values = np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0)
                    values[constant_x | constant_y] = np.nan
                elif stat == "beta":
                    values = sxy / syy
                    values[~np.isfinite(values) | constant_y] = np.nan
                elif stat == "cov":
                    values = sxy / (count - 1)
                elif stat == "mean":
                    values = np.where(constant_x, xmax, mean_x)
                else:
                    values = np.where(constant_x, 0.0, sxx / (count - 1))
                values[count < required] = np.nan
                out[stat][a:b] = values
    return out


def _as_float_column(values: Any, n: int | None = None) -> FloatArray:
    array = np.asarray(values, dtype="float64")
    if array.ndim != 1:
        raise DataError(f"expected a one-dimensional series, got shape {array.shape}")
    if n is not None and len(array) != n:
        raise DataError(f"series lengths differ: {len(array)} and {n}")
    return array


def rolling_stats(
    x: Any,
    y: Any,
    window: int,
    min_periods: int | None = None,
    stats: tuple[str, ...] = ("corr",),
    *,
    engine: Engine = "auto",
) -> dict[str, FloatArray]:
    """Rolling statistics of one pair of aligned arrays, from one pass.

    Parameters
    ----------
    x, y
        Equal-length float arrays (rows = time); a pair counts when both are finite.
    window, min_periods
        As pandas' ``rolling(window, min_periods)``; ``min_periods`` defaults to ``window``.
    stats
        Any of ``corr`` (Pearson), ``beta`` (OLS slope of x on y), ``cov`` (sample
        covariance), ``mean`` and ``var`` (sample variance) of x over the valid pairs.
    engine
        ``auto`` (compiled from :data:`COMPILED_MIN_SIZE` values when numba is installed),
        ``numba`` or ``numpy`` (exact two-pass per window).

    Returns
    -------
    dict
        One float64 array of length n per requested statistic.
    """
    required = check_window(window, min_periods)
    xa = _as_float_column(x)
    ya = _as_float_column(y, len(xa))
    for stat in stats:
        if stat not in _STATS:
            raise DataError(f"unknown rolling statistic {stat!r}; choose from {_STATS}")
    if not use_compiled(len(xa), engine):
        return _numpy_column(xa, ya, int(window), required, tuple(stats))
    _compiled()
    n = len(xa)
    outs = {stat: np.empty(n) for stat in stats}
    empty = np.empty(0)
    every = recompute_every(window)
    _pair_kernel(
        xa,
        ya,
        int(window),
        required,
        every,
        every * max(1, PAIR_SEGMENT_ROWS // every),
        *(outs.get(stat, empty) for stat in _STATS),
    )
    return outs


def _as_panel(values: Any, name: str) -> FloatArray:
    array = np.asarray(values, dtype="float64")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise DataError(f"{name} must be a 1-D or 2-D (rows x series) array, got {array.shape}")
    return array


def panel_corr_beta(
    panel: Any,
    benchmarks: Any,
    window: int,
    min_periods: int | None = None,
    *,
    engine: Engine = "auto",
) -> tuple[FloatArray, FloatArray]:
    """Rolling correlation and beta of every series in a panel on every benchmark.

    Parameters
    ----------
    panel
        ``(n, K)`` float64 array, rows = time (shared with the benchmarks), one column per
        series, in any memory order (never copied). NaN/inf mark missing values.
    benchmarks
        ``(n,)`` for one benchmark or ``(n, B)`` for several.
    window, min_periods
        As pandas' ``rolling(window, min_periods)``; ``min_periods`` defaults to ``window``.
    engine
        ``auto`` (compiled from :data:`COMPILED_MIN_SIZE` values = n x K x B, when numba
        is installed), ``numba`` or ``numpy`` (exact two-pass per window).

    Returns
    -------
    corr, beta
        ``corr[t, k, b]`` is the Pearson correlation of series k and benchmark b over the
        window ending at row t, ``beta[t, k, b]`` the OLS slope of series k on benchmark
        b (cov / var of the benchmark). Shape ``(n, K, B)`` when ``benchmarks`` is 2-D,
        ``(n, K)`` (column-major) when it is 1-D. The 3-D result is a view of a
        ``(B, K, n)`` C-ordered block, so each ``corr[:, k, b]`` is contiguous. Each
        equals the one-pair result (``x.rolling(window, min_periods).corr(y)`` with
        pairwise-valid rows).
    """
    required = check_window(window, min_periods)
    single = np.ndim(benchmarks) == 1
    data = _as_panel(panel, "panel")
    bench = _as_panel(benchmarks, "benchmarks")
    n, n_series = data.shape
    n_bench = bench.shape[1]
    if bench.shape[0] != n:
        raise DataError(f"panel has {n} rows but the benchmarks have {bench.shape[0]}")
    # Stored (B, K, n) in C order: each series' time axis is contiguous for the kernel;
    # returned transposed to (n, K, B).
    corr = np.empty((n_bench, n_series, n))
    beta = np.empty((n_bench, n_series, n))
    if use_compiled(n * n_series * n_bench, engine):
        _compiled()
        _panel_kernel(
            data.T,  # strided when row-major: measured as fast as copying first
            np.ascontiguousarray(bench.T),
            int(window),
            required,
            recompute_every(window),
            corr,
            beta,
        )
    else:
        for k in range(n_series):
            for b in range(n_bench):
                res = _numpy_column(
                    data[:, k], bench[:, b], int(window), required, ("corr", "beta")
                )
                corr[b, k] = res["corr"]
                beta[b, k] = res["beta"]
    if single:
        return corr[0].T, beta[0].T
    return corr.transpose(2, 1, 0), beta.transpose(2, 1, 0)


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
    _compiled()
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
    _scan_kernel(
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


def rolling_mean_var(
    x: Any, window: int, min_periods: int | None = None, *, engine: Engine = "auto"
) -> tuple[FloatArray, FloatArray]:
    """Rolling mean and sample variance of ``x`` (pandas' ``rolling(...).mean()/.var()``).

    A constant window has variance exactly 0. Windows need ``min_periods`` valid values
    (and at least 2).
    """
    stats = rolling_stats(x, x, window, min_periods, ("mean", "var"), engine=engine)
    return stats["mean"], stats["var"]


# --------------------------------------------------------------------------------------
# Momentum recursions: compiled for long series, identical conventions to momentum.py.


def seeded_ema(values: FloatArray, period: int, decay: float, out: FloatArray) -> bool:
    """Compiled seeded EMA of finite ``values`` into ``out[period - 1:]``.

    Returns False, leaving ``out`` alone, when the series is too short to be worth
    compiling or numba is missing: the caller then runs its numpy path.
    """
    if not use_compiled(len(values), "auto", MOMENTUM_MIN_SIZE):
        return False
    _compiled()
    _ema_kernel(np.ascontiguousarray(values, dtype="float64"), int(period), float(decay), out)
    return True


def macd_line(values: FloatArray, fast: int, slow: int, out: FloatArray) -> bool:
    """Compiled MACD line of finite ``values`` into ``out[slow - 1:]`` (False: fall back)."""
    if not use_compiled(len(values), "auto", MOMENTUM_MIN_SIZE):
        return False
    _compiled()
    _macd_line_kernel(np.ascontiguousarray(values, dtype="float64"), int(fast), int(slow), out)
    return True


def wilder_rsi(close: FloatArray, period: int) -> FloatArray | None:
    """Compiled Wilder RSI of ``close`` (length > period), or None to fall back."""
    if not use_compiled(len(close), "auto", MOMENTUM_MIN_SIZE):
        return None
    _compiled()
    out = np.empty(len(close))
    out[:period] = np.nan
    _rsi_kernel(np.ascontiguousarray(close, dtype="float64"), int(period), out)
    return out


# --------------------------------------------------------------------------------------
# Streaming.


class RollingCorrelation:
    """Rolling Pearson correlation (and beta of x on y) updated one bar at a time, O(1).

    ``update(x, y)`` returns the correlation of the last ``window`` bars, the same number
    :func:`rolling_stats` gives for the whole series (pairs count when both values are
    finite; NaN until ``min_periods`` valid pairs, and on a constant window). The state is
    a ring buffer plus running centred sums, recomputed exactly every
    ``max(window, 256)`` bars like the batch kernel, so drift stays bounded however long
    it runs. ``update`` is plain Python, its state held in the local variables of a
    generator (calling into compiled code costs more than the arithmetic);
    ``update_many`` runs the same steps in one compiled loop when numba is installed.
    """

    __slots__ = ("_bufx", "_bufy", "_every", "_f", "_i", "_required", "_send", "_window")

    def __init__(self, window: int, min_periods: int | None = None) -> None:
        self._required = check_window(window, min_periods)
        self._window = int(window)
        self._every = recompute_every(window)
        self._bufx = [math.nan] * self._window
        self._bufy = [math.nan] * self._window
        # centre x, y, sums x, y, xx, yy, xy, last x, last y
        self._f = [0.0] * 7 + [math.nan, math.nan]
        # bars seen, valid pairs, last valid bar, last bar before x changed, before y changed
        self._i = [0, 0, -1, -1, -1]
        self._start()

    def _start(self) -> None:
        gen = self._steps()
        next(gen)
        self._send = gen.send

    def _sync(self) -> None:
        """Have the generator write its state back to ``_f`` / ``_i``."""
        self._send(None)

    @property
    def window(self) -> int:
        return self._window

    @property
    def count(self) -> int:
        """Valid pairs in the current window."""
        self._sync()
        return self._i[1]

    def _moments(self) -> tuple[float, float, float, bool, bool] | None:
        self._sync()
        _, _, sx, sy, sxx, syy, sxy, _, _ = self._f
        t, cnt, _, bx, by = self._i
        if cnt < self._required:
            return None
        start = t - self._window
        inv = 1.0 / cnt
        return sxx - sx * sx * inv, syy - sy * sy * inv, sxy - sx * sy * inv, bx < start, by < start

    @property
    def corr(self) -> float:
        """Correlation over the current window (NaN when undefined)."""
        m = self._moments()
        if m is None or m[3] or m[4] or not (m[0] > 0.0 and m[1] > 0.0):
            return math.nan
        return min(1.0, max(-1.0, m[2] / math.sqrt(m[0] * m[1])))

    @property
    def beta(self) -> float:
        """OLS slope of x on y over the current window (NaN when y is constant)."""
        m = self._moments()
        if m is None or m[4] or not m[1] > 0.0:
            return math.nan
        return 0.0 if m[3] else m[2] / m[1]

    def update(self, x: float, y: float) -> float:
        """Add one bar (the oldest leaves the window); return the current correlation."""
        return self._send((x, y))

    def _steps(self) -> Generator[float, tuple[float, float] | None, None]:
        """The update loop; sending None writes the state back to ``_f`` and ``_i``."""
        window, required, every = self._window, self._required, self._every
        bufx, bufy, f, st = self._bufx, self._bufy, self._f, self._i
        cx, cy, sx, sy, sxx, syy, sxy, lx, ly = f
        t, cnt, last, bx, by = st
        nan = math.nan
        sqrt = math.sqrt
        r = nan
        i = t % window  # ring position of the bar about to arrive
        countdown = every - t % every  # bars until the next exact recomputation
        while True:
            pair = yield r
            if pair is None:
                f[:] = [cx, cy, sx, sy, sxx, syy, sxy, lx, ly]
                st[:] = [t, cnt, last, bx, by]
                continue
            x, y = pair
            xo = bufx[i]
            if xo == xo:
                dx = xo - cx
                dy = bufy[i] - cy
                cnt -= 1
                sx -= dx
                sy -= dy
                sxx -= dx * dx
                syy -= dy * dy
                sxy -= dx * dy
            if x - x == 0.0 and y - y == 0.0:  # both finite
                bufx[i] = x
                bufy[i] = y
                if cnt == 0:
                    cx, cy, sx, sy, sxx, syy, sxy = x, y, 0.0, 0.0, 0.0, 0.0, 0.0
                dx = x - cx
                dy = y - cy
                cnt += 1
                sx += dx
                sy += dy
                sxx += dx * dx
                syy += dy * dy
                sxy += dx * dy
                if x != lx:
                    bx = last
                if y != ly:
                    by = last
                last = t
                lx = x
                ly = y
            else:
                bufx[i] = nan
                bufy[i] = nan
            t += 1
            i += 1
            if i == window:
                i = 0
            countdown -= 1
            if countdown == 0:
                countdown = every
                if cnt > 0:
                    cx, cy, sx, sy, sxx, syy, sxy = _exact_sums(bufx, bufy, cnt)
            start = t - window
            if cnt < required or bx < start or by < start:
                r = nan
                continue
            inv = 1.0 / cnt
            vx = sxx - sx * sx * inv
            vy = syy - sy * sy * inv
            if vx > 0.0 and vy > 0.0:
                r = (sxy - sx * sy * inv) / sqrt(vx * vy)
                r = 1.0 if r > 1.0 else (-1.0 if r < -1.0 else r)
            else:
                r = nan

    def update_many(self, xs: Any, ys: Any) -> FloatArray:
        """Add many bars at once; return the correlation after each (compiled when possible)."""
        xa = np.ascontiguousarray(xs, dtype="float64")
        ya = np.ascontiguousarray(ys, dtype="float64")
        if xa.shape != ya.shape or xa.ndim != 1:
            raise DataError(f"update_many needs two 1-D arrays of one length, got {xa.shape}")
        if not numba_available():
            return np.array([self.update(float(a), float(b)) for a, b in zip(xa, ya, strict=True)])
        _compiled()
        self._sync()
        bufx = np.array(self._bufx)
        bufy = np.array(self._bufy)
        fstate = np.array(self._f)
        istate = np.array(self._i, dtype="int64")
        out = np.empty(len(xa))
        _stream_kernel(
            xa, ya, self._window, self._required, self._every, bufx, bufy, fstate, istate, out
        )
        self._bufx = bufx.tolist()
        self._bufy = bufy.tolist()
        self._f = fstate.tolist()
        self._i = [int(v) for v in istate]
        self._start()
        return out


def _exact_sums(
    bufx: list[float], bufy: list[float], cnt: int
) -> tuple[float, float, float, float, float, float, float]:
    """Centre (the mean) and centred sums of the valid pairs in a ring buffer, two-pass."""
    pairs = [(a, b) for a, b in zip(bufx, bufy, strict=True) if a == a]
    cx = math.fsum(a for a, _ in pairs) / cnt
    cy = math.fsum(b for _, b in pairs) / cnt
    sx = sy = sxx = syy = sxy = 0.0
    for a, b in pairs:
        dx = a - cx
        dy = b - cy
        sx += dx
        sy += dy
        sxx += dx * dx
        syy += dy * dy
        sxy += dx * dy
    return cx, cy, sx, sy, sxx, syy, sxy
