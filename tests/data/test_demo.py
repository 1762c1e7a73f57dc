"""The synthetic demo pair: deterministic, on the right calendars, realistic, labelled."""

from __future__ import annotations

import warnings

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from comove.data.bars import normalise_bars
from comove.data.demo import demo_pair

START, END = "2019-01-02", "2025-12-31"


@pytest.fixture(scope="module")
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    return demo_pair(7)


def _xnys_sessions(start: str, end: str) -> pd.DatetimeIndex:
    with warnings.catch_warnings():
        # exchange_calendars trips pandas deprecations under warnings-as-errors.
        warnings.simplefilter("ignore", DeprecationWarning)
        calendar = xcals.get_calendar("XNYS", start=start, end=end)
        every = pd.DatetimeIndex(calendar.sessions).tz_localize(None)
    return every[(every >= pd.Timestamp(start)) & (every <= pd.Timestamp(end))]


def _log_returns(close: pd.Series) -> pd.Series:
    return np.log(close).diff().dropna()


def _session_rolling_corr(crypto: pd.DataFrame, equity: pd.DataFrame) -> pd.Series:
    """Close-to-close between consecutive sessions, so weekend crypto moves fold into Monday."""
    crypto_on_sessions = crypto["close"].reindex(equity.index)
    assert not crypto_on_sessions.isna().any()
    return (
        np.log(crypto_on_sessions).diff().rolling(60).corr(np.log(equity["close"]).diff()).dropna()
    )


def test_same_seed_same_pair_other_seed_other_pair() -> None:
    first, second, other = demo_pair(7), demo_pair(7), demo_pair(8)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)
        assert a.attrs == b.attrs
    for a, c in zip(first, other, strict=True):
        assert not np.allclose(a["close"].to_numpy(), c["close"].to_numpy())


def test_bars_contract(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    for frame in pair:
        index = frame.index
        assert isinstance(index, pd.DatetimeIndex)
        assert index.name == "date"
        assert index.tz is None
        assert (index == index.normalize()).all()
        assert index.is_monotonic_increasing
        assert index.is_unique
        assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
        assert (frame.dtypes == np.float64).all()
        assert not frame.isna().any().any()


def test_crypto_every_day_equity_xnys_sessions(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    crypto, equity = pair
    expected_days = pd.date_range(START, END, freq="D")
    assert crypto.index.equals(pd.DatetimeIndex(expected_days, name="date"))
    assert equity.index.equals(pd.DatetimeIndex(_xnys_sessions(START, END), name="date"))
    # Facts about the NYSE, independent of any calendar library.
    assert (pd.DatetimeIndex(equity.index).day_of_week < 5).all()
    for closed in ("2019-12-25", "2020-04-10", "2022-06-20", "2024-11-28", "2025-01-09"):
        assert pd.Timestamp(closed) not in equity.index
        assert pd.Timestamp(closed) in crypto.index
    assert pd.Timestamp("2024-11-29") in equity.index  # an early close is still a session


def test_custom_span_follows_the_calendars() -> None:
    crypto, equity = demo_pair(3, start="2024-01-01", end="2024-03-31")
    assert len(crypto) == 91  # 2024 is a leap year: 31 + 29 + 31
    assert crypto.index[0] == pd.Timestamp("2024-01-01")
    assert equity.index[0] == pd.Timestamp("2024-01-02")  # New Year's Day is a holiday
    assert equity.index.equals(pd.DatetimeIndex(_xnys_sessions("2024-01-01", "2024-03-31")))


def test_volatility_and_fat_tails(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    crypto, equity = pair
    crypto_returns = _log_returns(crypto["close"])
    equity_returns = _log_returns(equity["close"])
    assert 0.60 <= crypto_returns.std() * np.sqrt(365) <= 0.90
    assert 0.17 <= equity_returns.std() * np.sqrt(252) <= 0.28
    standardised = (crypto_returns - crypto_returns.mean()) / crypto_returns.std(ddof=0)
    assert float(np.mean(standardised.to_numpy() ** 4)) - 3.0 > 1.0  # excess kurtosis


def test_ohlc_consistent_and_positive(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    for frame in pair:
        assert (frame[["open", "high", "low", "close", "volume"]] > 0).all().all()
        assert (frame["low"] <= np.minimum(frame["open"], frame["close"])).all()
        assert (frame["high"] >= np.maximum(frame["open"], frame["close"])).all()


def test_plausible_levels_and_volumes(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    crypto, equity = pair
    assert 900 <= crypto["open"].iloc[0] <= 2100
    assert 1400 <= equity["open"].iloc[0] <= 2100
    assert 1e9 <= crypto["volume"].median() <= 1e11
    assert 1e8 <= equity["volume"].median() <= 1e10
    for frame in pair:
        moves = _log_returns(frame["close"]).abs()
        volume = frame["volume"].reindex(moves.index)
        assert volume[moves > moves.quantile(0.9)].mean() > volume[moves < moves.median()].mean()
        relative = (frame["volume"] / frame["volume"].rolling(20).mean()).dropna()
        assert relative.quantile(0.05) < 0.85
        assert relative.quantile(0.95) > 1.15


def test_rolling_session_correlation_swings_between_regimes(
    pair: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    corr = _session_rolling_corr(*pair)
    assert corr.min() < 0.15
    assert corr.max() > 0.55
    # Several distinct regimes: the window passes from decoupled to coupled and back repeatedly.
    states = pd.Series(np.where(corr < 0.15, -1, np.where(corr > 0.55, 1, 0)), index=corr.index)
    extremes = states[states != 0]
    switches = int((extremes != extremes.shift()).sum()) - 1
    assert switches >= 4


def test_passes_bars_validation_without_warnings(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    for frame in pair:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # bars.py reads DatetimeIndex.dayofweek, deprecated in pandas 3.1; not a data problem.
            warnings.filterwarnings(
                "ignore", "DatetimeIndex.dayofweek is deprecated", DeprecationWarning
            )
            validated = normalise_bars(frame.reset_index(), "demo")
        pd.testing.assert_frame_equal(validated, frame, check_freq=False)
        assert validated.attrs["is_24_7"] == frame.attrs["is_24_7"]
        assert validated.attrs["interval"] == "1d"


def test_attrs_label_the_pair_synthetic(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    crypto, equity = pair
    common = {"price_column": "close", "interval": "1d", "dropped_incomplete": None}
    assert crypto.attrs == {
        "name": "ETH-USD (synthetic)",
        "source": "demo:ETH-USD",
        "is_24_7": True,
        "synthetic": True,
        **common,
    }
    assert equity.attrs == {
        "name": "Russell 2000 (synthetic)",
        "source": "demo:^RUT",
        "is_24_7": False,
        "synthetic": True,
        **common,
    }
