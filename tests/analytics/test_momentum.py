"""Momentum indicators against plain-loop textbook implementations written here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from comove import ema, macd, relative_volume, rsi, sma
from comove.analytics.momentum import matched_shifts, momentum_shifts
from comove.errors import DataError


def _prices(n: int = 300, seed: int = 2) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(
        100 * np.exp(np.cumsum(rng.normal(0, 0.02, n))),
        index=pd.date_range("2021-01-01", periods=n, freq="D"),
    )


def loop_sma(values: list[float], period: int) -> list[float]:
    return [
        float("nan") if i < period - 1 else sum(values[i - period + 1 : i + 1]) / period
        for i in range(len(values))
    ]


def loop_ema(values: list[float], period: int) -> list[float]:
    """EMA seeded with the SMA of the first ``period`` non-missing values."""
    out = [float("nan")] * len(values)
    start = next(i for i, v in enumerate(values) if v == v)
    k = 2 / (period + 1)
    seed_at = start + period - 1
    if seed_at >= len(values):
        return out
    out[seed_at] = sum(values[start : seed_at + 1]) / period
    for i in range(seed_at + 1, len(values)):
        out[i] = values[i] * k + out[i - 1] * (1 - k)
    return out


def loop_rsi(values: list[float], period: int = 14) -> list[float]:
    out = [float("nan")] * len(values)
    gains = [max(values[i] - values[i - 1], 0.0) for i in range(1, len(values))]
    losses = [max(values[i - 1] - values[i], 0.0) for i in range(1, len(values))]
    avg_gain = sum(gains[:period]) / period
    avg_loss = sum(losses[:period]) / period
    for i in range(period, len(values)):
        if i > period:
            avg_gain = (avg_gain * (period - 1) + gains[i - 1]) / period
            avg_loss = (avg_loss * (period - 1) + losses[i - 1]) / period
        out[i] = 100.0 if avg_loss == 0 else 100 - 100 / (1 + avg_gain / avg_loss)
    return out


def test_sma_and_ema_match_loops() -> None:
    close = _prices()
    values = close.tolist()
    np.testing.assert_allclose(sma(close, 20), loop_sma(values, 20), atol=1e-10, equal_nan=True)
    np.testing.assert_allclose(ema(close, 20), loop_ema(values, 20), atol=1e-10, equal_nan=True)
    assert ema(close, 20).iloc[:19].isna().all()
    assert ema(close, 20).iloc[19] == pytest.approx(close.iloc[:20].mean())


def test_rsi_matches_wilder_loop() -> None:
    close = _prices(seed=3)
    got = rsi(close, 14)
    want = loop_rsi(close.tolist(), 14)
    np.testing.assert_allclose(got, want, atol=1e-10, equal_nan=True)
    assert got.iloc[:14].isna().all()
    assert got.iloc[14:].between(0, 100).all()


def test_rsi_edges() -> None:
    rising = pd.Series(np.arange(1.0, 40.0))
    assert (rsi(rising).dropna() == 100).all()
    flat = pd.Series(np.full(30, 5.0))
    assert rsi(flat).isna().all()
    assert rsi(pd.Series([1.0, 2.0])).isna().all()
    with pytest.raises(DataError, match="RSI period"):
        rsi(rising, 0)


def test_macd_matches_textbook_loop_including_warm_up() -> None:
    close = _prices(seed=4)
    got = macd(close)
    line = [
        a - b
        for a, b in zip(loop_ema(close.tolist(), 12), loop_ema(close.tolist(), 26), strict=True)
    ]
    signal = loop_ema(line, 9)
    np.testing.assert_allclose(got["macd"], line, atol=1e-10, equal_nan=True)
    np.testing.assert_allclose(got["signal"], signal, atol=1e-10, equal_nan=True)
    np.testing.assert_allclose(
        got["hist"], np.array(line) - np.array(signal), atol=1e-10, equal_nan=True
    )
    assert list(got.columns) == ["macd", "signal", "hist"]
    assert got["macd"].first_valid_index() == close.index[25]
    assert got["signal"].first_valid_index() == close.index[33]
    with pytest.raises(DataError, match="shorter"):
        macd(close, 26, 12)


def test_relative_volume_uses_the_bars_before() -> None:
    volume = pd.Series([100.0] * 20 + [300.0, 0.0, 100.0])
    got = relative_volume(volume, 20)
    assert got.iloc[:10].isna().all()  # the baseline needs half the window
    assert got.iloc[10] == pytest.approx(1.0)
    assert got.iloc[20] == pytest.approx(3.0)
    assert np.isnan(got.iloc[21])  # zero volume is "not reported"
    # the baseline of bar 22 is bars 2..21 without the unreported one: 18 x 100 and 300
    assert got.iloc[22] == pytest.approx(100.0 / ((18 * 100 + 300) / 19))
    assert relative_volume(pd.Series(np.zeros(30)), 20).isna().all()


def test_momentum_shifts_and_matching() -> None:
    index = pd.date_range("2024-01-01", periods=8, freq="B")
    crypto = momentum_shifts(
        pd.Series([40, 45, 55, 60, 58, 45, 40, 42.0], index=index),
        pd.Series([-1, -0.5, 0.2, 0.4, 0.1, -0.2, -0.3, -0.1], index=index),
    )
    equity = momentum_shifts(
        pd.Series([48, 49, 49, 51, 52, 53, 47, 46.0], index=index),
        pd.Series([0.1, 0.2, 0.3, 0.2, 0.1, 0.05, 0.01, -0.2], index=index),
    )
    assert crypto["rsi_shift"].tolist() == [0, 0, 1, 0, 0, -1, 0, 0]
    assert crypto["macd_shift"].tolist() == [0, 0, 1, 0, 0, -1, 0, 0]
    assert equity["rsi_shift"].tolist() == [0, 0, 0, 1, 0, 0, -1, 0]
    matches = matched_shifts(crypto, equity, within=1)
    assert matches[["indicator", "direction", "gap"]].to_dict("records") == [
        {"indicator": "rsi", "direction": "up", "gap": 1},
        {"indicator": "rsi", "direction": "down", "gap": 1},
    ]
    assert matches["date"].tolist() == [index[3], index[6]]
    wider = matched_shifts(crypto, equity, within=2)
    assert ("macd", "down", 2) in set(
        zip(wider["indicator"], wider["direction"], wider["gap"], strict=True)
    )
    assert matched_shifts(crypto, equity, within=0).empty


@pytest.mark.parametrize("n", [3000, 150_000])  # numpy path, then the compiled one
def test_rsi_and_ema_match_talib(n: int) -> None:
    talib = pytest.importorskip("talib")
    rng = np.random.default_rng(n)
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.02, n))))
    np.testing.assert_allclose(
        rsi(close, 14), talib.RSI(close.to_numpy(), 14), atol=1e-9, equal_nan=True
    )
    for period in (9, 12, 26):
        np.testing.assert_allclose(
            ema(close, period), talib.EMA(close.to_numpy(), period), atol=1e-9, equal_nan=True
        )
    values = close.to_numpy()
    line = talib.EMA(values, 12) - talib.EMA(values, 26)
    signal = np.full(n, np.nan)
    signal[25:] = talib.EMA(line[25:], 9)
    got = macd(close)
    np.testing.assert_allclose(got["macd"], line, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got["signal"], signal, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got["hist"], line - signal, atol=1e-9, equal_nan=True)
