"""The universe scan on the real histories, against pandas on each pair and the exact path."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comove.analytics import rolling
from comove.analytics import scan as scan_stats
from comove.scan.engine import ScanConfig, scan_frames
from comove.scan.universe import prepare_benchmark

ASSETS = ("ETH-USD", "BTC-USD", "SPY", "QQQ", "IWM", "VIX")
CONFIG = ScanConfig()


@pytest.fixture(scope="module")
def real_universe(
    data_dir: Path, read_shared: Callable[[Path], pd.DataFrame]
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    prices = data_dir / "prices"
    return {name: read_shared(prices / f"{name}.csv") for name in ASSETS}, read_shared(
        prices / "RUT.csv"
    )


def _pandas_row(asset: pd.DataFrame, bench: pd.DataFrame) -> dict[str, float]:
    """Latest correlation and beta per window, and the 60-session run above/below 0.5."""
    closes = pd.concat({"a": asset["close"], "b": bench["close"]}, axis=1, join="inner")
    rets = closes.apply(np.log).diff()
    row: dict[str, float] = {}
    for w in CONFIG.windows:
        corr = rets["a"].rolling(w).corr(rets["b"])
        beta = rets["a"].rolling(w).cov(rets["b"]) / rets["b"].rolling(w).var()
        row[f"corr_{w}"], row[f"beta_{w}"] = corr.iloc[-1], beta.iloc[-1]
        if w == CONFIG.main:
            values = corr.to_numpy()[::-1]
            sides = np.where(np.isnan(values), -1, values > CONFIG.threshold)
            other = np.flatnonzero(sides != sides[0])
            row["side_sessions"] = float(other[0] if len(other) else len(sides))
    return row


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            "compiled",
            marks=pytest.mark.skipif(not rolling.numba_available(), reason="numba not installed"),
        ),
        "exact",
    ],
)
def test_scan_rows_equal_pandas_on_each_real_pair(
    real_universe: tuple[dict[str, pd.DataFrame], pd.DataFrame],
    path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frames, rut = real_universe
    if path == "exact":
        monkeypatch.setattr(scan_stats, "numba_available", lambda: False)
    table = scan_frames(frames, [prepare_benchmark(rut, name="RUT")], CONFIG).table
    table = table.set_index("asset")
    assert list(table.index) == list(ASSETS)
    for name, frame in frames.items():
        want = _pandas_row(frame, rut)
        got = table.loc[name]
        for key, value in want.items():
            assert not math.isnan(value), (name, key)
            assert got[key] == pytest.approx(value, abs=1e-9), (name, key)
    # Real relationships the data is known for: IWM tracks the index it follows, the VIX
    # moves against it.
    corr_60 = table["corr_60"].astype(float)
    assert corr_60["IWM"] > 0.95
    assert corr_60["VIX"] < -0.3
