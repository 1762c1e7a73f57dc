"""Rolling co-moments of aligned series: dispatch, and the exact numpy path.

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
--help`` and a one-pair daily report never import numba. The compiled kernels live in
:mod:`comove.analytics._numba.rolling`, imported (and compiled, or loaded from numba's
on-disk cache) on first use only.

Compiled kernels walk each series down the time axis, one add per running sum and row;
square roots and divisions are batched per 512 rows into a vectorised loop. A panel
(``panel_corr_beta``) runs one such walk per series x benchmark, in parallel (numba
``prange``) across them. Column-major panels (what ``DataFrame.to_numpy()`` gives for a
float frame) are read in place, row-major ones too (strided, no copy). Outputs are
allocated column-major, each series' time axis contiguous.

The universe scan's own pass is in :mod:`comove.analytics.scan`, the streaming
correlation in :mod:`comove.analytics.streaming`.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from comove.errors import DataError

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


def numba_available() -> bool:
    """Whether numba is installed (checked without importing it)."""
    return find_spec("numba") is not None


def use_compiled(size: int, engine: Engine = "auto", threshold: int | None = None) -> bool:
    """Whether a computation over ``size`` values should run the compiled kernels."""
    if engine == "numpy":
        return False
    if engine == "numba":
        if not numba_available():
            raise DataError("engine='numba' needs numba: pip install 'comove[fast]'")
        return True
    if engine != "auto":
        raise DataError(f"engine must be 'auto', 'numba' or 'numpy', got {engine!r}")
    limit = COMPILED_MIN_SIZE if threshold is None else threshold
    return size >= limit and numba_available()


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
    from comove.analytics._numba.rolling import pair_kernel

    n = len(xa)
    outs = {stat: np.empty(n) for stat in stats}
    empty = np.empty(0)
    every = recompute_every(window)
    pair_kernel(
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
        from comove.analytics._numba.rolling import panel_kernel

        panel_kernel(
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


def rolling_mean_var(
    x: Any, window: int, min_periods: int | None = None, *, engine: Engine = "auto"
) -> tuple[FloatArray, FloatArray]:
    """Rolling mean and sample variance of ``x`` (pandas' ``rolling(...).mean()/.var()``).

    A constant window has variance exactly 0. Windows need ``min_periods`` valid values
    (and at least 2).
    """
    stats = rolling_stats(x, x, window, min_periods, ("mean", "var"), engine=engine)
    return stats["mean"], stats["var"]
