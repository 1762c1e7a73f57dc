"""Evaluation: backtest accounting by hand, event-study counts, bootstrap intervals, claims."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from comove.errors import DataError
from comove.signals import evaluate as evaluate_module
from comove.signals.evaluate import (
    EVENT_COLUMNS,
    METRIC_COLUMNS,
    backtest,
    block_bootstrap_indices,
    correlation_claims,
    event_study,
    forward_log_returns,
    independent_count,
    onsets,
)

from .helpers import stance_result

NAN = np.nan


def _table(close: list[float] | np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    close = np.asarray(close, dtype="float64")
    return pd.DataFrame(
        {
            "crypto_close": close,
            "equity_close": close,
            "crypto_ret": np.log(close / np.roll(close, 1)),
            "equity_ret": np.log(close / np.roll(close, 1)),
        },
        index=index,
    )


# --- backtest accounting ---------------------------------------------------------------------


def test_backtest_by_hand() -> None:
    index = pd.DatetimeIndex(
        ["2024-01-01", "2024-01-02", "2024-04-01", "2024-07-01", "2024-10-01", "2025-01-01"]
    )
    table = _table([100.0, 110.0, 99.0, 99.0, 108.9, 98.01], index)
    stance = [NAN, 1.0, 0.5, 0.0, 1.0, 1.0]
    result = backtest(table, stance_result(stance, index), cost_bps=10)
    c = 0.001
    # Decided at the close of row k, held over row k+1; flat over the first (decision) row.
    assert result.start == index[1]
    assert result.end == index[5]
    assert result.position.tolist() == [1.0, 0.5, 0.0, 1.0]
    strategy = [1.0 * -0.1 - c * 1.0, 0.5 * 0.0 - c * 0.5, 0.0 * 0.1 - c * 0.5, -0.1 - c * 1.0]
    hold = [-0.1 - c, 0.0, 0.1, -0.1]
    np.testing.assert_allclose(result.returns["strategy"], strategy, rtol=1e-12)
    np.testing.assert_allclose(result.returns["buy_and_hold"], hold, rtol=1e-12)
    half = [0.5 * -0.1 - c * 0.5, 0.0, 0.5 * 0.1, 0.5 * -0.1]
    np.testing.assert_allclose(result.returns["always_neutral"], half, rtol=1e-12)
    assert result.metrics.loc["always_neutral", "turnover"] == pytest.approx(0.5)
    eq_s = np.cumprod([1.0, *(1 + r for r in strategy)])
    eq_h = np.cumprod([1.0, *(1 + r for r in hold)])
    np.testing.assert_allclose(result.equity["strategy"], eq_s, rtol=1e-12)
    np.testing.assert_allclose(result.equity["buy_and_hold"], eq_h, rtol=1e-12)
    years = (index[5] - index[1]).days / 365.25
    m = result.metrics
    assert list(m.columns) == METRIC_COLUMNS
    assert m.loc["strategy", "total_return"] == pytest.approx(eq_s[-1] - 1)
    assert m.loc["strategy", "cagr"] == pytest.approx(eq_s[-1] ** (1 / years) - 1)
    assert m.loc["buy_and_hold", "cagr"] == pytest.approx(eq_h[-1] ** (1 / years) - 1)
    assert m.loc["strategy", "max_drawdown"] == pytest.approx(eq_s[-1] - 1)  # only falls
    assert m.loc["buy_and_hold", "max_drawdown"] == pytest.approx(eq_h[-1] / 1.0 - 1)
    assert m.loc["strategy", "turnover"] == pytest.approx(3.0)
    assert m.loc["buy_and_hold", "turnover"] == pytest.approx(1.0)
    assert m.loc["strategy", "time_in_market"] == pytest.approx(0.75)
    assert m.loc["strategy", "mean_exposure"] == pytest.approx(0.625)
    per_year = 4 / years
    sd = float(np.std(strategy, ddof=1))
    assert m.loc["strategy", "volatility"] == pytest.approx(sd * math.sqrt(per_year))
    assert m.loc["strategy", "sharpe"] == pytest.approx(
        np.mean(strategy) / sd * math.sqrt(per_year)
    )


def test_drawdown_from_a_peak() -> None:
    index = pd.bdate_range("2024-01-01", periods=5)
    table = _table([100.0, 100.0, 120.0, 90.0, 99.0], index)
    result = backtest(table, stance_result([1.0] * 5, index), cost_bps=0)
    # Equity 1, 1, 1.2, 0.9, 0.99: the worst fall is from 1.2 to 0.9.
    assert result.metrics.loc["strategy", "max_drawdown"] == pytest.approx(0.9 / 1.2 - 1)
    assert result.metrics.loc["strategy", "total_return"] == pytest.approx(-0.01)
    pd.testing.assert_series_equal(
        result.returns["strategy"], result.returns["buy_and_hold"], check_names=False
    )


def test_a_missing_stance_keeps_the_position_and_costs_scale() -> None:
    index = pd.bdate_range("2024-01-01", periods=5)
    table = _table([100.0, 101.0, 102.0, 103.0, 104.0], index)
    result = backtest(table, stance_result([0.5, NAN, 1.0, NAN, 0.0], index), cost_bps=25)
    assert result.position.tolist() == [0.5, 0.5, 1.0, 1.0]
    assert result.metrics.loc["strategy", "turnover"] == pytest.approx(1.0)
    first = result.returns["strategy"].iloc[0]
    assert first == pytest.approx(0.5 * 0.01 - 0.0025 * 0.5)


def test_backtest_without_any_stance() -> None:
    index = pd.bdate_range("2024-01-01", periods=3)
    result = backtest(_table([1.0, 2.0, 3.0], index), stance_result([NAN] * 3, index))
    assert result.start is None
    assert result.equity.empty
    assert "nothing to evaluate" in result.notes[0]
    with pytest.raises(DataError):
        backtest(_table([1.0, 2.0, 3.0], index), stance_result([NAN] * 3, index), cost_bps=-1)


# --- event study -----------------------------------------------------------------------------


def test_onsets_ignore_unknown_gaps() -> None:
    state = pd.Series([NAN, 1, 1, NAN, 1, 0, 1, 0, NAN, 1])
    assert onsets(state).tolist() == [
        False,
        True,
        False,
        False,
        False,
        False,
        True,
        False,
        False,
        True,
    ]


def test_forward_returns_and_independent_counts() -> None:
    close = pd.Series([1.0, 2.0, 4.0, 8.0])
    np.testing.assert_allclose(forward_log_returns(close, 2), [math.log(4), math.log(4), NAN, NAN])
    assert independent_count([0, 3, 5, 10, 14], 5) == 3  # 0, 5, 10
    assert independent_count([0, 3, 5, 10, 14], 1) == 5
    assert independent_count([], 5) == 0


def test_block_bootstrap_is_circular_blocks() -> None:
    rng = np.random.default_rng(1)
    draws = block_bootstrap_indices(7, 3, 4, rng)
    assert draws.shape == (4, 7)
    for row in draws:
        for start in range(0, 7, 3):
            block = row[start : start + 3]
            assert all((b - a) % 7 == 1 for a, b in itertools.pairwise(block))


@pytest.mark.parametrize(("n", "block"), [(100, 10), (97, 10), (7, 3), (5, 9), (1, 1)])
def test_block_sums_equal_the_sums_of_the_drawn_positions(n: int, block: int) -> None:
    values = np.random.default_rng(n).normal(size=n)
    draws = block_bootstrap_indices(n, block, 50, np.random.default_rng(3))
    sums = evaluate_module._BlockSums(
        n, *evaluate_module._block_starts(n, block, 50, np.random.default_rng(3))
    )
    np.testing.assert_allclose(sums.of(values), values[draws].sum(axis=1), rtol=0, atol=1e-12)


def test_event_counts_on_a_known_series() -> None:
    n = 100
    index = pd.bdate_range("2024-01-01", periods=n)
    close = 100.0 * np.exp(0.002 * np.arange(n))  # every forward return is 0.002 h
    table = _table(close, index)
    state = np.zeros(n)
    for start in (10, 13, 30, 60, 97):
        state[start : start + 2] = 1.0  # onsets at 10, 13, 30, 60, 97
    result = stance_result(np.full(n, 0.5), index)
    result.columns["signal_decoupling"] = state
    study = event_study(table, result, horizons=(5, 20), n_boot=200, block=5)
    assert list(study.columns) == EVENT_COLUMNS
    row5 = study[(study["signal"] == "decoupling") & (study["horizon"] == 5)].iloc[0]
    # The onset at 97 has no 5-session forward return; 10 and 13 overlap at h = 5.
    assert row5["events"] == 4
    assert row5["independent_events"] == 3
    assert row5["mean_after"] == pytest.approx(0.01)
    assert row5["mean_all"] == pytest.approx(0.01)
    assert row5["excess"] == pytest.approx(0.0, abs=1e-12)
    assert "weak evidence: only 3 independent events" in row5["evidence"]
    row20 = study[(study["signal"] == "decoupling") & (study["horizon"] == 20)].iloc[0]
    assert row20["events"] == 4
    assert row20["independent_events"] == 3
    none = study[study["signal"] == "risk_off_alignment"]
    assert (none["events"] == 0).all()
    assert none["mean_after"].isna().all()


def test_bootstrap_interval_contains_the_true_mean() -> None:
    rng = np.random.default_rng(2024)
    n = 3000
    mu = 0.001
    index = pd.bdate_range("2010-01-01", periods=n)
    close = 100.0 * np.exp(np.cumsum(rng.normal(mu, 0.02, n)))
    state = np.zeros(n)
    state[rng.choice(np.arange(0, n, 3), 150, replace=False)] = 1.0
    result = stance_result(np.full(n, 0.5), index)
    result.columns["signal_risk_off_alignment"] = state
    study = event_study(_table(close, index), result, n_boot=500, block=20, seed=3)
    rows = study[study["signal"] == "risk_off_alignment"]
    assert len(rows) == 3
    for _, row in rows.iterrows():
        true_mean = row["horizon"] * mu
        assert row["ci_low"] < true_mean < row["ci_high"]
        assert row["ci_low"] < row["mean_after"] < row["ci_high"]
        # Events unrelated to returns: the excess interval includes zero, and the words say so.
        assert row["excess_ci_low"] < 0 < row["excess_ci_high"]
        assert "includes zero" in row["evidence"]
        assert row["independent_events"] >= 10
    # Seeded: the same call gives the same intervals.
    again = event_study(_table(close, index), result, n_boot=500, block=20, seed=3)
    pd.testing.assert_frame_equal(study, again)


# --- claims check ----------------------------------------------------------------------------


def test_claims_counts_episodes_and_liquidity() -> None:
    index = pd.bdate_range("2024-01-01", periods=12)
    corr = [NAN, 0.5, 0.61, 0.7, 0.55, 0.65, 0.66, 0.67, 0.3, 0.62, NAN, 0.2]
    score = [1.0, 1.0, 1.0, -1.0, 1.0, -1.0, -1.0, NAN, 1.0, 1.0, 1.0, -1.0]
    table = pd.DataFrame({"corr_30": corr, "corr_60": 0.0, "liquidity_score": score}, index=index)
    claims = correlation_claims(table, merge_gap=0)
    row = claims.summary.set_index("window").loc[30]
    assert row["sessions"] == 10
    assert row["sessions_above"] == 6
    assert row["episodes"] == 3
    assert row["above_liquidity_positive"] == 2  # sessions 2 and 9
    assert row["above_liquidity_negative"] == 3  # sessions 3, 5, 6
    episodes = claims.episodes[claims.episodes["window"] == 30]
    assert episodes["start"].tolist() == [index[2], index[5], index[9]]
    assert episodes["end"].tolist() == [index[3], index[7], index[9]]
    assert episodes["peak"].tolist() == [0.7, 0.67, 0.62]
    assert claims.summary.set_index("window").loc[60, "episodes"] == 0
    assert any("6 of 10 sessions" in line for line in claims.words)
    merged = correlation_claims(table, merge_gap=1).episodes
    merged = merged[merged["window"] == 30]
    assert merged["start"].tolist() == [index[2]]
    assert merged["end"].tolist() == [index[9]]
    assert merged["sessions"].tolist() == [8]
    assert merged["sessions_above"].tolist() == [6]
    without = correlation_claims(table.drop(columns="liquidity_score"))
    assert "above_liquidity_positive" not in without.summary
    assert any("liquidity regime" in line for line in without.words)


def test_no_interval_from_too_few_events() -> None:
    n = 60
    index = pd.bdate_range("2024-01-01", periods=n)
    close = 100.0 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.02, n)))
    result = stance_result(np.full(n, 0.5), index)
    state = np.zeros(n)
    state[20:25] = 1.0
    result.columns["signal_decoupling"] = state
    study = event_study(_table(close, index), result, horizons=(5,), n_boot=100)
    row = study[study["signal"] == "decoupling"].iloc[0]
    assert row["events"] == 1
    assert np.isnan(row["ci_low"])
    assert np.isnan(row["excess_ci_high"])
    assert "no interval" in row["evidence"]
    assert "excludes zero" not in row["evidence"]
