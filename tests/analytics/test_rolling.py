"""Rolling co-moments (compiled kernels and the exact numpy path) against independent references.

References: a plain per-window numpy computation written here, pandas' rolling statistics,
and an exact ``math.fsum`` two-pass on sampled windows of a long price-level series. The
compiled (numba) and the numpy paths are both checked.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from comove import rolling_corr
from comove.analytics import rolling
from comove.analytics.rolling import panel_corr_beta, rolling_mean_var, rolling_stats
from comove.errors import DataError

needs_numba = pytest.mark.skipif(not rolling.numba_available(), reason="numba not installed")
ENGINES = ["numpy", pytest.param("numba", marks=needs_numba)]
STATS = ("corr", "beta", "cov", "mean", "var")


def _pair(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_t(4, n) * 0.02
    y = 0.6 * x + rng.normal(0, 0.015, n)
    return x, y


def _with_gaps(x: np.ndarray, y: np.ndarray, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, y = x.copy(), y.copy()
    x[rng.choice(len(x), len(x) // 15, replace=False)] = np.nan
    y[rng.choice(len(y), len(y) // 25, replace=False)] = np.nan
    x[200:230] = np.nan  # a gap longer than small windows: the window empties
    y[400] = np.inf  # not finite: the pair does not count
    return x, y


def _loop(x: np.ndarray, y: np.ndarray, window: int, min_periods: int) -> dict[str, np.ndarray]:
    """Per-window two-pass statistics over the valid pairs, written plainly."""
    n = len(x)
    out = {stat: np.full(n, np.nan) for stat in STATS}
    for t in range(n):
        a, b = x[max(0, t - window + 1) : t + 1], y[max(0, t - window + 1) : t + 1]
        keep = np.isfinite(a) & np.isfinite(b)
        a, b = a[keep], b[keep]
        if len(a) < max(min_periods, 2):
            continue
        da, db = a - a.mean(), b - b.mean()
        sxx, syy, sxy = (da * da).sum(), (db * db).sum(), (da * db).sum()
        const_a, const_b = a.min() == a.max(), b.min() == b.max()
        out["corr"][t] = np.nan if const_a or const_b else sxy / math.sqrt(sxx * syy)
        out["beta"][t] = np.nan if const_b else (0.0 if const_a else sxy / syy)
        out["cov"][t] = 0.0 if const_a or const_b else sxy / (len(a) - 1)
        out["mean"][t] = a.mean()
        out["var"][t] = 0.0 if const_a else sxx / (len(a) - 1)
    return out


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("window", "min_periods"), [(3, None), (30, None), (30, 12), (90, 1)])
def test_pair_statistics_match_a_per_window_loop(
    engine: rolling.Engine, window: int, min_periods: int | None
) -> None:
    x, y = _with_gaps(*_pair(1200))
    x[600:700] = 0.0125  # x constant for a while
    got = rolling_stats(x, y, window, min_periods, STATS, engine=engine)
    want = _loop(x, y, window, window if min_periods is None else min_periods)
    for stat in STATS:
        np.testing.assert_array_equal(np.isnan(got[stat]), np.isnan(want[stat]), err_msg=stat)
        np.testing.assert_allclose(got[stat], want[stat], rtol=0, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_min_periods_and_gaps_follow_pandas(engine: rolling.Engine) -> None:
    x, y = _with_gaps(*_pair(3000, seed=4))
    y[400] = np.nan  # pandas would count inf as a value; we treat both as missing
    xs, ys = pd.Series(x), pd.Series(y)
    for window, mp in ((20, 15), (60, 60), (60, 5)):
        got = rolling_stats(x, y, window, mp, ("corr", "cov"), engine=engine)
        np.testing.assert_allclose(
            got["corr"], xs.rolling(window, min_periods=mp).corr(ys), atol=1e-10, equal_nan=True
        )
        np.testing.assert_allclose(
            got["cov"], xs.rolling(window, min_periods=mp).cov(ys), atol=1e-15, equal_nan=True
        )
        mean, var = rolling_mean_var(x, window, mp, engine=engine)
        np.testing.assert_allclose(mean, xs.rolling(window, mp).mean(), atol=1e-15, equal_nan=True)
        np.testing.assert_allclose(var, xs.rolling(window, mp).var(), atol=1e-15, equal_nan=True)


@needs_numba
def test_compiled_path_equals_numpy_path_on_a_long_series() -> None:
    x, y = _with_gaps(*_pair(50_000, seed=7))
    a = rolling_stats(x, y, 60, 40, STATS, engine="numba")
    b = rolling_stats(x, y, 60, 40, STATS, engine="numpy")
    for stat in STATS:
        np.testing.assert_array_equal(np.isnan(a[stat]), np.isnan(b[stat]))
        np.testing.assert_allclose(a[stat], b[stat], rtol=0, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_constant_windows_are_nan_never_inf_and_tiny_variance_is_real(
    engine: rolling.Engine,
) -> None:
    x, y = _pair(600, seed=2)
    x[100:200] = 3.3  # a value whose mean is not exact in binary
    y[300:400] = -0.1
    got = rolling_stats(x, y, 30, None, ("corr", "beta", "var"), engine=engine)
    assert not np.isinf(got["corr"]).any()
    assert not np.isinf(got["beta"]).any()
    assert np.isnan(got["corr"][129:200]).all()
    assert np.isnan(got["corr"][329:400]).all()
    assert np.isfinite(got["corr"][[128, 200, 328, 400]]).all()
    assert np.isnan(got["beta"][329:400]).all()
    assert (got["beta"][129:200] == 0.0).all()
    assert (got["var"][129:200] == 0.0).all()
    # A tiny but real variance is not mistaken for a constant window.
    tiny = 1e-13 * x + 7.0
    small = rolling_stats(tiny, y, 30, None, ("corr",), engine=engine)["corr"]
    assert np.isfinite(small[29:100]).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_panel_against_several_benchmarks_equals_one_pair_at_a_time(
    engine: rolling.Engine,
) -> None:
    n, k = 700, 5
    rng = np.random.default_rng(3)
    bench = rng.normal(0, 0.01, (n, 3))
    panel = np.asfortranarray(0.5 * bench[:, [0]] + rng.normal(0, 0.01, (n, k)))
    panel[rng.random((n, k)) < 0.03] = np.nan
    bench[50:60, 1] = np.nan
    corr, beta = panel_corr_beta(panel, bench, 40, 30, engine=engine)
    assert corr.shape == beta.shape == (n, k, 3)
    for j in range(k):
        for b in range(3):
            want = rolling_stats(panel[:, j], bench[:, b], 40, 30, ("corr", "beta"), engine="numpy")
            np.testing.assert_allclose(corr[:, j, b], want["corr"], atol=1e-12, equal_nan=True)
            np.testing.assert_allclose(beta[:, j, b], want["beta"], atol=1e-12, equal_nan=True)
    one, one_beta = panel_corr_beta(np.ascontiguousarray(panel), bench[:, 1], 40, 30, engine=engine)
    assert one.shape == (n, k)
    np.testing.assert_allclose(one, corr[:, :, 1], atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(one_beta, beta[:, :, 1], atol=1e-15, equal_nan=True)


@needs_numba
def test_rolling_corr_on_a_large_dataframe_matches_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rolling, "COMPILED_MIN_SIZE", 1000)  # force the compiled kernel
    n = 400
    rng = np.random.default_rng(5)
    bench = pd.Series(rng.normal(0, 0.01, n), index=pd.date_range("2020-01-01", periods=n))
    panel = pd.DataFrame(
        {f"s{j}": 0.3 * j * bench + rng.normal(0, 0.01, n) for j in range(6)}, index=bench.index
    )
    panel.iloc[10:14, 2] = np.nan
    got = rolling_corr(panel, bench, 60)
    want = panel.rolling(60).corr(bench)
    assert got.index.equals(want.index)
    assert list(got.columns) == list(want.columns)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=1e-10, equal_nan=True)
    series = rolling_corr(panel["s3"], bench, 60)
    np.testing.assert_allclose(series, got["s3"], atol=1e-15, equal_nan=True)


@needs_numba
@pytest.mark.parametrize(("window", "min_periods"), [(60, None), (60, 20), (300, 1), (700, None)])
def test_a_long_pair_in_parallel_ranges_equals_one_walk_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch, window: int, min_periods: int | None
) -> None:
    # Ranges of 512 rows (a multiple of the recomputation step), with a constant stretch
    # across a range boundary and a price-level series far from zero.
    monkeypatch.setattr(rolling, "PAIR_SEGMENT_ROWS", 512)
    rng = np.random.default_rng(9)
    n = 6_000
    x = 1e4 + np.cumsum(rng.normal(0, 1, n))
    y = 0.5 * x + np.cumsum(rng.normal(0, 1, n))
    x[1000:1100] = x[999]  # a halted price
    x[2040:2100] = x[2039]  # constant across the range boundary at 2048
    got = rolling_stats(x, y, window, min_periods, STATS, engine="numba")
    # A missing value after the end sends the same rows through the one serial walk
    # that handles missing values.
    walk = rolling_stats(
        np.append(x, np.nan), np.append(y, 0.0), window, min_periods, STATS, engine="numba"
    )
    for stat in STATS:
        np.testing.assert_array_equal(got[stat], walk[stat][:n], err_msg=stat)
    exact = rolling_stats(x, y, window, min_periods, STATS, engine="numpy")
    for stat in STATS:
        np.testing.assert_allclose(got[stat], exact[stat], rtol=1e-9, atol=1e-9, err_msg=stat)


def _exact_corr(a: np.ndarray, b: np.ndarray) -> float:
    ma, mb = math.fsum(a) / len(a), math.fsum(b) / len(b)
    da, db = a - ma, b - mb
    return math.fsum(da * db) / math.sqrt(math.fsum(da * da) * math.fsum(db * db))


@pytest.mark.parametrize("engine", ENGINES)
def test_long_price_level_series_stays_exact(engine: rolling.Engine) -> None:
    n, window = (300_000 if engine == "numba" else 60_000), 390
    rng = np.random.default_rng(11)
    steps = rng.normal(0, 2e-4, (n, 2))
    px = 3000.0 * np.exp(np.cumsum(steps[:, 0]))  # a large level, small moves
    py = 2000.0 * np.exp(np.cumsum(0.7 * steps[:, 0] + 0.7 * steps[:, 1]))
    got = rolling_stats(px, py, window, None, ("corr",), engine=engine)["corr"]
    ends = rng.choice(np.arange(window - 1, n), 300, replace=False)
    errors = [
        abs(got[t] - _exact_corr(px[t - window + 1 : t + 1], py[t - window + 1 : t + 1]))
        for t in ends
    ]
    assert max(errors) < 1e-9


def test_bad_arguments_raise() -> None:
    x, y = _pair(50)
    with pytest.raises(DataError, match="window"):
        rolling_stats(x, y, 1)
    with pytest.raises(DataError, match="min_periods"):
        panel_corr_beta(x[:, None], y, 10, 11)
    with pytest.raises(DataError, match="rows"):
        panel_corr_beta(x[:, None], y[:-1], 10)
    with pytest.raises(DataError, match="statistic"):
        rolling_stats(x, y, 10, stats=("kurtosis",))
    with pytest.raises(DataError, match="engine"):
        rolling_stats(x, y, 10, engine="gpu")  # type: ignore[arg-type]
