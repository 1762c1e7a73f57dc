"""The synthetic universe: seeded, realistic, on the right calendars, readable as files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kurtosis

import comove
from comove.data.calendar import sessions
from comove.scan.synthetic import generate_universe


def test_same_seed_same_universe_and_calendars() -> None:
    first, bench = generate_universe(12, 300, seed=4, crypto_share=0.5)
    again, _ = generate_universe(12, 300, seed=4, crypto_share=0.5)
    assert isinstance(first, dict)
    for name, frame in first.items():
        assert isinstance(frame, pd.DataFrame)
        pd.testing.assert_frame_equal(frame, again[name])
    assert len(bench) == 300
    xnys = sessions(bench.index[0], bench.index[-1])
    pd.testing.assert_index_equal(pd.DatetimeIndex(bench.index), xnys, check_names=False)
    kinds = {name: frame.attrs["is_24_7"] for name, frame in first.items()}
    assert sum(kinds.values()) == 6
    for name, frame in first.items():
        assert isinstance(frame, pd.DataFrame)
        assert frame.attrs["synthetic"] is True
        if kinds[name]:
            assert (pd.Series(frame.index).diff().dropna() == pd.Timedelta(days=1)).all()
        else:
            pd.testing.assert_index_equal(frame.index, bench.index)


def test_volatility_tails_and_correlation_spread() -> None:
    frames, bench = generate_universe(60, 1500, seed=9, late_listing_share=0.0)
    bench_vol = np.log(bench["close"]).diff().std() * np.sqrt(252)
    assert 0.15 < bench_vol < 0.35
    vols: list[float] = []
    corrs: list[float] = []
    kurt: list[float] = []
    for frame in frames.values():
        assert isinstance(frame, pd.DataFrame)
        table = comove.align(frame, bench)
        x = comove.log_returns(table["crypto_close"]).dropna()
        y = comove.log_returns(table["equity_close"]).dropna()
        vols.append(x.std() * np.sqrt(252))
        corrs.append(np.corrcoef(x, y)[0, 1])
        kurt.append(float(kurtosis(x.to_numpy())))
    assert min(vols) > 0.15
    assert max(vols) < 2.0
    assert min(corrs) < 0.3
    assert max(corrs) > 0.6
    assert np.median(kurt) > 1.0  # fat tails


def test_written_files_read_back(tmp_path: Path) -> None:
    paths, bench = generate_universe(4, 120, seed=2, folder=tmp_path / "u", file_format="parquet")
    assert len(paths) == 4
    for name, path in paths.items():
        assert isinstance(path, Path)
        bars = comove.read_bars(path)
        assert bars.attrs["name"] == name
    assert (tmp_path / "u-BENCH.parquet").exists()
    assert len(comove.read_bars(tmp_path / "u-BENCH.parquet")) == len(bench)
