"""Co-movement statistics against plain per-window numpy, scipy and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from comove import (
    ewma_corr,
    fisher_ci,
    lag_adjusted_corr,
    lead_lag,
    rolling_beta,
    rolling_corr,
    rolling_spearman,
)
from comove.analytics.correlation import lead_lag_summary, rolling_cov
from comove.errors import DataError


def _series(n: int = 400, seed: int = 1, rho: float = 0.5) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2020-01-01", periods=n, freq="B")
    a = rng.standard_t(4, n) * 0.03
    b = rho * a + np.sqrt(1 - rho**2) * rng.normal(0, 0.03, n)
    return pd.Series(a, index=index), pd.Series(b, index=index)


def _loop_corr(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    for end in range(window, len(x) + 1):
        a, b = x[end - window : end], y[end - window : end]
        if np.isnan(a).any() or np.isnan(b).any():
            continue
        out[end - 1] = np.corrcoef(a, b)[0, 1]
    return out


@pytest.mark.parametrize("window", [3, 30, 60, 90])
def test_rolling_corr_matches_per_window_numpy(window: int) -> None:
    x, y = _series()
    got = rolling_corr(x, y, window).to_numpy()
    want = _loop_corr(x.to_numpy(), y.to_numpy(), window)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10, equal_nan=True)


def test_rolling_corr_on_price_levels_is_still_exact() -> None:
    x, y = _series(n=2000)
    px, py = 1e4 * np.exp(x.cumsum()), 50 + np.exp(y.cumsum())
    got = rolling_corr(px, py, 60).to_numpy()
    want = _loop_corr(px.to_numpy(), py.to_numpy(), 60)
    np.testing.assert_allclose(got, want, atol=1e-10, equal_nan=True)


def test_rolling_corr_invariants() -> None:
    x, y = _series(seed=5)
    r = rolling_corr(x, y, 30)
    defined = r.dropna()
    assert ((defined >= -1) & (defined <= 1)).all()
    pd.testing.assert_series_equal(r, rolling_corr(y, x, 30), check_names=False, atol=1e-14, rtol=0)
    scaled = rolling_corr(3.7 * x + 11.0, 0.002 * y - 4.0, 30)
    np.testing.assert_allclose(scaled, r, atol=1e-10, equal_nan=True)
    flipped = rolling_corr(-x, y, 30)
    np.testing.assert_allclose(flipped, -r, atol=1e-12, equal_nan=True)


def test_constant_window_is_nan_not_inf() -> None:
    x, y = _series(n=100)
    x = x.copy()
    x.iloc[40:80] = 0.0125
    r = rolling_corr(x, y, 20)
    assert not np.isinf(r).any()
    assert r.iloc[59:80].isna().all()
    assert r.iloc[38] == pytest.approx(np.corrcoef(x.iloc[19:39], y.iloc[19:39])[0, 1], abs=1e-12)
    assert rolling_beta(y, x, 20).iloc[59:80].isna().all()


def test_min_periods_follow_pandas() -> None:
    x, y = _series(n=200, seed=9)
    x = x.copy()
    x.iloc[[10, 11, 50, 120, 121, 122]] = np.nan
    got = rolling_corr(x, y, 20, min_periods=15)
    want = x.rolling(20, min_periods=15).corr(y)
    np.testing.assert_allclose(got, want, atol=1e-9, equal_nan=True)
    strict = rolling_corr(x, y, 20)
    assert strict.iloc[10:30].isna().all()


def test_dataframe_input_shaped_like_pandas() -> None:
    x, y = _series(n=150)
    panel = pd.DataFrame({"a": x, "b": x * 0.5 + y, "c": -y})
    got = rolling_corr(panel, y, 30)
    want = panel.rolling(30).corr(y)
    assert list(got.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=1e-9, equal_nan=True)


def test_bad_window_raises() -> None:
    x, y = _series(n=50)
    with pytest.raises(DataError, match="window"):
        rolling_corr(x, y, 1)
    with pytest.raises(DataError, match="min_periods"):
        rolling_corr(x, y, 10, min_periods=11)


def test_fisher_ci_matches_scipy_formula() -> None:
    z = stats.norm.ppf(0.975)
    for r, n in [(0.5, 60), (-0.3, 30), (0.95, 90), (0.0, 4)]:
        lo, hi = fisher_ci(r, n)
        assert lo == pytest.approx(math.tanh(math.atanh(r) - z / math.sqrt(n - 3)), abs=1e-14)
        assert hi == pytest.approx(math.tanh(math.atanh(r) + z / math.sqrt(n - 3)), abs=1e-14)
        assert lo <= r <= hi
    lo90, _ = fisher_ci(0.5, 60, level=0.90)
    z90 = stats.norm.ppf(0.95)
    assert lo90 == pytest.approx(math.tanh(math.atanh(0.5) - z90 / math.sqrt(57)), abs=1e-14)
    assert fisher_ci(0.5, 3) == (pytest.approx(np.nan, nan_ok=True),) * 2
    series_lo, series_hi = fisher_ci(pd.Series([0.1, np.nan]), 30)
    assert series_lo.iloc[1] != series_lo.iloc[1]
    assert series_hi.iloc[0] > 0.1


def test_beta_is_cov_over_var_and_matches_polyfit() -> None:
    x, y = _series(n=300, seed=3)
    beta = rolling_beta(y, x, 60)
    for end in (60, 150, 300):
        a, b = x.iloc[end - 60 : end].to_numpy(), y.iloc[end - 60 : end].to_numpy()
        slope = np.polyfit(a, b, 1)[0]
        assert beta.iloc[end - 1] == pytest.approx(slope, abs=1e-12)
        assert beta.iloc[end - 1] == pytest.approx(
            np.cov(b, a)[0, 1] / np.var(a, ddof=1), abs=1e-12
        )


def test_rolling_cov_matches_pandas() -> None:
    x, y = _series(n=120)
    np.testing.assert_allclose(
        rolling_cov(x, y, 25), x.rolling(25).cov(y), atol=1e-15, equal_nan=True
    )


def test_spearman_matches_scipy_per_window() -> None:
    x, y = _series(n=160, seed=4)
    y = y.round(3)  # ties get average ranks
    got = rolling_spearman(x, y, 30)
    for end in (30, 77, 160):
        want = stats.spearmanr(x.iloc[end - 30 : end], y.iloc[end - 30 : end]).statistic
        assert got.iloc[end - 1] == pytest.approx(want, abs=1e-12)
    assert got.iloc[:29].isna().all()


def test_ewma_corr_matches_plain_loop() -> None:
    x, y = _series(n=250, seed=6)
    lam, seed_n = 0.94, 30
    xv, yv = x.to_numpy(), y.to_numpy()
    cov, vx, vy = (
        np.mean(a * b)
        for a, b in ((xv[:seed_n], yv[:seed_n]), (xv[:seed_n],) * 2, (yv[:seed_n],) * 2)
    )
    want = [cov / math.sqrt(vx * vy)]
    for t in range(seed_n, len(xv)):
        cov = lam * cov + (1 - lam) * xv[t] * yv[t]
        vx = lam * vx + (1 - lam) * xv[t] ** 2
        vy = lam * vy + (1 - lam) * yv[t] ** 2
        want.append(cov / math.sqrt(vx * vy))
    got = ewma_corr(x, y, lam, min_periods=seed_n)
    assert got.iloc[: seed_n - 1].isna().all()
    np.testing.assert_allclose(got.iloc[seed_n - 1 :].to_numpy(), want, atol=1e-12)


def test_lead_lag_finds_a_known_shift() -> None:
    rng = np.random.default_rng(11)
    n = 800
    driver = rng.normal(0, 1, n + 3)
    index = pd.RangeIndex(n)
    x = pd.Series(driver[3:], index=index)  # x_t = d_{t+3}
    y = pd.Series(
        driver[:-3] + 0.5 * rng.normal(0, 1, n), index=index
    )  # y_t = d_t: x leads by 3? no: y lags x
    ccf = lead_lag(x, y, 5)
    assert list(ccf.index) == list(range(-5, 6))
    # y_{t+3} = d_{t+3} + noise = x_t + noise, so x leads y by 3 sessions
    assert ccf.abs().idxmax() == 3
    a, b = x.to_numpy()[:-3], y.to_numpy()[3:]
    assert ccf.loc[3] == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-12)
    summary = lead_lag_summary(x, y, 5)
    assert summary.best_lag == 3
    assert summary.significant
    assert summary.p_adjusted == pytest.approx(min(1.0, summary.p_value * 11))


def test_lead_lag_of_independent_noise_is_not_significant() -> None:
    rng = np.random.default_rng(12)
    x, y = (pd.Series(rng.normal(0, 1, 300)) for _ in range(2))
    summary = lead_lag_summary(x, y, 10)
    assert not summary.significant


def test_lag_adjusted_corr_by_hand() -> None:
    x, y = _series(n=120, seed=8)
    got = lag_adjusted_corr(x, y, 40)
    end = 120
    xs, ys = x.to_numpy(), y.to_numpy()
    window = slice(end - 40, end)

    def cov(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.cov(a, b)[0, 1])

    x0, y0 = xs[window], ys[window]
    x1, y1 = xs[end - 41 : end - 1], ys[end - 41 : end - 1]  # one session earlier
    want = (cov(x0, y0) + cov(x0, y1) + cov(x1, y0)) / math.sqrt(
        np.var(x0, ddof=1) * np.var(y0, ddof=1)
    )
    assert got.iloc[-1] == pytest.approx(want, abs=1e-12)
