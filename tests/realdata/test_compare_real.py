"""The commentary's questions on the real files: ETH against RUT, SPY and QQQ; BTC against
SPY before and after 2020 (published: about 0.01 in 2017–19 and 0.36 in 2020–21)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from comove.analytics.comparison import Comparison
from comove.config import Settings
from comove.pipeline import PairRequest, build_analysis
from comove.pipeline.compare import CompareOptions, compare

pytestmark = pytest.mark.realdata

PERIODS = (("2017-01-01", "2019-12-31"), ("2020-01-01", "2021-12-31"))


def _compare(data_dir: Path, tmp_path: Path, crypto: str, *benchmarks: str) -> Comparison:
    prices = data_dir / "prices"
    with warnings.catch_warnings():
        # RUT.csv's last bar is a partial one, dropped with a warning.
        warnings.simplefilter("ignore")
        return compare(
            PairRequest(crypto=f"csv:{prices / crypto}", offline=True),
            Settings(store_path=tmp_path / "store.duckdb"),
            CompareOptions(
                benchmarks=tuple(f"csv:{prices / b}" for b in benchmarks),
                periods=PERIODS,
                reps=1000,
            ),
        )


def test_btc_spy_correlation_rose_from_about_zero_to_about_a_third(
    data_dir: Path, tmp_path: Path
) -> None:
    result = _compare(data_dir, tmp_path, "BTC-USD.csv", "SPY.csv")
    assert result.periods is not None
    before, after = result.periods.periods
    assert -0.05 < before.r < 0.1
    assert 0.28 < after.r < 0.45
    change = result.periods.differences[0]
    assert change.significant
    # Fat tails and clustering: the bootstrap interval is wider than Fisher's in 2020–21.
    assert after.width_ratio > 1.25
    assert after.disagree
    assert any(s.date.year == 2020 for s in result.shifts)


def test_eth_small_caps_are_no_different_from_large_caps(data_dir: Path, tmp_path: Path) -> None:
    result = _compare(data_dir, tmp_path, "ETH-USD.csv", "RUT.csv", "SPY.csv", "QQQ.csv")
    bench = result.benchmarks
    assert bench is not None
    assert bench.benchmarks == ("RUT", "SPY", "QQQ")
    rut, spy, qqq = (e.r for e in bench.whole)
    assert abs(rut - spy) < 0.03
    assert abs(rut - qqq) < 0.03
    assert not bench.small_caps_matter_more
    assert bench.words()[0].startswith("No evidence that RUT matters more than SPY")
    latest = bench.latest[60][0]
    assert latest.sessions == 60
    assert latest.bootstrap.low < latest.r < latest.bootstrap.high
    regimes = {r.name: r for r in result.regimes}
    assert "crypto_only_moves" in regimes
    assert regimes["crypto_only_moves"].inside.r < regimes["crypto_only_moves"].outside.r


def test_risk_on_sessions_are_not_more_correlated_on_the_real_history(
    eth: pd.DataFrame,
    rut: pd.DataFrame,
    fred: dict[str, pd.Series],
    read_shared: Callable[[Path], pd.DataFrame],
    data_dir: Path,
) -> None:
    spy = read_shared(data_dir / "prices" / "SPY.csv")
    analysis = build_analysis(eth, rut, macro=fred, large_caps=spy)
    regimes = {r.name: r for r in analysis.whole.regimes_compared}
    risk_on = regimes["risk_on"]
    assert risk_on.inside.sessions > 400
    assert risk_on.inside.r < risk_on.outside.r
    assert not risk_on.difference.significant
    assert risk_on.sentence() in analysis.claims.words
    comparison = analysis.commentary.benchmarks
    assert comparison is not None
    assert comparison.benchmarks == ("RUT", "SPY")
