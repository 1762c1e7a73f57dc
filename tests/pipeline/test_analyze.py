"""The analysis table: exact columns, independent recomputation, spans and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import comove
from comove.errors import ConfigError, DataError
from comove.pipeline import table_columns

CONTRACT_60 = [
    "crypto_close", "equity_close", "crypto_ret", "equity_ret", "crypto_norm", "equity_norm",
    "corr_60", "corr_60_lo", "corr_60_hi", "beta_60",
    "rsi_crypto", "rsi_equity",
    "macd_crypto", "macd_signal_crypto", "macd_hist_crypto",
    "macd_equity", "macd_signal_equity", "macd_hist_equity",
    "relvol_crypto", "relvol_equity",
    "liquidity_score", "breadth",
    "signal_synchronized_breakout", "signal_risk_off_alignment", "signal_decoupling", "stance",
]  # fmt: skip


def test_columns_are_exactly_the_design_contract(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    table = comove.analyze(*pair, windows=(60,))
    assert list(table.columns) == CONTRACT_60
    assert table.index.name == "date"
    assert (table.dtypes == "float64").all()
    full = comove.analyze(*pair)
    assert [c for c in full.columns if c.startswith("corr_") and c.count("_") == 1] == [
        "corr_30",
        "corr_60",
        "corr_90",
    ]
    assert list(full.columns) == table_columns((30, 60, 90))
    assert full.attrs["mode"] == "daily"
    assert full.attrs["windows"] == [30, 60, 90]


def test_table_equals_an_independent_pandas_computation(
    pair: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    crypto, equity = pair
    table = comove.analyze(crypto, equity, windows=(30, 90))
    # Independent: sessions are the equity dates; crypto close of the same UTC date.
    closes = pd.DataFrame({"c": crypto["close"], "e": equity["close"]}).dropna()
    rets = (closes / closes.shift(1)).apply(np.log)
    np.testing.assert_allclose(table["crypto_ret"], rets["c"], atol=1e-14, equal_nan=True)
    for w in (30, 90):
        want = rets["c"].rolling(w).corr(rets["e"])
        np.testing.assert_allclose(table[f"corr_{w}"], want, atol=1e-10, equal_nan=True)
        beta = rets["c"].rolling(w).cov(rets["e"]) / rets["e"].rolling(w).var()
        np.testing.assert_allclose(table[f"beta_{w}"], beta, atol=1e-10, equal_nan=True)
        defined = table[f"corr_{w}"].notna()
        assert (table.loc[defined, f"corr_{w}_lo"] <= table.loc[defined, f"corr_{w}"]).all()
        assert (table.loc[defined, f"corr_{w}"] <= table.loc[defined, f"corr_{w}_hi"]).all()
    assert table["crypto_norm"].iloc[0] == 100.0
    assert table["equity_norm"].iloc[-1] == pytest.approx(
        100 * closes["e"].iloc[-1] / closes["e"].iloc[0]
    )


def test_crypto_momentum_runs_on_every_day_then_is_sampled(
    pair: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    crypto, equity = pair
    table = comove.analyze(crypto, equity)
    own = comove.rsi(crypto["close"]).reindex(table.index)
    np.testing.assert_allclose(table["rsi_crypto"], own, atol=1e-12, equal_nan=True)
    on_sessions_only = comove.rsi(crypto["close"].reindex(table.index))
    assert not np.allclose(
        table["rsi_crypto"].dropna(), on_sessions_only.reindex(table["rsi_crypto"].dropna().index)
    )


def test_since_until_keep_warm_up(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    full = comove.analyze(*pair)
    part = comove.analyze(*pair, since="2023-03-01", until="2023-06-30")
    assert part.index[0] >= pd.Timestamp("2023-03-01")
    assert part.index[-1] <= pd.Timestamp("2023-06-30")
    pd.testing.assert_series_equal(part["corr_90"], full["corr_90"].loc[part.index])
    assert part["corr_90"].notna().all()
    assert part["crypto_norm"].iloc[0] == 100.0
    with pytest.raises(DataError, match="no aligned sessions"):
        comove.analyze(*pair, since="2030-01-01")
    with pytest.raises(DataError, match="is after"):
        comove.analyze(*pair, since="2023-05-01", until="2023-01-01")


@pytest.mark.parametrize("windows", [(2,), (60, 1), (0,)])
def test_windows_below_three_are_rejected(
    pair: tuple[pd.DataFrame, pd.DataFrame], windows: tuple[int, ...]
) -> None:
    with pytest.raises(ConfigError, match="from 3 to 500"):
        comove.analyze(*pair, windows=windows)


def test_window_longer_than_the_data(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    crypto, equity = pair
    with pytest.raises(DataError, match="longer than the data"):
        comove.analyze(crypto.iloc[:40], equity.iloc[:30], windows=(60,))


def test_missing_volume_leaves_relative_volume_out_with_a_note(
    pair: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    crypto, equity = pair
    equity = equity.assign(volume=0.0)
    table = comove.analyze(crypto, equity)
    assert table["relvol_equity"].isna().all()
    assert table["relvol_crypto"].notna().any()
    assert any("volume" in note and "EQUITY" in note for note in table.attrs["notes"])


def test_inputs_are_not_mutated(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    crypto, equity = pair
    before = crypto.copy(), equity.copy()
    comove.build_analysis(crypto, equity)
    pd.testing.assert_frame_equal(crypto, before[0])
    pd.testing.assert_frame_equal(equity, before[1])


def test_build_analysis_bundle(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    analysis = comove.build_analysis(*pair)
    assert analysis.comparison_window == 60
    assert list(analysis.comparison.columns) == ["naive", "lag_adjusted"]
    assert list(analysis.spearman.columns) == [30, 60, 90]
    pd.testing.assert_series_equal(
        analysis.spearman_at(60), analysis.spearman[60], check_names=False
    )
    assert list(analysis.lead_lag.index) == list(range(-10, 11))
    assert analysis.lead_lag_best.best_lag == 0  # the fixture couples same-date returns
    assert analysis.reading.date == analysis.table.index[-1]
    assert analysis.reading.windows[1].window == 60


def test_public_api_is_sorted_and_resolves() -> None:
    assert comove.__all__ == sorted(comove.__all__)
    for name in comove.__all__:
        assert getattr(comove, name) is not None
    with pytest.raises(AttributeError):
        _ = comove.no_such_name
