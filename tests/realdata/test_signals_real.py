"""Signals and the claims check on the real ETH / Russell 2000 history."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import comove
from comove.signals.evaluate import backtest, correlation_claims, evaluate_all
from comove.signals.rules import SIGNALS, evaluate_signals

pytestmark = pytest.mark.realdata

LEVEL = 0.6


@pytest.fixture(scope="module")
def table(eth: pd.DataFrame, rut: pd.DataFrame) -> pd.DataFrame:
    return comove.analyze(eth, rut)


def _pandas_corr(table: pd.DataFrame, window: int) -> pd.Series:
    """An independent rolling correlation: numpy log returns, pandas' own rolling corr."""
    crypto = pd.Series(np.log(table["crypto_close"].to_numpy()), index=table.index).diff()
    equity = pd.Series(np.log(table["equity_close"].to_numpy()), index=table.index).diff()
    return crypto.rolling(window).corr(equity)


@pytest.mark.parametrize("window", [30, 60, 90])
def test_how_often_the_correlation_rose_above_0_6(table: pd.DataFrame, window: int) -> None:
    claims = correlation_claims(table)
    row = claims.summary.set_index("window").loc[window]
    corr = _pandas_corr(table, window)
    borderline = int((corr.sub(LEVEL).abs() < 1e-9).sum())
    above = (corr > LEVEL).to_numpy()
    assert row["sessions"] == int(corr.notna().sum())
    assert abs(row["sessions_above"] - int(above.sum())) <= borderline
    # Episodes: spells above 0.6, merged across gaps of at most 5 sessions, by a plain loop.
    starts: list[int] = []
    last_above = -100
    for i, flag in enumerate(above):
        if flag:
            if i - last_above - 1 > 5:
                starts.append(i)
            last_above = i
    assert row["episodes"] == len(starts)
    episodes = claims.episodes[claims.episodes["window"] == window]
    assert episodes["sessions_above"].sum() == row["sessions_above"]
    assert episodes["start"].tolist() == [table.index[i] for i in starts]
    spells = [list(group) for flag, group in itertools.groupby(above) if flag]
    assert len(correlation_claims(table, merge_gap=0).episodes.query("window == @window")) == len(
        spells
    )
    # The claim "periodically rose above 0.6" is checked, not assumed: the words say how often.
    assert any(f"{window}-session correlation above 0.6" in line for line in claims.words)


def test_liquidity_regime_of_the_episodes(table: pd.DataFrame) -> None:
    # A stand-in regime (positive in even months) until the real macro score is wired in.
    score = np.where(pd.DatetimeIndex(table.index).month % 2 == 0, 1.0, -1.0)
    claims = correlation_claims(table.assign(liquidity_score=score))
    row = claims.summary.set_index("window").loc[60]
    corr = _pandas_corr(table, 60)
    borderline = int((corr.sub(LEVEL).abs() < 1e-9).sum())
    above = corr > LEVEL
    assert abs(row["above_liquidity_positive"] - int((above & (score > 0)).sum())) <= borderline
    assert abs(row["above_liquidity_negative"] - int((above & (score < 0)).sum())) <= borderline
    assert (
        row["above_liquidity_positive"] + row["above_liquidity_negative"] == row["sessions_above"]
    )


def test_signals_on_real_data(table: pd.DataFrame) -> None:
    evaluation = evaluate_all(table, n_boot=200)
    columns = evaluation.signals.columns
    assert list(columns.columns) == [f"signal_{s}" for s in SIGNALS] + ["stance"]
    assert set(columns["stance"].dropna().unique()) <= {0.0, 0.5}  # no macro: never bullish
    assert columns["signal_decoupling"].eq(1.0).any()
    assert columns["signal_synchronized_breakout"].isna().all()
    metrics = evaluation.backtest.metrics
    assert np.isfinite(metrics.to_numpy()).all()
    study = evaluation.event_study
    assert (study["independent_events"] <= study["events"]).all()
    # Look-ahead on the real table at a few sessions.
    full = evaluation.signals
    for t in (300, 900, 1500, len(table) - 2):
        part = evaluate_signals(table.iloc[: t + 1])
        pd.testing.assert_frame_equal(part.columns, full.columns.iloc[: t + 1])


def test_buy_and_hold_matches_the_prices(table: pd.DataFrame) -> None:
    result = backtest(table, evaluate_signals(table), cost_bps=0)
    assert result.start is not None
    assert result.end is not None
    close = table["crypto_close"]
    growth = close.loc[result.end] / close.loc[result.start]
    assert result.equity["buy_and_hold"].iloc[-1] == pytest.approx(growth, rel=1e-9)
    years = (result.end - result.start).days / 365.25
    assert result.metrics.loc["buy_and_hold", "cagr"] == pytest.approx(growth ** (1 / years) - 1)
