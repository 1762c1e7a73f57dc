"""ETH vs Russell 2000 on the real daily history: reading, alignment and the analysis table."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

import comove
from comove.errors import DataWarning


@pytest.mark.parametrize(
    "name", ["ETH-USD.csv", "BTC-USD.csv", "RUT.csv", "IWM.csv", "SPY.csv", "QQQ.csv", "VIX.csv"]
)
def test_every_daily_file_reads_cleanly(
    data_dir: Path, name: str, read_shared: Callable[[Path], pd.DataFrame]
) -> None:
    bars = read_shared(data_dir / "prices" / name)
    assert bars.index.is_monotonic_increasing
    assert bars.index.is_unique
    assert bars.attrs["interval"] == "1d"
    assert bars.attrs["is_24_7"] == name.endswith("-USD.csv")


def test_spot_closes_from_provenance(eth: pd.DataFrame, rut: pd.DataFrame) -> None:
    assert eth.loc["2017-12-31", "close"] == pytest.approx(756.73, abs=0.01)
    assert eth.loc["2021-11-09", "close"] == pytest.approx(4735.07, abs=0.01)
    assert rut.loc["2020-03-18", "close"] == pytest.approx(991.16, abs=0.01)
    assert eth.attrs["dropped_incomplete"] == "2026-05-20"
    assert rut.attrs["dropped_incomplete"] == "2026-02-23"


def test_legacy_file_with_null_rows_warns_and_uses_adj_close(data_dir: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bars = comove.read_bars(data_dir / "prices" / "ETH-USD_2015-2021_yahoo_legacy.csv")
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert any("skipped 4 rows" in m for m in messages)
    assert any("missing 4 calendar days (first: 2020-04-17" in m for m in messages)
    assert bars.attrs["price_column"] == "Adj Close"


def test_analysis_matches_independent_pandas(eth: pd.DataFrame, rut: pd.DataFrame) -> None:
    table = comove.analyze(eth, rut)
    # Independent: RUT's dates are XNYS sessions; ETH close of the same UTC date.
    closes = pd.concat({"eth": eth["close"], "rut": rut["close"]}, axis=1, join="inner")
    rets = closes.apply(np.log).diff()
    assert table.index.equals(closes.index)
    for w in (30, 60, 90):
        want = rets["eth"].rolling(w).corr(rets["rut"])
        np.testing.assert_allclose(table[f"corr_{w}"], want, rtol=0, atol=1e-9, equal_nan=True)
    # And a plain per-window numpy computation, to 1e-10.
    x, y = table["crypto_ret"].to_numpy(), table["equity_ret"].to_numpy()
    for end in range(61, len(x) + 1, 97):
        ref = np.corrcoef(x[end - 60 : end], y[end - 60 : end])[0, 1]
        assert table["corr_60"].iloc[end - 1] == pytest.approx(ref, abs=1e-10)


def test_weekend_returns_fold_into_monday(eth: pd.DataFrame, rut: pd.DataFrame) -> None:
    table = comove.analyze(eth, rut)
    # Friday 2024-03-08 -> Monday 2024-03-11: the return spans Sat and Sun.
    monday = table.loc["2024-03-11"]
    close = eth["close"]
    expected = np.log(close["2024-03-11"] / close["2024-03-08"])
    assert monday["crypto_ret"] == pytest.approx(expected, abs=1e-14)
    assert pd.Timestamp("2024-03-09") not in table.index
    assert pd.Timestamp("2024-11-28") not in table.index  # Thanksgiving


def test_synchronous_mode_samples_eth_at_the_new_york_close(
    data_dir: Path, eth: pd.DataFrame, rut: pd.DataFrame
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hourly = comove.read_bars(
            data_dir / "prices" / "hourly" / "ETHUSDT_1h_binance_2022-01_to_2025-12.csv",
            drop_incomplete=True,
        )
    assert hourly.attrs["interval"] == "1h"
    aligned = comove.align(eth, rut, mode="synchronous", crypto_intraday=hourly)
    new_york = ZoneInfo("America/New_York")
    for day in ("2024-03-08", "2024-03-11", "2024-07-15", "2024-12-16"):
        close_utc = pd.Timestamp(f"{day} 16:00", tz=new_york).tz_convert("UTC").tz_localize(None)
        bar_open = close_utc - pd.Timedelta(hours=1)
        assert aligned["crypto_close"][day] == hourly["close"][bar_open]
    table = comove.analyze(eth, rut, mode="synchronous", crypto_intraday=hourly)
    daily = comove.analyze(eth, rut, since=table.index[0], until=table.index[-1])
    assert table.attrs["mode"] == "synchronous"
    # No look-ahead: at the 16:00 New York price, the UTC day is not over yet, so crypto
    # momentum comes from the previous day's bar.
    own_rsi = comove.rsi(eth["close"])
    assert table["rsi_crypto"]["2024-07-15"] == own_rsi["2024-07-14"]
    with pytest.raises(comove.DataError, match="daily bars are needed"):
        comove.analyze(hourly, rut)
    # Sampling at the equity close removes the 3-4 hour mismatch, so the link looks stronger.
    assert table["corr_90"].mean() > daily["corr_90"].reindex(table.index).mean()


def test_analysis_with_real_macro_and_breadth(
    data_dir: Path,
    eth: pd.DataFrame,
    rut: pd.DataFrame,
    fred: dict[str, pd.Series],
    read_shared: Callable[[Path], pd.DataFrame],
) -> None:
    spy = read_shared(data_dir / "prices" / "SPY.csv")
    table = comove.analyze(eth, rut, macro=fred, large_caps=spy)
    # Independent: the RUT/SPY close ratio on the aligned sessions, rebased to 100.
    ratio = rut["close"].reindex(table.index) / spy["close"].reindex(table.index)
    np.testing.assert_allclose(table["breadth"], 100 * ratio / ratio.iloc[0], rtol=1e-12)
    score = table["liquidity_score"]
    # Standardised over the FRED history from 2007: defined from the pair's first session.
    assert score.notna().all()
    assert score.loc["2022-01-01":"2022-12-31"].mean() < 0  # the 2022 tightening
    bare = comove.analyze(eth, rut)
    assert bare["liquidity_score"].isna().all()
    assert bare["breadth"].isna().all()
    pd.testing.assert_series_equal(bare["corr_60"], table["corr_60"])
