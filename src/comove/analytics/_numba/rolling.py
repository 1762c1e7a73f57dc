"""Compiled rolling co-moment kernels for one pair and for panels (numba, ``comove[fast]``).

Imported only when the compiled path is chosen (:func:`comove.analytics.rolling.use_compiled`);
the exact numpy path they match lives in :mod:`comove.analytics.rolling`. See that module
for the method: running centred sums, one add per row and sum, recomputed exactly every
``every`` rows; constancy detected exactly from the last row whose value changed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from comove.analytics._numba import OPTIONS
from comove.analytics.rolling import DIRECT_MAX


@njit(**OPTIONS)
def _direct_column(
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


@njit(**OPTIONS)
def all_finite(x: Any, y: Any) -> bool:
    bad = False
    for i in range(x.shape[0]):
        bad |= not (math.isfinite(x[i]) and math.isfinite(y[i]))
    return not bad


@njit(**OPTIONS)
def centred_sums(
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


@njit(**OPTIONS)
def _clean_column(
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
    """``comoment_column`` for a pair with no missing value, rows ``first..stop-1``.

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
        cx, cy, sx, sy, sxx, syy, sxy = centred_sums(x, y, max(first - window, 0), first - 1)
    # Last row whose value differs from the previous row's: a window is constant in x
    # when that row is at or before its first row (a partial first window never is, as in
    # comoment_column). Rows before the first window that ``first`` sees do not matter.
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
                cx, cy, sx, sy, sxx, syy, sxy = centred_sums(x, y, max(start, 0), i)
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


@njit(parallel=True, **OPTIONS)
def pair_kernel(
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
    if window <= DIRECT_MAX or not all_finite(x, y):
        comoment_column(
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


@njit(**OPTIONS)
def comoment_column(
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
    if all_finite(x, y):
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


@njit(parallel=True, **OPTIONS)
def panel_kernel(
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
        comoment_column(
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
