"""Crypto onto equity sessions: hand-built weeks with hand-computed expected rows and closes.

Calendar facts used (XNYS): 2023-11-23 Thanksgiving (closed), 2023-11-24 early close 13:00
ET (18:00 UTC, EST), 2024-03-29 Good Friday (closed), US DST starts 2024-03-10 so the 16:00
New York close is 21:00 UTC before and 20:00 UTC after, 2024-07-03 early close 13:00 ET
(17:00 UTC, EDT), 2024-01-01 New Year's Day (closed).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comove.data import calendar as calendar_module
from comove.data.calendar import align, session_closes, sessions
from comove.errors import ConfigError, DataError, DataWarning


def _bars(closes: dict[str, float], name: str = "series") -> pd.DataFrame:
    """A bars frame with the given close on each date (open = high = low = close)."""
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in closes], name="date")
    values = np.array(list(closes.values()), dtype="float64")
    frame = pd.DataFrame(
        {"open": values, "high": values, "low": values, "close": values, "volume": 1.0},
        index=index,
    )
    frame.attrs = {"name": name, "source": f"{name}.csv", "interval": "1d"}
    return frame


def _daily_crypto(first: str, last: str, start: float = 1000.0) -> pd.DataFrame:
    """Every calendar day; the close is ``start`` plus the day's ordinal from ``first``."""
    days = pd.date_range(first, last, freq="D")
    return _bars({d.strftime("%Y-%m-%d"): start + i for i, d in enumerate(days)}, "crypto")


def _hourly_crypto(first: str, last: str) -> pd.DataFrame:
    """Hourly bars (open times, UTC) whose close encodes the bar: 1000 + day*24 + hour."""
    index = pd.date_range(first, last, freq="h", name="date")
    close = 1000.0 + index.day.to_numpy() * 24 + index.hour.to_numpy()
    frame = pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": 1.0}, index=index
    )
    frame.attrs = {"name": "crypto_1h", "source": "crypto_1h.csv", "interval": "1h"}
    return frame


def _code(day: int, hour: int) -> float:
    return 1000.0 + day * 24 + hour


def _days(*days: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(d) for d in days]


# --- daily mode ----------------------------------------------------------------------------


def test_weekend_folds_into_monday() -> None:
    crypto = _bars(
        {"2024-01-05": 100.0, "2024-01-06": 110.0, "2024-01-07": 121.0, "2024-01-08": 133.1}
    )
    equity = _bars({"2024-01-05": 2000.0, "2024-01-08": 2010.0})
    table = align(crypto, equity)
    assert list(table.index) == _days("2024-01-05", "2024-01-08")
    assert table.index.name == "date"
    assert list(table.columns) == ["crypto_close", "equity_close"]
    np.testing.assert_allclose(table["crypto_close"], [100.0, 133.1])
    assert table["equity_close"].tolist() == [2000.0, 2010.0]
    returns = np.log(table["crypto_close"]).diff().dropna()
    # Three +10% days (Sat, Sun, Mon) land in Monday's return; no zero weekend returns.
    assert len(returns) == 1
    assert math.isclose(float(returns.iloc[0]), math.log(1.331), rel_tol=1e-12)
    assert math.isclose(float(returns.iloc[0]), 3 * math.log(1.1), rel_tol=1e-12)
    assert (returns != 0).all()


def test_output_contract_and_attrs() -> None:
    crypto = _daily_crypto("2024-01-01", "2024-01-14")
    equity = _bars({"2024-01-02": 10.0, "2024-01-03": 11.0, "2024-01-04": 12.0})
    table = align(crypto, equity)
    assert table.attrs["mode"] == "daily"
    assert table.attrs["calendar"] == "XNYS"
    assert all(dtype == np.float64 for dtype in table.dtypes)
    assert isinstance(table.index, pd.DatetimeIndex)
    assert table.index.tz is None
    assert table.index.is_unique
    assert table.index.is_monotonic_increasing


def test_thanksgiving_absent_and_holiday_move_folds_into_friday() -> None:
    # Crypto Mon 2023-11-20 = 1000 ... Tue 2023-11-28 = 1008.
    crypto = _daily_crypto("2023-11-20", "2023-11-28")
    equity = _bars(
        {
            "2023-11-20": 50.0,
            "2023-11-21": 51.0,
            "2023-11-22": 52.0,
            "2023-11-23": 99.0,  # a bogus row on the holiday
            "2023-11-24": 53.0,
            "2023-11-27": 54.0,
            "2023-11-28": 55.0,
        },
        "rut",
    )
    with pytest.warns(DataWarning, match=r"rut\.csv: 1 rows .*not XNYS sessions.*2023-11-23"):
        table = align(crypto, equity)
    expected = _days(
        "2023-11-20", "2023-11-21", "2023-11-22", "2023-11-24", "2023-11-27", "2023-11-28"
    )
    assert list(table.index) == expected
    assert table["crypto_close"].tolist() == [1000.0, 1001.0, 1002.0, 1004.0, 1007.0, 1008.0]
    assert table["equity_close"].tolist() == [50.0, 51.0, 52.0, 53.0, 54.0, 55.0]
    assert 99.0 not in table["equity_close"].tolist()


def test_good_friday_absent() -> None:
    crypto = _daily_crypto("2024-03-25", "2024-04-02")  # 03-25 = 1000 ... 04-02 = 1008
    equity = _bars(
        {
            "2024-03-27": 20.0,
            "2024-03-28": 21.0,
            "2024-03-29": 22.0,  # Good Friday: XNYS closed
            "2024-04-01": 23.0,
            "2024-04-02": 24.0,
        },
        "iwm",
    )
    with pytest.warns(DataWarning, match=r"not XNYS sessions.*2024-03-29"):
        table = align(crypto, equity)
    assert list(table.index) == _days("2024-03-27", "2024-03-28", "2024-04-01", "2024-04-02")
    assert table["crypto_close"].tolist() == [1002.0, 1003.0, 1007.0, 1008.0]
    assert table["equity_close"].tolist() == [20.0, 21.0, 23.0, 24.0]


def test_holiday_absent_without_a_warning_when_the_file_is_clean() -> None:
    crypto = _daily_crypto("2023-11-20", "2023-11-28")
    equity = _bars({"2023-11-22": 52.0, "2023-11-24": 53.0})
    table = align(crypto, equity)  # warnings are errors: none expected here
    assert list(table.index) == _days("2023-11-22", "2023-11-24")
    assert table["crypto_close"].tolist() == [1002.0, 1004.0]


def test_saturday_rows_in_the_equity_file_hint_at_a_crypto_file() -> None:
    crypto = _daily_crypto("2024-01-01", "2024-01-14")
    # Every calendar day, as a crypto export would have: Jan 1 (holiday) + 4 weekend days.
    equity = _daily_crypto("2024-01-01", "2024-01-14", start=10.0)
    equity.attrs["source"] = "eth_by_mistake.csv"
    with pytest.warns(DataWarning) as record:
        table = align(crypto, equity)
    assert len(record) == 1
    message = str(record[0].message)
    assert "eth_by_mistake.csv" in message
    assert "is this a crypto file?" in message
    assert "not XNYS sessions" in message
    assert "5 rows" in message
    assert "4 on weekends" in message
    expected = list(pd.bdate_range("2024-01-02", "2024-01-12"))
    assert list(table.index) == expected


def test_equity_close_is_never_forward_filled() -> None:
    crypto = _daily_crypto("2024-01-01", "2024-01-12")  # 01-01 = 1000 ... 01-12 = 1011
    # Thursday 2024-01-04 is a session, but the equity file has no row for it.
    equity = _bars({"2024-01-02": 10.0, "2024-01-03": 11.0, "2024-01-05": 13.0})
    table = align(crypto, equity)
    assert list(table.index) == _days("2024-01-02", "2024-01-03", "2024-01-05")
    assert table["equity_close"].tolist() == [10.0, 11.0, 13.0]
    assert table["crypto_close"].tolist() == [1001.0, 1002.0, 1004.0]
    assert not table.isna().any().any()


def test_equity_nan_close_gives_no_row() -> None:
    crypto = _daily_crypto("2024-01-01", "2024-01-12")
    equity = _bars({"2024-01-02": 10.0, "2024-01-03": np.nan, "2024-01-04": 12.0})
    table = align(crypto, equity)
    assert list(table.index) == _days("2024-01-02", "2024-01-04")
    assert table["equity_close"].tolist() == [10.0, 12.0]


def test_rows_only_where_both_series_exist() -> None:
    crypto = _daily_crypto("2024-01-03", "2024-01-09")  # 01-03 = 1000 ... 01-09 = 1006
    equity = _bars(
        {d.strftime("%Y-%m-%d"): 1.0 for d in pd.bdate_range("2024-01-02", "2024-01-12")}
    )
    table = align(crypto, equity)
    assert list(table.index) == _days(
        "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"
    )
    assert table["crypto_close"].tolist() == [1000.0, 1001.0, 1002.0, 1005.0, 1006.0]


def test_non_overlapping_series() -> None:
    crypto = _daily_crypto("2024-01-01", "2024-01-14")
    equity = _bars({"2024-02-05": 1.0, "2024-02-06": 2.0})
    with pytest.raises(DataError, match="do not overlap"):
        align(crypto, equity)


def test_a_single_shared_session_is_not_enough() -> None:
    crypto = _daily_crypto("2024-01-05", "2024-01-08")
    equity = _bars({"2024-01-04": 1.0, "2024-01-05": 2.0})
    with pytest.raises(DataError, match="fewer than two"):
        align(crypto, equity)


def test_empty_series() -> None:
    crypto = _daily_crypto("2024-01-01", "2024-01-14")
    with pytest.raises(DataError):
        align(crypto, crypto.iloc[:0])


def test_unknown_calendar_name() -> None:
    crypto = _daily_crypto("2024-01-01", "2024-01-14")
    equity = _bars({"2024-01-02": 1.0, "2024-01-03": 2.0})
    with pytest.raises(ConfigError, match="NOPE"):
        align(crypto, equity, calendar="NOPE")
    with pytest.raises(ConfigError):
        sessions(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-31"), "NOPE")


def test_unknown_mode() -> None:
    crypto = _daily_crypto("2024-01-01", "2024-01-14")
    equity = _bars({"2024-01-02": 1.0, "2024-01-03": 2.0})
    with pytest.raises(ConfigError, match="mode"):
        align(crypto, equity, mode="weekly")  # type: ignore[arg-type]


def test_align_does_not_mutate_its_inputs() -> None:
    crypto = _daily_crypto("2023-11-20", "2023-11-28")
    equity = _bars({"2023-11-22": 52.0, "2023-11-24": 53.0, "2023-11-27": 54.0})
    crypto_before, equity_before = crypto.copy(deep=True), equity.copy(deep=True)
    align(crypto, equity)
    pd.testing.assert_frame_equal(crypto, crypto_before)
    pd.testing.assert_frame_equal(equity, equity_before)


# --- sessions and session closes -------------------------------------------------------------


def test_sessions_skip_weekends_and_holidays() -> None:
    found = sessions(pd.Timestamp("2023-11-20"), pd.Timestamp("2023-11-28"))
    assert list(found) == _days(
        "2023-11-20", "2023-11-21", "2023-11-22", "2023-11-24", "2023-11-27", "2023-11-28"
    )
    assert found.name == "date"
    assert found.tz is None


def test_sessions_with_holiday_and_weekend_bounds() -> None:
    # From Good Friday (not a session itself) to a Sunday.
    found = sessions(pd.Timestamp("2024-03-29"), pd.Timestamp("2024-04-07"))
    assert list(found) == _days(
        "2024-04-01", "2024-04-02", "2024-04-03", "2024-04-04", "2024-04-05"
    )
    # New Year's Day 2024 to the first Saturday.
    found = sessions(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-06"))
    assert list(found) == _days("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05")


def test_sessions_of_a_single_day() -> None:
    day = pd.Timestamp("2024-01-05")
    assert list(sessions(day, day)) == [day]


@pytest.mark.parametrize(
    ("first", "last"),
    [("2024-01-06", "2024-01-07"), ("2024-03-29", "2024-03-31"), ("2024-01-06", "2024-01-06")],
    ids=["weekend", "good-friday-weekend", "saturday"],
)
def test_sessions_of_a_span_without_sessions_is_empty(first: str, last: str) -> None:
    found = sessions(pd.Timestamp(first), pd.Timestamp(last))
    assert isinstance(found, pd.DatetimeIndex)
    assert len(found) == 0


def test_overlap_on_a_weekend_only_is_a_data_error() -> None:
    crypto = _daily_crypto("2024-01-06", "2024-01-07")
    equity = _bars({"2024-01-04": 1.0, "2024-01-05": 2.0, "2024-01-08": 3.0})
    with pytest.raises(DataError):
        align(crypto, equity)


def test_sessions_of_another_exchange() -> None:
    # London: Christmas (Wed) and Boxing Day (Thu) 2024 closed.
    found = sessions(pd.Timestamp("2024-12-23"), pd.Timestamp("2024-12-27"), "XLON")
    assert list(found) == _days("2024-12-23", "2024-12-24", "2024-12-27")


@pytest.mark.parametrize(
    ("session", "close_utc"),
    [
        ("2024-03-08", "2024-03-08 21:00"),  # EST: 16:00 + 5h
        ("2024-03-11", "2024-03-11 20:00"),  # EDT: 16:00 + 4h
        ("2023-11-22", "2023-11-22 21:00"),
        ("2023-11-24", "2023-11-24 18:00"),  # early close 13:00 EST
        ("2024-07-03", "2024-07-03 17:00"),  # early close 13:00 EDT
    ],
)
def test_session_closes(session: str, close_utc: str) -> None:
    day = pd.Timestamp(session)
    around = sessions(day - pd.Timedelta(days=4), day + pd.Timedelta(days=4))
    closes = session_closes(around)
    assert list(closes.index) == list(around)
    assert closes[day] == pd.Timestamp(close_utc)


def test_session_closes_of_a_single_session() -> None:
    closes = session_closes(pd.DatetimeIndex([pd.Timestamp("2023-11-24")]))
    assert list(closes) == [pd.Timestamp("2023-11-24 18:00")]


def test_session_closes_across_dst() -> None:
    index = pd.DatetimeIndex(_days("2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12"))
    closes = session_closes(index)
    assert list(closes) == _days(
        "2024-03-07 21:00", "2024-03-08 21:00", "2024-03-11 20:00", "2024-03-12 20:00"
    )
    assert list(closes.index) == list(index)


# --- synchronous mode ------------------------------------------------------------------------


def test_synchronous_samples_the_bar_ending_at_the_close_across_dst() -> None:
    hourly = _hourly_crypto("2024-03-06 00:00", "2024-03-13 23:00")
    daily = _daily_crypto("2024-03-06", "2024-03-13")
    equity = _bars({"2024-03-07": 30.0, "2024-03-08": 31.0, "2024-03-11": 32.0, "2024-03-12": 33.0})
    table = align(daily, equity, mode="synchronous", crypto_intraday=hourly)
    assert table.attrs["mode"] == "synchronous"
    assert list(table.index) == _days("2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12")
    # Before DST the close is 21:00 UTC: the bar opening 20:00. After: 20:00 UTC, bar 19:00.
    assert table["crypto_close"].tolist() == [
        _code(7, 20),
        _code(8, 20),
        _code(11, 19),
        _code(12, 19),
    ]
    assert table.loc["2024-03-08", "crypto_close"] == 1212.0
    assert table.loc["2024-03-11", "crypto_close"] == 1283.0
    assert table["equity_close"].tolist() == [30.0, 31.0, 32.0, 33.0]


def test_synchronous_early_close_after_thanksgiving() -> None:
    hourly = _hourly_crypto("2023-11-21 00:00", "2023-11-28 23:00")
    daily = _daily_crypto("2023-11-21", "2023-11-28")
    equity = _bars({"2023-11-22": 52.0, "2023-11-24": 53.0, "2023-11-27": 54.0})
    table = align(daily, equity, mode="synchronous", crypto_intraday=hourly)
    assert list(table.index) == _days("2023-11-22", "2023-11-24", "2023-11-27")
    # 21:00 UTC closes sample the bar opening 20:00; the 18:00 UTC early close the one at 17:00.
    assert table["crypto_close"].tolist() == [_code(22, 20), _code(24, 17), _code(27, 20)]
    assert table.loc["2023-11-24", "crypto_close"] == 1593.0


def test_synchronous_falls_back_to_the_previous_finished_bar() -> None:
    hourly = _hourly_crypto("2024-01-02 00:00", "2024-01-05 23:00")
    # The bar opening 20:00 UTC on Wednesday 01-03 is missing: the last bar that ended at or
    # before the 21:00 close is the one opening 19:00.
    hourly = hourly.drop(pd.Timestamp("2024-01-03 20:00"))
    daily = _daily_crypto("2024-01-02", "2024-01-05")
    equity = _bars({"2024-01-02": 1.0, "2024-01-03": 2.0, "2024-01-04": 3.0})
    table = align(daily, equity, mode="synchronous", crypto_intraday=hourly)
    assert table["crypto_close"].tolist() == [_code(2, 20), _code(3, 19), _code(4, 20)]


def test_synchronous_tolerates_a_short_gap_before_the_close() -> None:
    # Hourly bars stop at the bar opening 19:00 UTC on Friday 01-05 (ending 20:00, an hour
    # before the 21:00 close): that is the last bar that ended at or before the close.
    hourly = _hourly_crypto("2024-01-04 00:00", "2024-01-05 19:00")
    daily = _daily_crypto("2024-01-04", "2024-01-05")
    equity = _bars({"2024-01-04": 1.0, "2024-01-05": 2.0})
    table = align(daily, equity, mode="synchronous", crypto_intraday=hourly)
    assert table["crypto_close"].tolist() == [_code(4, 20), _code(5, 19)]


def test_synchronous_drops_a_session_with_no_recent_bar() -> None:
    # The last bar opens 17:00 UTC on 01-05 and ends 18:00, three hours before the close:
    # too stale to stand for the close, so that session has no row.
    hourly = _hourly_crypto("2024-01-03 00:00", "2024-01-05 17:00")
    daily = _daily_crypto("2024-01-03", "2024-01-05")
    equity = _bars({"2024-01-03": 1.0, "2024-01-04": 2.0, "2024-01-05": 3.0})
    table = align(daily, equity, mode="synchronous", crypto_intraday=hourly)
    assert list(table.index) == _days("2024-01-03", "2024-01-04")
    assert table["crypto_close"].tolist() == [_code(3, 20), _code(4, 20)]


def test_synchronous_without_intraday_bars() -> None:
    daily = _daily_crypto("2024-01-01", "2024-01-14")
    equity = _bars({"2024-01-02": 1.0, "2024-01-03": 2.0})
    with pytest.raises(DataError, match="hourly"):
        align(daily, equity, mode="synchronous")
    with pytest.raises(DataError, match="hourly"):
        align(daily, equity, mode="synchronous", crypto_intraday=daily.iloc[:0])


def test_daily_and_synchronous_differ_only_in_the_crypto_close() -> None:
    hourly = _hourly_crypto("2024-03-06 00:00", "2024-03-13 23:00")
    daily = _daily_crypto("2024-03-06", "2024-03-13")  # 03-06 = 1000 ... 03-13 = 1007
    equity = _bars({"2024-03-07": 30.0, "2024-03-08": 31.0, "2024-03-11": 32.0})
    by_day = align(daily, equity)
    synced = align(daily, equity, mode="synchronous", crypto_intraday=hourly)
    assert by_day.attrs["mode"] == "daily"
    assert synced.attrs["mode"] == "synchronous"
    pd.testing.assert_index_equal(by_day.index, synced.index)
    pd.testing.assert_series_equal(by_day["equity_close"], synced["equity_close"])
    assert by_day["crypto_close"].tolist() == [1001.0, 1002.0, 1005.0]


# --- the schedule cache ----------------------------------------------------------------


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder and no schedules in memory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(calendar_module, "_schedules", {})
    return tmp_path


@pytest.mark.parametrize("name", ["XNYS", "XLON", "XTKS"])
def test_cached_schedule_equals_exchange_calendars(fresh_cache: Path, name: str) -> None:
    import exchange_calendars as xcals

    first, last = pd.Timestamp("2015-01-01"), pd.Timestamp("2024-12-31")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # exchange_calendars vs pandas
        reference = xcals.get_calendar(name, start="2014-12-01", end="2025-01-31")
    expected = reference.sessions[(reference.sessions >= first) & (reference.sessions <= last)]
    for _ in range(2):  # built, then read back from disk
        calendar_module._schedules.clear()
        got = sessions(first, last, name)
        assert got.equals(pd.DatetimeIndex(expected, name="date"))
        closes = session_closes(got, name)
        want = reference.closes.reindex(expected).dt.tz_convert("UTC").dt.tz_localize(None)
        assert (closes.to_numpy() == want.to_numpy()).all()
    assert list((fresh_cache / "comove" / "calendars").glob(f"{name}-*.npz"))


def test_a_new_process_reads_the_cache_without_exchange_calendars(fresh_cache: Path) -> None:
    sessions(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"))
    code = (
        "import sys, pandas as pd\n"
        "from comove.data.calendar import sessions\n"
        "found = sessions(pd.Timestamp('2020-01-01'), pd.Timestamp('2020-12-31'))\n"
        "assert len(found) == 253, len(found)\n"
        "assert 'exchange_calendars' not in sys.modules\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(fresh_cache)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_a_span_outside_the_cache_widens_it(fresh_cache: Path) -> None:
    sessions(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"))
    early = sessions(pd.Timestamp("1985-01-02"), pd.Timestamp("1985-01-31"))
    assert len(early) == 22  # every weekday from Wednesday 2 January (no holiday)
    calendar_module._schedules.clear()
    schedule = calendar_module._schedule(
        "XNYS", pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02")
    )
    assert schedule.covers(pd.Timestamp("1985-01-02"), pd.Timestamp("2021-01-01"))


def test_a_corrupt_or_unwritable_cache_is_rebuilt(fresh_cache: Path) -> None:
    sessions(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"))
    (cached,) = (fresh_cache / "comove" / "calendars").glob("XNYS-*.npz")
    cached.write_bytes(b"not a cache")
    calendar_module._schedules.clear()
    assert len(sessions(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31"))) == 253
    cached.unlink()
    cached.parent.chmod(0o500)
    try:
        calendar_module._schedules.clear()
        assert len(sessions(pd.Timestamp("2021-01-01"), pd.Timestamp("2021-12-31"))) == 252
    finally:
        cached.parent.chmod(0o700)


def test_the_cache_key_is_the_installed_exchange_calendars_version() -> None:
    from importlib.metadata import version

    assert calendar_module._calendars_version() == version("exchange_calendars")
