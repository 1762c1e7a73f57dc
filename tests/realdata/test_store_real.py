"""The real ETH and Russell 2000 files through the store give the same analysis as the files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import comove
from comove.data.store import Store

pytestmark = pytest.mark.realdata


def test_store_round_trip_gives_identical_analysis(
    tmp_path: Path, eth: pd.DataFrame, rut: pd.DataFrame
) -> None:
    path = tmp_path / "real.duckdb"
    with Store(path) as store:
        eth_report = store.write_bars("csv", "ETH-USD", "1d", eth)
        rut_report = store.write_bars("csv", "^RUT", "1d", rut)
    assert eth_report.inserted == len(eth)
    assert rut_report.inserted == len(rut)
    assert eth_report.gaps == []
    with Store(path, read_only=True) as store:
        eth_back = store.read_bars("ETH-USD")
        rut_back = store.read_bars("^RUT")
        info = store.info()
    pd.testing.assert_frame_equal(eth_back, eth, check_exact=True, check_freq=False)
    pd.testing.assert_frame_equal(rut_back, rut, check_exact=True, check_freq=False)
    assert eth_back.attrs["is_24_7"] is True
    assert rut_back.attrs["is_24_7"] is False
    assert info["rows"].tolist() == [len(eth), len(rut)]
    pd.testing.assert_frame_equal(
        comove.analyze(eth_back, rut_back), comove.analyze(eth, rut), check_exact=True
    )


def test_reimporting_the_real_files_changes_nothing(
    tmp_path: Path, data_dir: Path, eth: pd.DataFrame
) -> None:
    with Store(tmp_path / "real.duckdb") as store:
        store.write_bars("csv", "ETH-USD", "1d", eth)
        again = store.write_bars("csv", "ETH-USD", "1d", eth)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(eth))
    assert again.revisions == []
