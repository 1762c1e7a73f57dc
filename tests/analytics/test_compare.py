"""Comparing correlations, checked against published examples, scipy, statsmodels, arch and
plain reimplementations of the formulas (written here from the papers, not from the code)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped]
from arch.bootstrap import StationaryBootstrap, optimal_block_length
from scipy import special, stats

from comove.analytics import compare
from comove.analytics.correlation import fisher_ci
from comove.errors import DataError


def _normal_trio(
    n: int, r12: float, r13: float, r23: float, rng: np.random.Generator
) -> np.ndarray:
    cov = np.array([[1.0, r12, r13], [r12, 1.0, r23], [r13, r23, 1.0]])
    return rng.multivariate_normal(np.zeros(3), cov, size=n)


def garch_t_pair(n: int, rho: float, rng: np.random.Generator, nu: float = 4.0) -> np.ndarray:
    """Two return series with correlation ``rho``, Student-t shocks and a shared GARCH(1,1)
    variance (alpha 0.08, beta 0.9): fat tails and volatility clustering."""
    burn = 200
    shocks = rng.standard_t(nu, size=(n + burn, 2)) / math.sqrt(nu / (nu - 2.0))
    mix = np.array([[1.0, 0.0], [rho, math.sqrt(1.0 - rho**2)]])
    out = np.empty((n + burn, 2))
    variance = 1.0
    for t in range(n + burn):
        out[t] = math.sqrt(variance) * (mix @ shocks[t])
        variance = 0.02 + 0.08 * float(np.mean(out[t] ** 2)) + 0.9 * variance
    return out[burn:]


# -- published examples ----------------------------------------------------------------------


def test_williams_t_matches_howells_worked_example() -> None:
    # Howell, Statistical Methods for Psychology: r12 .80, r13 .72, r23 .89, n 26.
    result = compare.williams_t(0.80, 0.72, 0.89, 26)
    assert result.statistic == pytest.approx(1.361, abs=5e-4)
    assert result.df == 23
    assert result.p_value == pytest.approx(0.187, abs=5e-4)


def test_fisher_difference_matches_statas_example() -> None:
    # Stata FAQ "test the equality of two correlations": .84 (n 63) vs .75 (n 42).
    result = compare.fisher_difference(0.84, 63, 0.75, 42)
    assert result.statistic == pytest.approx(1.207, abs=5e-4)
    assert result.p_value == pytest.approx(0.2275, abs=5e-4)


# -- plain reimplementations -----------------------------------------------------------------


def _williams_plain(r12: float, r13: float, r23: float, n: int) -> float:
    det_r = 1 - r12 * r12 - r13 * r13 - r23 * r23 + 2 * r12 * r13 * r23
    rbar = (r12 + r13) / 2
    numerator = (n - 1) * (1 + r23)
    denominator = 2 * ((n - 1) / (n - 3)) * det_r + rbar * rbar * (1 - r23) ** 3
    return (r12 - r13) * math.sqrt(numerator / denominator)


def _steiger_plain(r12: float, r13: float, r23: float, n: int) -> float:
    rbar = (r12 + r13) / 2
    psi = r23 * (1 - 2 * rbar**2) - 0.5 * rbar**2 * (1 - 2 * rbar**2 - r23**2)
    c = psi / (1 - rbar**2) ** 2
    z12 = 0.5 * math.log((1 + r12) / (1 - r12))
    z13 = 0.5 * math.log((1 + r13) / (1 - r13))
    return (z12 - z13) * math.sqrt(n - 3) / math.sqrt(2 - 2 * c)


def test_williams_and_steiger_match_plain_formulas_on_random_samples() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(20, 400))
        loadings = rng.standard_normal((3, 3))
        data = rng.standard_normal((n, 3)) @ loadings.T
        r = np.asarray(np.corrcoef(data.T))
        r12, r13, r23 = r[0, 1], r[0, 2], r[1, 2]
        assert compare.williams_t(r12, r13, r23, n).statistic == pytest.approx(
            _williams_plain(r12, r13, r23, n), rel=1e-12
        )
        steiger = compare.steiger_z(r12, r13, r23, n)
        assert steiger.statistic == pytest.approx(_steiger_plain(r12, r13, r23, n), rel=1e-12)
        assert steiger.p_value == pytest.approx(2 * stats.norm.sf(abs(steiger.statistic)), rel=1e-9)


def test_dependent_tests_hold_their_size_under_the_null() -> None:
    rng = np.random.default_rng(11)
    trials, n = 1500, 80
    rejected = {"williams": 0, "steiger": 0}
    for _ in range(trials):
        r = np.corrcoef(_normal_trio(n, 0.5, 0.5, 0.6, rng).T)
        rejected["williams"] += compare.williams_t(r[0, 1], r[0, 2], r[1, 2], n).p_value < 0.05
        rejected["steiger"] += compare.steiger_z(r[0, 1], r[0, 2], r[1, 2], n).p_value < 0.05
    for count in rejected.values():
        assert 0.03 <= count / trials <= 0.07


def test_distribution_tails_match_scipy() -> None:
    for t, df in [(1.361, 23), (0.01, 3), (4.5, 120), (-2.2, 7.5), (40.0, 2), (0.0, 10)]:
        assert compare.student_t_two_sided(t, df) == pytest.approx(
            2 * stats.t.sf(abs(t), df), rel=1e-10, abs=1e-300
        )
    for a, b, x in [(0.5, 0.5, 0.3), (2.0, 30.0, 0.05), (40.0, 0.5, 0.99), (3.0, 3.0, 0.5)]:
        assert compare.regularized_beta(a, b, x) == pytest.approx(
            special.betainc(a, b, x), rel=1e-10
        )
    for x in [0.25, 0.5, 0.8, 1.0, 1.358, 2.0, 3.0]:
        assert compare.kolmogorov_sf(x) == pytest.approx(stats.kstwobign.sf(x), rel=1e-9, abs=1e-15)
    assert compare.normal_sf(1.96) == pytest.approx(stats.norm.sf(1.96), rel=1e-12)


# -- partial correlation and spread beta -----------------------------------------------------


def test_partial_correlation_is_the_correlation_of_ols_residuals() -> None:
    rng = np.random.default_rng(5)
    crypto, small, large = _normal_trio(500, 0.5, 0.45, 0.8, rng).T
    design = sm.add_constant(large)
    resid_crypto = sm.OLS(crypto, design).fit().resid
    resid_small = sm.OLS(small, design).fit().resid
    expected = np.corrcoef(resid_crypto, resid_small)[0, 1]
    assert compare.partial_corr(crypto, small, large) == pytest.approx(expected, rel=1e-12)


def test_spread_beta_matches_statsmodels_ols() -> None:
    rng = np.random.default_rng(6)
    crypto, small, large = _normal_trio(300, 0.5, 0.45, 0.8, rng).T
    fit = sm.OLS(crypto, sm.add_constant(small - large)).fit()
    result = compare.spread_beta(crypto, small, large)
    assert result.beta == pytest.approx(fit.params[1], rel=1e-12)
    assert result.stderr == pytest.approx(fit.bse[1], rel=1e-10)
    assert result.p_value == pytest.approx(fit.pvalues[1], rel=1e-8)


# -- the stationary bootstrap ------------------------------------------------------------------


@pytest.mark.parametrize("n", [10, 12, 30, 60, 250, 1500])
@pytest.mark.parametrize("phi", [0.0, 0.4, 0.9, -0.5])
def test_block_length_matches_arch(n: int, phi: float) -> None:
    rng = np.random.default_rng(int(n * 10 + phi * 10) + 100)
    shocks = rng.standard_t(3, n + 1)
    x = shocks[1:] + phi * shocks[:-1]
    with np.errstate(all="ignore"):
        expected = float(optimal_block_length(x)["stationary"].iloc[0])
    assert compare.optimal_block_length(x) == pytest.approx(max(expected, 1.0), rel=1e-10)


def test_stationary_indices_follow_blocks_of_the_mean_length() -> None:
    rng = np.random.default_rng(0)
    n, block = 400, 8.0
    idx = compare.stationary_indices(n, block, 300, rng)
    assert idx.shape == (300, n)
    assert idx.min() >= 0
    assert idx.max() < n
    continues = np.diff(idx, axis=1) % n == 1
    # A new block starts with probability 1/block (a fresh start can also land on the next row).
    assert (1 - continues.mean()) == pytest.approx(1 / block * (1 - 1 / n), abs=0.01)


def test_bootstrap_interval_agrees_with_arch() -> None:
    rng = np.random.default_rng(8)
    x, y = garch_t_pair(500, 0.5, rng).T
    block = compare.corr_block_length(x, y)
    ours = compare.bootstrap_corr(x, y, reps=4000, block=block, seed=1)
    theirs = StationaryBootstrap(block, x, y, seed=np.random.default_rng(2))  # type: ignore[arg-type]
    low, high = theirs.conf_int(
        lambda a, b: np.array([np.corrcoef(a, b)[0, 1]]), reps=4000, method="percentile"
    )[:, 0]
    # Two Monte Carlo runs of the same resampling scheme: equal up to simulation noise.
    assert ours.low == pytest.approx(low, abs=0.015)
    assert ours.high == pytest.approx(high, abs=0.015)


def test_bootstrap_covers_a_known_correlation_where_fisher_falls_short() -> None:
    # The full study (2,000 replications) is benchmarks/bench_coverage.py.
    rng = np.random.default_rng(2024)
    trials, rho, n = 150, 0.5, 250
    boot_hits = fisher_hits = 0
    for k in range(trials):
        x, y = garch_t_pair(n, rho, rng).T
        boot_hits += compare.bootstrap_corr(x, y, reps=400, seed=k).contains(rho)
        low, high = fisher_ci(compare.pearson(x, y), n)
        fisher_hits += low <= rho <= high
    assert 0.89 <= boot_hits / trials <= 0.99
    assert fisher_hits < boot_hits


def test_difference_draws_match_steigers_asymptotic_variance() -> None:
    # For independent normal rows, Var(atanh r12 − atanh r13) = (2 − 2c)/(n − 3) (Steiger 1980).
    rng = np.random.default_rng(9)
    n = 600
    x, a, b = _normal_trio(n, 0.5, 0.4, 0.7, rng).T
    first, second, _ = compare.bootstrap_shared_draws(x, a, b, reps=3000, block=1.0, seed=3)
    r = np.corrcoef(np.vstack([x, a, b]))
    rbar = (r[0, 1] + r[0, 2]) / 2
    c = (r[1, 2] * (1 - 2 * rbar**2) - 0.5 * rbar**2 * (1 - 2 * rbar**2 - r[1, 2] ** 2)) / (
        1 - rbar**2
    ) ** 2
    expected = math.sqrt((2 - 2 * c) / (n - 3))
    assert np.std(np.arctanh(first) - np.arctanh(second)) == pytest.approx(expected, rel=0.1)


def test_block_sums_equal_sums_over_the_resampled_rows() -> None:
    rng = np.random.default_rng(10)
    n, block, reps = 150, 6.0, 40
    stats_ = rng.standard_normal((n, 3))
    sums = compare.resample_sums(stats_, block, reps, np.random.default_rng(4))
    rows = compare.stationary_indices(n, block, reps, np.random.default_rng(4))
    np.testing.assert_allclose(sums, stats_[rows].sum(axis=1), rtol=1e-10, atol=1e-10)


def test_split_draws_equal_plain_masked_correlations() -> None:
    rng = np.random.default_rng(10)
    x, y = rng.standard_normal((2, 120))
    inside = rng.random(120) < 0.3
    inner, outer, block = compare.bootstrap_split_draws(x, y, inside, reps=100, block=5.0, seed=4)
    replay = compare.stationary_indices(120, block, 100, np.random.default_rng(4))
    for row in range(3):
        idx = replay[row]
        flags = inside[idx]
        assert inner[row] == pytest.approx(np.corrcoef(x[idx][flags], y[idx][flags])[0, 1])
        assert outer[row] == pytest.approx(np.corrcoef(x[idx][~flags], y[idx][~flags])[0, 1])


def test_each_resample_has_n_rows_in_blocks_of_the_mean_length() -> None:
    rng = np.random.default_rng(1)
    starts, lengths = compare.stationary_blocks(500, 10.0, 400, rng)
    assert (lengths.sum(axis=1) == 500).all()
    assert (starts >= 0).all()
    assert (starts < 500).all()
    whole = lengths[:, :-1][lengths[:, 1:] > 0]  # blocks not cut short by the end
    assert whole.mean() == pytest.approx(10.0, rel=0.05)


# -- change points ----------------------------------------------------------------------------


def _pairs(
    rng: np.random.Generator, rhos: list[tuple[int, float]]
) -> tuple[np.ndarray, np.ndarray]:
    parts = [rng.multivariate_normal([0, 0], [[1, r], [r, 1]], size=n) for n, r in rhos]
    both = np.concatenate(parts)
    return both[:, 0], both[:, 1]


def test_cusum_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(12)
    u = rng.standard_normal(300) + np.r_[np.zeros(150), np.full(150, 0.4)]
    n = len(u)
    mean = sum(u) / n
    lags = int(4 * (n / 100) ** (2 / 9))
    e = [v - mean for v in u]
    lrv = sum(v * v for v in e) / n
    for lag in range(1, lags + 1):
        lrv += 2 * (1 - lag / (lags + 1)) * sum(e[t] * e[t - lag] for t in range(lag, n)) / n
    best, best_k, running = 0.0, 0, 0.0
    for k in range(1, n):
        running += e[k - 1]
        if abs(running) > best:
            best, best_k = abs(running), k
    k, statistic = compare.cusum(u)
    assert k == best_k
    assert statistic == pytest.approx(best / math.sqrt(lrv * n), rel=1e-12)


def test_change_point_found_near_a_planted_break() -> None:
    rng = np.random.default_rng(13)
    x, y = _pairs(rng, [(300, 0.05), (300, 0.6)])
    points = compare.change_points(x, y)
    assert len(points) >= 1
    assert min(abs(p.row - 300) for p in points) <= 25
    assert all(p.p_value < 0.05 for p in points)


def test_a_volatility_jump_alone_is_not_a_correlation_change() -> None:
    rng = np.random.default_rng(14)
    x, y = _pairs(rng, [(300, 0.3), (300, 0.3)])
    x[300:] *= 4
    y[300:] *= 4
    assert compare.change_points(x, y) == []


def test_change_points_false_alarms_stay_below_the_level() -> None:
    rng = np.random.default_rng(15)
    trials = 200
    alarms = sum(
        bool(compare.change_points(*_pairs(rng, [(400, 0.3)]), max_changes=1))
        for _ in range(trials)
    )
    assert alarms / trials <= 0.07


def test_inputs_out_of_range_are_refused() -> None:
    with pytest.raises(DataError, match="must lie in"):
        compare.williams_t(1.2, 0.5, 0.5, 30)
    with pytest.raises(DataError, match="at least 4"):
        compare.fisher_difference(0.5, 3, 0.4, 30)
    with pytest.raises(DataError, match="at least 10 sessions"):
        compare.bootstrap_corr(np.ones(5), np.ones(5))
