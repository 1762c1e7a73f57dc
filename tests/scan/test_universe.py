"""Putting many assets on a benchmark's sessions equals comove.align, asset by asset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import comove
from comove.errors import ConfigError
from comove.scan.universe import (
    aligned_closes,
    asset_name,
    expand_sources,
    log_return_panel,
    prepare_benchmark,
    return_panel,
)


def test_panel_columns_equal_align_and_log_returns(universe) -> None:
    frames, bench_bars = universe
    bench = prepare_benchmark(bench_bars)
    closes = aligned_closes([f["close"] for f in frames.values()], bench.dates)
    returns = log_return_panel(closes)
    bench_ret = pd.Series(bench.log_returns, index=bench.dates)
    for k, (name, frame) in enumerate(frames.items()):
        table = comove.align(frame, bench_bars)
        column = pd.Series(closes[:, k], index=bench.dates).dropna()
        pd.testing.assert_index_equal(column.index, table.index, check_names=False)
        np.testing.assert_array_equal(column.to_numpy(), table["crypto_close"].to_numpy())
        expected = comove.log_returns(table["crypto_close"])
        if "holes" in name:
            continue  # holes are compressed by the engine (test_engine checks those)
        got = pd.Series(returns[:, k], index=bench.dates).reindex(table.index)
        np.testing.assert_array_equal(got.to_numpy()[1:], expected.to_numpy()[1:])
        expected_bench = comove.log_returns(table["equity_close"])
        np.testing.assert_array_equal(
            bench_ret.reindex(table.index).to_numpy()[1:], expected_bench.to_numpy()[1:]
        )


def test_weekend_crypto_moves_fold_into_monday(universe) -> None:
    frames, bench_bars = universe
    bench = prepare_benchmark(bench_bars)
    name = next(n for n, f in frames.items() if f.attrs["is_24_7"] and "holes" not in n)
    panel, _ = return_panel({name: frames[name]}, bench)
    close = frames[name]["close"]
    monday = next(d for d in bench.dates[5:] if d.day_of_week == 0 and d in close.index)
    friday = monday - pd.Timedelta(days=3)
    assert friday in bench.dates
    expected = np.log(close[monday] / close[friday])
    assert panel.loc[monday, name] == pytest.approx(expected, abs=1e-15)


def test_benchmark_off_calendar_rows_are_dropped_with_a_warning(universe) -> None:
    _, bench_bars = universe
    saturday = pd.Timestamp("2019-01-05")
    extra = bench_bars.iloc[[3]].copy()
    extra.index = pd.DatetimeIndex([saturday], name="date")
    odd = pd.concat([bench_bars, extra]).sort_index()
    odd.attrs = dict(bench_bars.attrs)
    with pytest.warns(comove.DataWarning, match="not XNYS sessions"):
        bench = prepare_benchmark(odd)
    assert saturday not in bench.dates
    assert len(bench.dates) == len(bench_bars)


def test_sources_expand_folders_and_name_assets(tmp_path, universe_folder) -> None:
    folder, _ = universe_folder
    (folder / "nested").mkdir()
    (folder / "notes.txt").write_text("not data")
    universe = expand_sources([str(folder), "store:ETH-USD"])
    sources = universe.sources
    assert len(sources) == 27
    assert universe.skipped == [
        ("nested/", "a subfolder: the scan reads one level"),
        ("notes.txt", "not a .csv or .parquet file"),
    ]
    assert all(s.endswith((".csv", ".parquet")) for s in sources[:-1])
    assert asset_name("csv:data/SOL-USD.csv") == "SOL-USD"
    assert asset_name("store:^RUT") == "^RUT"
    assert asset_name(str(folder / "E00001.parquet")) == "E00001"
    with pytest.raises(ConfigError, match="two assets are named 'ETH'"):
        expand_sources(["csv:a/ETH.csv", "csv:b/ETH.csv"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"no \.csv or \.parquet files"):
        expand_sources([str(tmp_path / "empty")])
