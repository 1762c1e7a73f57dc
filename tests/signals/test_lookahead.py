"""No look-ahead: everything at session t is the same computed on the table cut at t."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import comove
from comove.signals.evaluate import backtest, onsets
from comove.signals.rules import evaluate_signals


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    crypto, equity = comove.demo_pair(seed=11, start="2021-01-04", end="2023-06-30")
    full = comove.analyze(crypto, equity)
    rng = np.random.default_rng(5)
    # Stand-ins for the macro columns, so every condition has data somewhere.
    score = np.cumsum(rng.normal(0, 0.2, len(full)))
    score[:40] = np.nan
    full["liquidity_score"] = score
    full["breadth"] = 0.5 * np.exp(np.cumsum(rng.normal(0, 0.01, len(full))))
    return full


def test_every_value_up_to_t_matches_the_truncated_run(table: pd.DataFrame) -> None:
    full = evaluate_signals(table)
    trade = backtest(table, full, cost_bps=10)
    flags = {name: onsets(full.columns[name]) for name in full.columns.columns}
    cuts = np.linspace(30, len(table) - 1, 45).astype(int)
    assert full.columns.notna().any().all()
    for t in cuts:
        cut = table.iloc[: t + 1]
        part = evaluate_signals(cut)
        pd.testing.assert_frame_equal(part.columns, full.columns.iloc[: t + 1])
        pd.testing.assert_frame_equal(part.conditions, full.conditions.iloc[: t + 1])
        pd.testing.assert_frame_equal(part.values, full.values.iloc[: t + 1])
        pd.testing.assert_series_equal(part.crypto_only_moves, full.crypto_only_moves.iloc[: t + 1])
        until = full.history[full.history["date"] <= table.index[t]].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.history, until, check_dtype=False)
        # repr: NaN values compare equal as text
        assert repr(part.checklist()) == repr(full.checklist(table.index[t]))
        for name, series in flags.items():
            pd.testing.assert_series_equal(onsets(part.columns[name]), series.iloc[: t + 1])
        if trade.start is not None and table.index[t] > trade.start:
            cut_trade = backtest(cut, part, cost_bps=10)
            pd.testing.assert_frame_equal(cut_trade.returns, trade.returns.loc[: table.index[t]])
            pd.testing.assert_series_equal(cut_trade.position, trade.position.loc[: table.index[t]])


def test_the_analysis_table_itself_has_no_look_ahead(table: pd.DataFrame) -> None:
    crypto, equity = comove.demo_pair(seed=11, start="2021-01-04", end="2023-06-30")
    t = table.index[400]
    cut = comove.analyze(crypto.loc[:t], equity.loc[:t])
    base = comove.analyze(crypto, equity).loc[:t]
    pd.testing.assert_frame_equal(cut, base, check_exact=False, rtol=1e-9, atol=1e-12)
