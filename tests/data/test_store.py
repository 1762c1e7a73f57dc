"""The DuckDB store: round trips, upserts, revisions, validation, migrations, atomicity, locks."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from comove.data.store import SCHEMA_VERSION, Store, WriteReport
from comove.errors import DataError, StoreError
from tests.conftest import make_bars

SRC = str(Path(__file__).resolve().parents[2] / "src")


def ns_bars(index: pd.DatetimeIndex, returns: np.ndarray, **options: object) -> pd.DataFrame:
    """Seeded bars on a nanosecond index, as the bars contract has it."""
    return make_bars(pd.DatetimeIndex(index).as_unit("ns"), returns, **options)  # type: ignore[arg-type]


def daily_crypto(days: int = 200, start: str = "2023-01-01", seed: int = 1) -> pd.DataFrame:
    index = pd.date_range(start, periods=days, freq="D")
    returns = np.random.default_rng(seed).normal(0, 0.03, days)
    return ns_bars(index, returns, seed=seed, name="ETH-USD")


def daily_equity(days: int = 150, seed: int = 2) -> pd.DataFrame:
    index = pd.bdate_range("2023-01-02", periods=days)
    returns = np.random.default_rng(seed).normal(0, 0.01, days)
    return ns_bars(index, returns, start=1800.0, seed=seed, name="RUT")


def stored_rows(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM bars").fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


# -- round trips ------------------------------------------------------------------------


def test_round_trip_keeps_values_and_sets_attrs(tmp_path: Path) -> None:
    bars = daily_crypto()
    bars.loc[bars.index[3], "volume"] = np.nan  # optional fields may be missing
    with Store(tmp_path / "s.duckdb") as store:
        report = store.write_bars("exchange:coinbase", "ETH/USD", "1d", bars)
        assert report == WriteReport(inserted=200, updated=0, unchanged=0)
        store.record_fetch("exchange:coinbase", "ETH/USD", "1d", ok=True)
        back = store.read_bars("ETH/USD")
    pd.testing.assert_frame_equal(back, bars, check_freq=False)
    assert back.index.name == "date"
    assert back.index.dtype == "datetime64[ns]"
    assert all(back[c].dtype == "float64" for c in back.columns)
    assert back.attrs["name"] == "ETH/USD"
    assert back.attrs["source"] == "store:ETH/USD"
    assert back.attrs["origin"] == "exchange:coinbase"
    assert back.attrs["interval"] == "1d"
    assert back.attrs["is_24_7"] is True
    assert back.attrs["dropped_incomplete"] is None
    assert back.attrs["last_fetch"]["ok"] is True


def test_equity_and_hourly_round_trip(tmp_path: Path) -> None:
    equity = daily_equity()
    hourly = ns_bars(
        pd.date_range("2024-03-01", periods=500, freq="h"),
        np.random.default_rng(5).normal(0, 0.004, 500),
    )
    with Store(tmp_path / "s.duckdb") as store:
        store.write_bars("yahoo", "^RUT", "1d", equity)
        store.write_bars("exchange:kraken", "ETH/USD", "1h", hourly)
        rut = store.read_bars("^RUT")
        eth = store.read_bars("ETH/USD", interval="1h")
        window = store.read_bars("^RUT", start="2023-02-01", end="2023-02-28")
    pd.testing.assert_frame_equal(rut, equity, check_freq=False)
    pd.testing.assert_frame_equal(eth, hourly, check_freq=False)
    assert rut.attrs["is_24_7"] is False
    assert eth.attrs["interval"] == "1h"
    assert window.index[0] == pd.Timestamp("2023-02-01")
    assert window.index[-1] == pd.Timestamp("2023-02-28")
    pd.testing.assert_frame_equal(window, equity.loc["2023-02-01":"2023-02-28"], check_freq=False)


def test_tz_aware_index_is_stored_as_utc(tmp_path: Path) -> None:
    bars = daily_crypto(10)
    aware = bars.copy()
    aware.index = pd.DatetimeIndex(aware.index).tz_localize("UTC").tz_convert("America/New_York")
    with Store(tmp_path / "s.duckdb") as store:
        store.write_bars("csv", "X", "1d", aware)
        back = store.read_bars("X")
    assert back.index.equals(bars.index)


def test_rewrite_is_idempotent_and_leaves_rows_alone(tmp_path: Path) -> None:
    longer = daily_crypto(210)
    bars = longer.iloc[:200]
    first = pd.Timestamp("2024-01-01")
    with Store(tmp_path / "s.duckdb") as store:
        store.write_bars("yahoo", "ETH-USD", "1d", bars, fetched_at=first)
        again = store.write_bars("yahoo", "ETH-USD", "1d", bars)
        more = store.write_bars("yahoo", "ETH-USD", "1d", longer)
        fetched = store.con.execute("SELECT min(fetched_at) FROM bars").fetchone()
    assert again == WriteReport(inserted=0, updated=0, unchanged=200)
    assert (more.inserted, more.updated, more.unchanged) == (10, 0, 200)
    assert fetched is not None
    assert pd.Timestamp(fetched[0]) == first


def test_revision_of_a_finished_bar_is_kept_logged_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bars = daily_crypto(30)
    revised = bars.copy()
    day = bars.index[10]
    revised.loc[day, "close"] = bars.loc[day, "close"] * 1.02
    revised.loc[day, "high"] = max(revised.loc[day, "high"], revised.loc[day, "close"])
    tiny = revised.copy()
    tiny.loc[bars.index[11], "close"] *= 1 + 1e-12  # below tolerance: not a change
    with Store(tmp_path / "s.duckdb") as store:
        store.write_bars("yahoo", "ETH-USD", "1d", bars)
        with caplog.at_level(logging.WARNING, logger="comove.store"):
            report = store.write_bars("yahoo", "ETH-USD", "1d", tiny)
        back = store.read_bars("ETH-USD")
    assert report.updated == 1
    assert report.unchanged == 29
    assert report.revisions == [
        (day, pytest.approx(bars.loc[day, "close"]), pytest.approx(revised.loc[day, "close"]))
    ]
    assert back.loc[day, "close"] == revised.loc[day, "close"]
    messages = [r.getMessage() for r in caplog.records if r.name == "comove.store"]
    assert len(messages) == 1
    assert "ETH-USD" in messages[0]
    assert "revised" in messages[0]
    assert str(day) in messages[0]


def test_a_live_bar_updating_is_not_a_revision(tmp_path: Path) -> None:
    bars = daily_crypto(5, start="2024-05-01")
    last = bars.index[-1]
    live_fetch = last + pd.Timedelta(hours=6)  # the day was still trading when stored
    later = bars.copy()
    later.loc[last, ["close", "high"]] = later.loc[last, "high"] * 1.05
    with Store(tmp_path / "s.duckdb") as store:
        store.write_bars("yahoo", "ETH-USD", "1d", bars, fetched_at=live_fetch)
        report = store.write_bars("yahoo", "ETH-USD", "1d", later)
    assert report.updated == 1
    assert report.revisions == []


def test_gaps_of_a_24_7_series_are_reported(tmp_path: Path) -> None:
    bars = daily_crypto(60)
    holey = bars.drop(index=[bars.index[20], bars.index[21], bars.index[40]])
    with Store(tmp_path / "s.duckdb") as store:
        report = store.write_bars("csv", "ETH", "1d", holey)
        assert report.gaps == [bars.index[20], bars.index[21], bars.index[40]]
        filled = store.write_bars("csv", "ETH", "1d", bars.iloc[19:23])
        assert filled.gaps == [bars.index[40]]
        assert store.write_bars("csv", "RUT", "1d", daily_equity()).gaps == []


# -- validation -------------------------------------------------------------------------


def _broken(kind: str) -> tuple[pd.DataFrame, str]:
    bars = daily_crypto(20)
    when = bars.index[7]
    if kind == "duplicate":
        bars = pd.concat([bars.iloc[:8], bars.iloc[7:]])
        return bars, "'date' is duplicated"
    if kind == "order":
        bars = bars.iloc[[*range(7), 8, 7, *range(9, 20)]]
        return bars, "'date' is out of order"
    if kind == "future":
        bars.index = (
            bars.index + (pd.Timestamp.now().normalize() - bars.index[-1]) + pd.Timedelta(days=5)
        )
        return bars, "in the future"
    if kind == "nonpositive":
        bars.loc[when, "low"] = 0.0
        return bars, "'low' must be positive"
    if kind == "inverted":
        bars.loc[when, "high"] = bars.loc[when, "low"] * 0.9
        return bars, "'high'"
    if kind == "missing":
        bars.loc[when, "close"] = np.nan
        return bars, "'close' is missing"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["duplicate", "order", "future", "nonpositive", "inverted", "missing"]
)
def test_bad_bars_raise_dataerror_and_write_nothing(tmp_path: Path, kind: str) -> None:
    good = daily_crypto(5, start="2020-01-01")
    bad, fragment = _broken(kind)
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.write_bars("yahoo", "ETH-USD", "1d", good)
        with pytest.raises(DataError) as info:
            store.write_bars("exchange:kraken", "ETH/USD", "1d", bad)
        assert store.symbols() == [("yahoo", "ETH-USD", "1d")]
    message = str(info.value)
    assert "exchange:kraken ETH/USD" in message
    assert fragment in message
    if kind not in ("future",):
        assert "2023-01-" in message  # names the bar
    assert stored_rows(path) == 5


def test_unknown_symbol_lists_stored_symbols_closest_first(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        with pytest.raises(DataError, match="holds no bars yet"):
            store.read_bars("ETH-USD")
        for symbol in ("^RUT", "IWM", "ETH-USD", "BTC-USD"):
            store.write_bars("yahoo", symbol, "1d", daily_crypto(5))
        with pytest.raises(DataError) as info:
            store.read_bars("ETH-USDT")
        with pytest.raises(DataError, match="holds 'IWM' as yahoo/1d"):
            store.read_bars("IWM", interval="1h")
        with pytest.raises(DataError, match="from kraken"):
            store.read_bars("IWM", source="kraken")
    message = str(info.value)
    assert "\n" not in message
    assert message.index("ETH-USD") < message.index("^RUT")
    assert "IWM" in message


def test_read_without_source_picks_the_latest_ending_one(tmp_path: Path) -> None:
    older = daily_crypto(50)
    newer = daily_crypto(60, seed=9)
    with Store(tmp_path / "s.duckdb") as store:
        store.write_bars("exchange:kraken", "ETH/USD", "1d", newer)
        store.write_bars("exchange:coinbase", "ETH/USD", "1d", older)
        assert store.read_bars("ETH/USD").attrs["origin"] == "exchange:kraken"
        chosen = store.read_bars("ETH/USD", source="exchange:coinbase")
        assert chosen.attrs["origin"] == "exchange:coinbase"
        assert len(chosen) == 50
        assert store.last_bar_time("exchange:kraken", "ETH/USD") == newer.index[-1]
        assert store.last_bar_time("exchange:kraken", "BTC/USD") is None


# -- series, fetches, overview --------------------------------------------------------


def test_series_round_trip_with_units_and_revisions(tmp_path: Path) -> None:
    dates = pd.date_range("2024-01-03", periods=8, freq="7D").as_unit("ns")
    values = pd.Series(np.arange(8, dtype=float) * 1000 + 7_000_000, index=dates)
    with_missing = values.copy()
    with_missing.iloc[2] = np.nan  # FRED's "." for a missing observation
    with Store(tmp_path / "s.duckdb") as store:
        first = store.write_series("WALCL", with_missing, units="Millions of U.S. Dollars")
        assert (first.inserted, first.updated) == (7, 0)
        revised = values.copy()
        revised.iloc[5] += 1.0
        second = store.write_series("WALCL", revised, units="Millions of U.S. Dollars")
        back = store.read_series("WALCL")
        part = store.read_series("WALCL", start="2024-01-20", end="2024-02-10")
        with pytest.raises(DataError, match="WALCI"):
            store.read_series("WALCI")
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 6)
    assert second.revisions == [(dates[5], values.iloc[5], revised.iloc[5])]
    pd.testing.assert_series_equal(
        back, revised.rename("WALCL").rename_axis("date"), check_freq=False
    )
    assert back.attrs == {
        "series_id": "WALCL",
        "units": "Millions of U.S. Dollars",
        "source": "fred",
    }
    assert list(part.index) == list(dates[3:6])


def test_record_fetch_keeps_the_last_success(tmp_path: Path) -> None:
    ok_at = pd.Timestamp("2024-05-01 10:00")
    fail_at = pd.Timestamp("2024-05-02 10:00")
    with Store(tmp_path / "s.duckdb") as store:
        assert store.last_fetch("yahoo", "^RUT") is None
        store.record_fetch("yahoo", "^RUT", "1d", ok=True, at=ok_at)
        store.record_fetch("yahoo", "^RUT", "1d", ok=False, message="timed out", at=fail_at)
        last = store.last_fetch("yahoo", "^RUT")
    assert last == {"at": fail_at, "ok": False, "message": "timed out", "last_ok_at": ok_at}


def test_info_and_symbols(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        store.write_bars("yahoo", "^RUT", "1d", daily_equity())
        store.write_bars("exchange:coinbase", "ETH/USD", "1d", daily_crypto())
        store.write_series("DGS2", pd.Series([4.1, 4.2], index=pd.to_datetime(["2024-01-02", "2024-01-03"])), units="Percent")  # fmt: skip
        store.record_fetch("yahoo", "^RUT", "1d", ok=False, message="offline")
        info = store.info()
        symbols = store.symbols()
    assert symbols == [("exchange:coinbase", "ETH/USD", "1d"), ("yahoo", "^RUT", "1d")]
    assert list(info.columns) == [
        "kind", "source", "symbol", "interval", "first", "last", "rows",
        "last_fetch", "last_fetch_ok", "staleness",
    ]  # fmt: skip
    rows = {(r.kind, r.symbol): r for r in info.itertuples()}
    rut = rows[("bars", "^RUT")]
    assert rut.rows == 150
    assert rut.last_fetch_ok is False
    assert rut.first == daily_equity().index[0]
    assert rows[("bars", "ETH/USD")].last_fetch_ok is None
    assert rows[("series", "DGS2")].rows == 2
    assert isinstance(rut.staleness, pd.Timedelta)
    assert rut.staleness > pd.Timedelta(days=300)


def test_read_only_store_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "nothing" / "s.duckdb"
    with Store(path, read_only=True) as store:
        assert store.symbols() == []
        assert store.info().empty
        with pytest.raises(StoreError, match="read-only"):
            store.write_bars("csv", "X", "1d", daily_crypto(3))
    assert not path.exists()


def test_default_path_follows_comove_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMOVE_HOME", str(tmp_path / "home"))
    with Store() as store:
        assert store.path == tmp_path / "home" / "comove.duckdb"
    assert store.path.exists()


# -- schema and failures -------------------------------------------------------------


def test_migrates_a_hand_made_version_1_file(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER)")
    con.execute("INSERT INTO schema_version VALUES (1)")
    con.execute(
        "CREATE TABLE bars (source VARCHAR NOT NULL, symbol VARCHAR NOT NULL, "
        "interval VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, open DOUBLE, high DOUBLE, low DOUBLE, "
        "close DOUBLE NOT NULL, volume DOUBLE, fetched_at TIMESTAMP NOT NULL, "
        "PRIMARY KEY (source, symbol, interval, ts))"
    )
    con.execute(
        "CREATE TABLE series (series_id VARCHAR NOT NULL, date DATE NOT NULL, value DOUBLE NOT NULL, "
        "units VARCHAR NOT NULL, source VARCHAR NOT NULL, fetched_at TIMESTAMP NOT NULL, "
        "PRIMARY KEY (series_id, date))"
    )
    con.execute(
        "CREATE TABLE fetches (source VARCHAR NOT NULL, symbol VARCHAR NOT NULL, "
        "interval VARCHAR NOT NULL, attempted_at TIMESTAMP NOT NULL, ok BOOLEAN NOT NULL, "
        "message VARCHAR NOT NULL, last_ok_at TIMESTAMP, PRIMARY KEY (source, symbol, interval))"
    )
    con.execute(
        "INSERT INTO bars VALUES "
        "('yahoo', 'ETH-USD', '1d', '2024-01-06', 1, 2, 0.5, 1.5, 10, '2024-02-01'),"
        "('yahoo', 'ETH-USD', '1d', '2024-01-07', 1.5, 2, 1, 1.8, 11, '2024-02-01'),"
        "('yahoo', 'ETH-USD', '1d', '2024-01-08', 1.8, 2, 1, 1.9, 12, '2024-02-01')"
    )
    con.close()
    with Store(path, read_only=True) as store:  # a reader upgrades it too
        bars = store.read_bars("ETH-USD")
        version = store.con.execute("SELECT version FROM schema_version").fetchall()
        info = store.info()
    assert version == [(SCHEMA_VERSION,)]
    assert list(bars["close"]) == [1.5, 1.8, 1.9]
    assert bars.attrs["is_24_7"] is True  # two of three days are a weekend
    assert info["rows"].tolist() == [3]
    with Store(path) as store:
        report = store.write_bars("yahoo", "ETH-USD", "1d", store.read_bars("ETH-USD"))
    assert report.unchanged == 3


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_version SET version = 99")
    con.close()
    with pytest.raises(StoreError, match="schema version 99"):
        Store(path)


@pytest.mark.parametrize("content", [b"this is not a database" * 200, None])
def test_foreign_files_are_refused_in_one_line(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "s.duckdb"
    if content is None:
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE something (x INTEGER)")
        con.close()
    else:
        path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        Store(path)
    assert "is not a comove store" in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_sqlite_file_is_refused_before_duckdb_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB would try to install and load its sqlite extension for such a file."""
    import sqlite3

    path = tmp_path / "crafted.duckdb"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE bars (x INTEGER)")
    connects: list[object] = []
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: connects.append(a))
    for read_only in (True, False):
        with pytest.raises(StoreError, match="it is a SQLite database"):
            Store(path, read_only=read_only)
    assert connects == []


def test_every_connection_refuses_extensions(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        settings = dict(
            store._con.execute(  # type: ignore[union-attr]
                "SELECT name, value FROM duckdb_settings() WHERE name LIKE 'auto%_known_extensions'"
            ).fetchall()
        )
    assert settings == {
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }


def test_a_write_failing_half_way_leaves_the_old_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.duckdb"
    old = daily_crypto(30)
    new = daily_crypto(60, seed=7)

    def explode(self: Store) -> None:
        raise RuntimeError("disk on fire")

    with Store(path) as store:
        store.write_bars("yahoo", "ETH-USD", "1d", old)
        monkeypatch.setattr(Store, "_after_insert", explode)
        with pytest.raises(StoreError, match="disk on fire"):
            store.write_bars("yahoo", "ETH-USD", "1d", new)
        with pytest.raises(StoreError, match="disk on fire"):
            store.write_series(
                "X", pd.Series([1.0], index=pd.to_datetime(["2024-01-01"])), units="u"
            )
        monkeypatch.undo()
        pd.testing.assert_frame_equal(store.read_bars("ETH-USD"), old, check_freq=False)
        assert store.info()["rows"].tolist() == [30]
        # And the store still takes writes afterwards.
        assert store.write_bars("yahoo", "ETH-USD", "1d", new).updated == 30


def _python(code: str) -> list[str]:
    env_path = os.pathsep.join([SRC, str(Path(SRC).parent)])
    return [sys.executable, "-c", f"import sys; sys.path[:0] = {env_path.split(os.pathsep)!r}\n{textwrap.dedent(code)}"]  # fmt: skip


CRASH_CHILD = """
import numpy as np, pandas as pd, sys
from comove.data.store import Store
n = 2_000_000
index = pd.date_range("2000-01-01", periods=n, freq="min")
close = np.linspace(100.0, 200.0, n)
bars = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99,
                     "close": close, "volume": 1.0}, index=index)
store = Store(sys.argv[1])
print("writing", flush=True)
store.write_bars("csv", "BIG", "1m", bars)
store.close()
print("done", flush=True)
"""


def test_sigkill_mid_write_leaves_old_or_complete_new_data(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    old_index = pd.date_range("2000-01-01", periods=1000, freq="min")
    old = ns_bars(old_index, np.random.default_rng(3).normal(0, 0.01, 1000), start=500.0)
    with Store(path) as store:
        store.write_bars("csv", "BIG", "1m", old)
    child = subprocess.Popen(
        [*_python(CRASH_CHILD), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "writing"
    time.sleep(1.0)  # the write takes several seconds: kill it in the middle
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with Store(path, read_only=True) as store:
        back = store.read_bars("BIG", interval="1m")
    is_old = len(back) == 1000 and np.array_equal(back["close"].to_numpy(), old["close"].to_numpy())
    is_new = len(back) == 2_000_000 and back["close"].iloc[0] == 100.0
    assert is_old != is_new  # exactly one of the two


HOLD_LOCK = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def test_a_held_lock_makes_a_second_writer_fail_fast_with_busy(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).close()
    holder = subprocess.Popen([*_python(HOLD_LOCK), str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            Store(path, lock_timeout=1)
        assert time.monotonic() - started < 5
        with pytest.raises(StoreError, match="busy"):
            Store(path, read_only=True, lock_timeout=0.2)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert str(info.value) == (
        f"store {path} is busy: another comove process is writing it (waited 1 s)"
    )
    with Store(path, lock_timeout=5) as store:  # free again once the holder is gone
        assert store.symbols() == []


WRITER = """
import numpy as np, pandas as pd, sys
from comove.data.store import Store
symbol = sys.argv[2]
index = pd.date_range("2015-01-01", periods=3000, freq="D")
close = np.linspace(10.0, 20.0, 3000) * (2.0 if symbol == "B" else 1.0)
bars = pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                     "volume": 1.0}, index=index)
for start in range(0, 3000, 300):
    with Store(sys.argv[1], lock_timeout=60) as store:
        store.write_bars("csv", symbol, "1d", bars.iloc[start:start + 300])
print("ok", flush=True)
"""


def test_two_concurrent_writers_both_succeed(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    children = [
        subprocess.Popen([*_python(WRITER), str(path), symbol], stdout=subprocess.PIPE, text=True)
        for symbol in ("A", "B")
    ]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert all(out.strip() == "ok" for out in outputs)
    with Store(path, read_only=True) as store:
        assert store.symbols() == [("csv", "A", "1d"), ("csv", "B", "1d")]
        assert len(store.read_bars("A")) == 3000
        assert store.read_bars("B")["close"].iloc[-1] == 40.0


FULL_DISK_CHILD = """
import resource, signal, sys
import numpy as np, pandas as pd
from comove.data.store import Store
from comove.errors import StoreError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk
n = 300_000
bars = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": np.linspace(1, 2, n),
                     "volume": 1.0}, index=pd.date_range("2000-01-01", periods=n, freq="min"))
with Store(sys.argv[1]) as store:
    store.write_bars("csv", "SMALL", "1m", bars.iloc[:10])
resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
try:
    with Store(sys.argv[1]) as store:
        store.write_bars("csv", "BIG", "1m", bars)
except StoreError as exc:
    print(exc)
"""


def test_a_full_disk_is_named_and_the_stored_data_survives(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    run = subprocess.run(
        [*_python(FULL_DISK_CHILD), str(path)], capture_output=True, text=True, timeout=120
    )
    message = run.stdout.strip()
    assert "Traceback" not in run.stderr, run.stderr
    assert message.startswith(f"store {path}: write failed, nothing was written: "), message
    assert "the file cannot grow" in message
    assert "\n" not in message
    with Store(path, read_only=True) as store:
        assert len(store.read_bars("SMALL", interval="1m")) == 10
        assert store.bar_summary("1m")["symbol"].tolist() == ["SMALL"]


def test_a_store_path_that_is_a_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_os_errors_deep_in_a_chain_are_named() -> None:
    from comove.data.store import _reason

    def chained(inner: str) -> Exception:
        try:
            try:
                raise OSError(inner)
            except OSError as exc:
                raise RuntimeError("Current transaction is aborted (please ROLLBACK)") from exc
        except RuntimeError as outer:
            return outer

    assert _reason(chained("Could not write: No space left on device")) == "the disk is full"
    assert "read-only" in _reason(chained("Cannot open: Read-only file system"))
    assert "no permission" in _reason(chained("open: Permission denied"))
    assert _reason(chained("something else")) == "something else"
