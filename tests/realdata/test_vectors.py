"""comove's indicators and statistics against independent reference values (shared/vectors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import comove


def _calc(vectors_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(vectors_dir / "skender_stock_indicators" / "derived" / name)


def test_sma20(vectors_dir: Path) -> None:
    ref = _calc(vectors_dir, "sma20_calc.csv")
    np.testing.assert_allclose(
        comove.sma(ref["close"], 20), ref["sma20"], rtol=0, atol=1e-9, equal_nan=True
    )


def test_ema20(vectors_dir: Path) -> None:
    ref = _calc(vectors_dir, "ema20_calc.csv")
    got = comove.ema(ref["close"], 20)
    assert got.first_valid_index() == ref["ema20"].first_valid_index() == 19
    np.testing.assert_allclose(got, ref["ema20"], rtol=0, atol=1e-9, equal_nan=True)


def test_rsi14_wilder(vectors_dir: Path) -> None:
    ref = _calc(vectors_dir, "rsi14_calc.csv")
    got = comove.rsi(ref["close"], 14)
    assert got.first_valid_index() == ref["rsi14"].first_valid_index() == 14
    np.testing.assert_allclose(got, ref["rsi14"], rtol=0, atol=1e-9, equal_nan=True)


def test_macd_12_26_9_including_warm_up(vectors_dir: Path) -> None:
    ref = _calc(vectors_dir, "macd_12_26_9_calc.csv")
    got = comove.macd(ref["close"], 12, 26, 9)
    assert got["macd"].first_valid_index() == ref["macd"].first_valid_index() == 25
    assert got["signal"].first_valid_index() == ref["signal"].first_valid_index() == 33
    for mine, theirs in (("macd", "macd"), ("signal", "signal"), ("hist", "histogram")):
        np.testing.assert_allclose(got[mine], ref[theirs], rtol=0, atol=1e-9, equal_nan=True)


def test_correlation20_of_price_levels(vectors_dir: Path) -> None:
    ref = _calc(vectors_dir, "correlation20_calc.csv")
    got = comove.rolling_corr(ref["eval_close"], ref["mrkt_close"], 20)
    np.testing.assert_allclose(got, ref["corr20"], rtol=0, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got**2, ref["r_squared"], rtol=0, atol=1e-9, equal_nan=True)


def test_beta20_of_simple_returns(vectors_dir: Path) -> None:
    ref = _calc(vectors_dir, "beta20_calc.csv")
    got = comove.rolling_beta(ref["eval_return"], ref["mrkt_return"], 20)
    np.testing.assert_allclose(got, ref["beta20"], rtol=0, atol=1e-9, equal_nan=True)


def _norris(vectors_dir: Path) -> pd.DataFrame:
    lines = (vectors_dir / "nist_strd" / "Norris.dat").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:3] == ["Data:", "y", "x"])
    rows = [line.split() for line in lines[start + 1 :] if line.strip()]
    return pd.DataFrame(rows, columns=["y", "x"]).astype(float)


def test_nist_norris_certified_slope_and_r_squared(vectors_dir: Path) -> None:
    data = _norris(vectors_dir)
    assert len(data) == 36
    n = len(data)
    beta = comove.rolling_beta(data["y"], data["x"], n).iloc[-1]
    corr = comove.rolling_corr(data["y"], data["x"], n).iloc[-1]
    assert beta == pytest.approx(1.00211681802045, abs=1e-12)
    assert corr**2 == pytest.approx(0.999993745883712, abs=1e-12)
