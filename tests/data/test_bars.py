"""Reading and validating bars files: formats, timestamps, errors, warnings, metadata.

Every fixture file is a few hand-written lines in ``tmp_path``; expected values are worked
out by hand from those lines (never the code's own output pasted back).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comove.data.bars import BAR_COLUMNS, normalise_bars, read_bars
from comove.errors import ComoveError, DataError, DataWarning

# Far after every fixture's last bar, so the "still trading" check keeps the last bar.
LATER = pd.Timestamp("2030-01-01", tz="UTC")

# 2024-01-01 00:00:00 UTC as a Unix epoch in seconds (a Monday).
JAN_1_2024 = 1_704_067_200
DAY_S = 86_400


def _write(tmp_path: Path, lines: list[str], name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _dates(*days: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(d) for d in days], name="date")


def _assert_contract(bars: pd.DataFrame) -> None:
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert all(dtype == np.float64 for dtype in bars.dtypes)
    index = bars.index
    assert isinstance(index, pd.DatetimeIndex)
    assert index.name == "date"
    assert index.tz is None
    assert index.is_unique
    assert index.is_monotonic_increasing


def _assert_index(bars: pd.DataFrame, expected: pd.DatetimeIndex) -> None:
    assert list(bars.index) == list(expected)


# A clean equity-style file (Tue 2024-01-02 .. Fri 2024-01-05); the error cases edit one cell.
GOOD_HEADER = "Date,Open,High,Low,Close,Volume"
GOOD_ROWS = [
    "2024-01-02,100,102,99,101,1000",
    "2024-01-03,101,103,100,102,1100",
    "2024-01-04,102,104,101,103,1200",
    "2024-01-05,103,105,102,104,1300",
]


# --- formats and column matching -------------------------------------------------------------


def test_new_yfinance_column_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            "Date,Close,High,Low,Open,Volume",
            "2024-01-02,101.5,102.0,99.0,100.0,1000",
            "2024-01-03,102.5,103.0,100.0,101.0,2000",
            "2024-01-04,103.5,104.0,101.0,102.0,3000",
        ],
    )
    bars = read_bars(path, now=LATER)
    _assert_contract(bars)
    _assert_index(bars, _dates("2024-01-02", "2024-01-03", "2024-01-04"))
    assert bars["open"].tolist() == [100.0, 101.0, 102.0]
    assert bars["high"].tolist() == [102.0, 103.0, 104.0]
    assert bars["low"].tolist() == [99.0, 100.0, 101.0]
    assert bars["close"].tolist() == [101.5, 102.5, 103.5]
    assert bars["volume"].tolist() == [1000.0, 2000.0, 3000.0]
    assert bars.attrs["price_column"] == "Close"
    assert bars.attrs["interval"] == "1d"
    assert bars.attrs["is_24_7"] is False


@pytest.mark.parametrize(
    "header",
    [
        "date,open,high,low,close,volume",
        "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME",
        "Timestamp,Open,High,Low,Close,Volume",
        "timestamp,open,high,low,close,volume",
        " Date , Open , High , Low , Close , Volume ",
    ],
)
def test_headers_matched_by_name_whatever_their_case(tmp_path: Path, header: str) -> None:
    path = _write(tmp_path, [header, *GOOD_ROWS])
    bars = read_bars(path, now=LATER)
    _assert_contract(bars)
    _assert_index(bars, _dates("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"))
    assert bars["close"].tolist() == [101.0, 102.0, 103.0, 104.0]
    assert bars["low"].tolist() == [99.0, 100.0, 101.0, 102.0]


def test_headers_matched_by_name_whatever_their_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            "volume,low,close,DATE,high,open",
            "1000,99,101,2024-01-02,102,100",
            "1100,100,102,2024-01-03,103,101",
        ],
    )
    bars = read_bars(path, now=LATER)
    _assert_index(bars, _dates("2024-01-02", "2024-01-03"))
    assert bars.iloc[0].tolist() == [100.0, 102.0, 99.0, 101.0, 1000.0]
    assert bars.iloc[1].tolist() == [101.0, 103.0, 100.0, 102.0, 1100.0]


def test_close_only_file_has_nan_for_the_other_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, ["Date,Close", "2024-01-02,10", "2024-01-03,11"])
    bars = read_bars(path, now=LATER)
    _assert_contract(bars)
    assert bars["close"].tolist() == [10.0, 11.0]
    for field in ("open", "high", "low", "volume"):
        assert bars[field].isna().all()


def test_utf8_bom_before_the_header_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + "\n".join([GOOD_HEADER, *GOOD_ROWS]) + "\n").encode("utf-8"))
    bars = read_bars(path, now=LATER)
    assert len(bars) == 4
    assert bars["close"].iloc[0] == 101.0


# --- Close vs Adj Close ------------------------------------------------------------------------

OLD_YAHOO = [
    "Date,Open,High,Low,Close,Adj Close,Volume",
    "2024-01-02,98,102,96,100,50,1000",
    "2024-01-03,100,104,99,102,76.5,2000",
]


def test_old_yahoo_auto_uses_adj_close_and_scales_ohl(tmp_path: Path) -> None:
    bars = read_bars(_write(tmp_path, OLD_YAHOO), now=LATER)
    _assert_contract(bars)
    assert bars.attrs["price_column"] == "Adj Close"
    # Factors: 50/100 = 0.5 and 76.5/102 = 0.75.
    assert bars["close"].tolist() == [50.0, 76.5]
    np.testing.assert_allclose(bars["open"], [49.0, 75.0])
    np.testing.assert_allclose(bars["high"], [51.0, 78.0])
    np.testing.assert_allclose(bars["low"], [48.0, 74.25])
    # Volume is a share count, not a price: never scaled.
    assert bars["volume"].tolist() == [1000.0, 2000.0]


def test_price_adj_close_equals_auto_when_the_column_exists(tmp_path: Path) -> None:
    path = _write(tmp_path, OLD_YAHOO)
    auto = read_bars(path, now=LATER)
    adjusted = read_bars(path, price="adj_close", now=LATER)
    pd.testing.assert_frame_equal(auto, adjusted)
    assert adjusted.attrs["price_column"] == "Adj Close"


def test_price_close_forces_the_raw_close(tmp_path: Path) -> None:
    bars = read_bars(_write(tmp_path, OLD_YAHOO), price="close", now=LATER)
    assert bars.attrs["price_column"] == "Close"
    assert bars["close"].tolist() == [100.0, 102.0]
    assert bars["open"].tolist() == [98.0, 100.0]
    assert bars["high"].tolist() == [102.0, 104.0]
    assert bars["low"].tolist() == [96.0, 99.0]


def test_auto_without_adj_close_uses_close(tmp_path: Path) -> None:
    bars = read_bars(_write(tmp_path, [GOOD_HEADER, *GOOD_ROWS]), now=LATER)
    assert bars.attrs["price_column"] == "Close"


@pytest.mark.parametrize("header", ["Date,Adj Close", "date,adjclose", "Date,Adjusted Close"])
def test_adj_close_spellings(tmp_path: Path, header: str) -> None:
    bars = read_bars(_write(tmp_path, [header, "2024-01-02,5", "2024-01-03,6"]), now=LATER)
    assert bars["close"].tolist() == [5.0, 6.0]
    assert bars.attrs["price_column"] == header.split(",")[1]


def test_price_adj_close_without_the_column_is_a_data_error(tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD_HEADER, *GOOD_ROWS], name="plain.csv")
    with pytest.raises(DataError) as info:
        read_bars(path, price="adj_close", now=LATER)
    message = str(info.value)
    assert "plain.csv" in message
    assert "Adj Close" in message


def test_price_close_without_a_close_column_is_a_data_error(tmp_path: Path) -> None:
    path = _write(tmp_path, ["Date,Adj Close", "2024-01-02,5", "2024-01-03,6"], name="adj.csv")
    with pytest.raises(DataError, match=r"adj\.csv.*'close'"):
        read_bars(path, price="close", now=LATER)


# --- timestamps --------------------------------------------------------------------------------

# Mon 2024-01-01 .. Sun 2024-01-07: a complete 24/7 week.
WEEK = _dates(*(f"2024-01-0{d}" for d in range(1, 8)))
WEEK_CLOSES = [2300.0, 2350.0, 2200.0, 2250.0, 2270.0, 2240.0, 2310.0]


def _exchange_rows(stamps: list[int]) -> list[str]:
    rows = ["timestamp,open,high,low,close,volume"]
    for stamp, close in zip(stamps, WEEK_CLOSES, strict=True):
        rows.append(f"{stamp},{close - 10},{close + 20},{close - 30},{close},{close * 3}")
    return rows


def test_exchange_style_milliseconds(tmp_path: Path) -> None:
    stamps = [(JAN_1_2024 + i * DAY_S) * 1000 for i in range(7)]
    bars = read_bars(_write(tmp_path, _exchange_rows(stamps)), now=LATER)
    _assert_contract(bars)
    _assert_index(bars, WEEK)
    assert bars["close"].tolist() == WEEK_CLOSES
    assert bars["open"].tolist() == [c - 10 for c in WEEK_CLOSES]
    assert bars.attrs["is_24_7"] is True
    assert bars.attrs["interval"] == "1d"


def test_exchange_style_seconds(tmp_path: Path) -> None:
    stamps = [JAN_1_2024 + i * DAY_S for i in range(7)]
    bars = read_bars(_write(tmp_path, _exchange_rows(stamps)), now=LATER)
    _assert_index(bars, WEEK)
    assert bars["close"].tolist() == WEEK_CLOSES


def test_epoch_seconds_and_milliseconds_mixed_row_by_row(tmp_path: Path) -> None:
    stamps = [
        (JAN_1_2024 + i * DAY_S) * (1000 if i % 2 == 0 else 1) for i in range(7)
    ]  # ms, s, ms, s, ...
    bars = read_bars(_write(tmp_path, _exchange_rows(stamps)), now=LATER)
    _assert_index(bars, WEEK)
    assert bars["close"].tolist() == WEEK_CLOSES


def test_cryptodatadownload_newest_first(tmp_path: Path) -> None:
    lines = ["unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount"]
    for i in reversed(range(7)):  # newest first, as CryptoDataDownload writes them
        close = WEEK_CLOSES[i]
        day = WEEK[i].strftime("%Y-%m-%d")
        unix_ms = (JAN_1_2024 + i * DAY_S) * 1000
        lines.append(
            f"{unix_ms},{day} 00:00:00,ETH/USDT,{close - 10},{close + 20},{close - 30},"
            f"{close},{100 + i},{(100 + i) * close},{5000 + i}"
        )
    bars = read_bars(_write(tmp_path, lines, name="Binance_ETHUSDT_d.csv"), now=LATER)
    _assert_contract(bars)
    _assert_index(bars, WEEK)
    assert bars["close"].tolist() == WEEK_CLOSES
    # Volume in the base asset (ETH), not the quote asset (USDT) and not the trade count.
    assert bars["volume"].tolist() == [100.0 + i for i in range(7)]
    assert bars.attrs["name"] == "Binance_ETHUSDT_d"


def test_unsorted_input_is_sorted(tmp_path: Path) -> None:
    rows = [GOOD_ROWS[2], GOOD_ROWS[0], GOOD_ROWS[3], GOOD_ROWS[1]]
    bars = read_bars(_write(tmp_path, [GOOD_HEADER, *rows]), now=LATER)
    _assert_contract(bars)
    _assert_index(bars, _dates("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"))
    assert bars["close"].tolist() == [101.0, 102.0, 103.0, 104.0]
    assert bars["volume"].tolist() == [1000.0, 1100.0, 1200.0, 1300.0]


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        pytest.param(
            ["2024-01-02 00:00:00+00:00", "2024-01-03 00:00:00+00:00"],
            ["2024-01-02", "2024-01-03"],
            id="utc-offset",
        ),
        pytest.param(
            # Midnight New York is 05:00 UTC the same day.
            ["2024-01-02 00:00:00-05:00", "2024-01-03 00:00:00-05:00"],
            ["2024-01-02", "2024-01-03"],
            id="new-york-midnight",
        ),
        pytest.param(
            # yfinance across the 2024-03-10 DST change: the offset changes, the dates do not.
            ["2024-03-08 00:00:00-05:00", "2024-03-11 00:00:00-04:00"],
            ["2024-03-08", "2024-03-11"],
            id="dst-change",
        ),
        pytest.param(
            # 22:00 in New York is 03:00 UTC the next day: the UTC date is the one kept.
            ["2024-01-01T22:00:00-05:00", "2024-01-02T22:00:00-05:00"],
            ["2024-01-02", "2024-01-03"],
            id="evening-new-york-is-next-utc-day",
        ),
        pytest.param(
            ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"],
            ["2024-01-02", "2024-01-03"],
            id="zulu",
        ),
    ],
)
def test_iso_stamps_with_offsets_become_utc_dates(
    tmp_path: Path, stamps: list[str], expected: list[str]
) -> None:
    path = _write(tmp_path, ["Date,Close", f"{stamps[0]},10", f"{stamps[1]},11"])
    bars = read_bars(path, now=LATER)
    _assert_contract(bars)
    _assert_index(bars, _dates(*expected))
    assert bars["close"].tolist() == [10.0, 11.0]


def test_hourly_bars_keep_their_hours(tmp_path: Path) -> None:
    lines = ["timestamp,close"] + [f"2024-01-06 {h:02d}:00:00+00:00,{100 + h}" for h in range(6)]
    bars = read_bars(_write(tmp_path, lines), now=LATER)
    _assert_contract(bars)
    assert bars.attrs["interval"] == "1h"
    expected = pd.DatetimeIndex([pd.Timestamp(f"2024-01-06 {h:02d}:00") for h in range(6)])
    _assert_index(bars, expected)
    assert bars["close"].tolist() == [100.0 + h for h in range(6)]


def test_hourly_bars_with_offset_text(tmp_path: Path) -> None:
    # 10:00 in New York (EST) is 15:00 UTC.
    lines = ["time,close"] + [f"2024-01-05T{10 + h:02d}:00:00-05:00,{50 + h}" for h in range(4)]
    bars = read_bars(_write(tmp_path, lines), now=LATER)
    assert bars.attrs["interval"] == "1h"
    assert bars.index[0] == pd.Timestamp("2024-01-05 15:00")
    assert bars.index[-1] == pd.Timestamp("2024-01-05 18:00")


def test_fifteen_minute_bars(tmp_path: Path) -> None:
    lines = ["timestamp,close"] + [f"{(JAN_1_2024 + i * 900) * 1000},{10 + i}" for i in range(5)]
    bars = read_bars(_write(tmp_path, lines), now=LATER)
    assert bars.attrs["interval"] == "15m"
    assert bars.index[1] == pd.Timestamp("2024-01-01 00:15")


# --- validation errors ---------------------------------------------------------------------------


def _with_cell(row: int, column: int, value: str) -> list[str]:
    rows = [r.split(",") for r in GOOD_ROWS]
    rows[row][column] = value
    return [",".join(r) for r in rows]


# (rows, substrings the message must contain besides the file name)
# The CSV line of data row i is i + 2 (line 1 is the header).
VALIDATION_CASES = {
    "unparsable-date": (_with_cell(1, 0, "2024-01-3x"), ["line 3", "'Date'"]),
    "unparsable-number": (_with_cell(2, 2, "1O4"), ["line 4", "'High'"]),
    "underscore-number": (_with_cell(2, 2, "1_04"), ["line 4", "'High'", "'1_04'"]),
    "non-ascii-digits": (_with_cell(1, 3, "١٠٠"), ["line 3", "'Low'"]),
    "duplicate-date": (_with_cell(3, 0, "2024-01-03"), ["line 5", "also on line 3", "'Date'"]),
    "zero-close": (_with_cell(2, 4, "0"), ["line 4", "'close'"]),
    "negative-open": (_with_cell(0, 1, "-1"), ["line 2", "'open'"]),
    "high-below-low": (_with_cell(1, 2, "99.5"), ["line 3", "'high'", "'low'"]),
    "negative-volume": (_with_cell(3, 5, "-5"), ["line 5", "'volume'"]),
}


@pytest.mark.parametrize("case", list(VALIDATION_CASES))
def test_validation_error_names_file_line_and_column(tmp_path: Path, case: str) -> None:
    rows, expected = VALIDATION_CASES[case]
    path = _write(tmp_path, [GOOD_HEADER, *rows], name=f"{case}.csv")
    with pytest.raises(DataError) as info:
        read_bars(path, now=LATER)
    message = str(info.value)
    assert f"{case}.csv" in message
    for part in expected:
        # Column names are matched case-insensitively: 'close' names the file's 'Close'.
        assert part.lower() in message.lower(), (part, message)


def test_spaces_and_missing_tokens_in_number_cells_are_read(tmp_path: Path) -> None:
    rows = _with_cell(1, 5, "null")
    rows[2] = "2024-01-04, 102 ,104,101,103,1200"
    bars = read_bars(_write(tmp_path, [GOOD_HEADER, *rows]), now=LATER)
    assert bars["open"].tolist() == [100, 101, 102, 103]
    assert np.isnan(bars["volume"].iloc[1])


@pytest.mark.parametrize(
    ("dates", "date_format"),
    [
        (["2024-01-02", "2024-01-03 00:00", "2024-01-04T00:00:00Z", "2024-01-05"], None),
        (["01/02/2024", "01/03/2024", "01/04/2024", "01/05/2024"], "%m/%d/%Y"),
        (["02.01.2024", "03.01.2024", "04.01.2024", "05.01.2024"], "%d.%m.%Y"),
        (["2024-01-02", "Jan 3 2024", "2024-01-04", "2024-01-05"], None),
        (["20240102", "20240103", "20240104", "20240105"], None),
    ],
)
def test_iso_and_other_date_spellings_give_the_same_dates(
    tmp_path: Path, dates: list[str], date_format: str | None
) -> None:
    rows = [",".join([d, *r.split(",")[1:]]) for d, r in zip(dates, GOOD_ROWS, strict=True)]
    path = _write(tmp_path, [GOOD_HEADER, *rows])
    bars = read_bars(path, now=LATER, date_format=date_format)
    assert list(bars.index) == list(pd.date_range("2024-01-02", periods=4))


def test_data_error_is_a_comove_error(tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD_HEADER, *_with_cell(0, 4, "x")])
    with pytest.raises(ComoveError):
        read_bars(path, now=LATER)


def test_error_line_is_the_file_line_even_when_input_is_unsorted(tmp_path: Path) -> None:
    # Newest first; the inverted bar (high 90 < low 95) is the 2nd data row, i.e. line 3.
    lines = [
        GOOD_HEADER,
        "2024-01-05,103,105,102,104,1300",
        "2024-01-04,92,90,95,93,1200",
        "2024-01-03,101,103,100,102,1100",
    ]
    with pytest.raises(DataError) as info:
        read_bars(_write(tmp_path, lines, name="newest.csv"), now=LATER)
    message = str(info.value)
    assert "newest.csv" in message
    assert "line 3" in message
    assert "'high'" in message.lower()


def test_nonpositive_adjusted_close_names_the_adj_close_column(tmp_path: Path) -> None:
    # The bad value is in 'Adj Close' (line 3); 'Close' is fine. The message must point the
    # user at the column that holds it, not at the file's perfectly good 'Close'.
    lines = [
        "Date,Open,High,Low,Close,Adj Close,Volume",
        "2024-01-02,98,102,96,100,50,1000",
        "2024-01-03,100,104,99,102,-1,2000",
    ]
    with pytest.raises(DataError) as info:
        read_bars(_write(tmp_path, lines, name="yahoo.csv"), now=LATER)
    message = str(info.value)
    assert "yahoo.csv" in message
    assert "line 3" in message
    assert "'Adj Close'" in message


def test_zero_close_beside_an_adj_close_is_a_data_error(tmp_path: Path) -> None:
    # A zero raw Close makes the adjustment factor Adj Close / Close infinite; that must be
    # reported, never turned into infinite open/high/low.
    lines = [
        "Date,Open,High,Low,Close,Adj Close,Volume",
        "2024-01-02,98,102,96,100,50,1000",
        "2024-01-03,100,104,99,0,51,2000",
        "2024-01-04,100,104,99,102,52,2000",
    ]
    with pytest.raises(DataError) as info:
        read_bars(_write(tmp_path, lines, name="zero.csv"), now=LATER)
    message = str(info.value)
    assert "zero.csv" in message
    assert "line 3" in message
    assert "'Close'" in message


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Date,Open,High,Low,Volume", "'close'"),
        ("Open,High,Low,Close,Volume", "'date'"),
    ],
)
def test_missing_required_column(tmp_path: Path, header: str, missing: str) -> None:
    row = "2024-01-02,1,2,0.5,3" if header.startswith("Date") else "1,2,0.5,1.5,3"
    path = _write(tmp_path, [header, row, row], name="cols.csv")
    with pytest.raises(DataError) as info:
        read_bars(path, now=LATER)
    message = str(info.value)
    assert "cols.csv" in message
    assert "missing required column" in message
    assert missing in message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv.*empty"):
        read_bars(path, now=LATER)


def test_header_only_file(tmp_path: Path) -> None:
    path = _write(tmp_path, [GOOD_HEADER], name="header.csv")
    with pytest.raises(DataError, match=r"header\.csv.*no data rows"):
        read_bars(path, now=LATER)


def test_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(DataError, match=r"nowhere\.csv.*no such file"):
        read_bars(path, now=LATER)


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a folder, not a file"):
        read_bars(tmp_path, now=LATER)


def test_corrupt_parquet_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(DataError, match=r"broken\.parquet.*Parquet"):
        read_bars(path, now=LATER)


# --- null rows ---------------------------------------------------------------------------------


def test_null_rows_are_skipped_with_a_warning(tmp_path: Path) -> None:
    lines = [
        "Date,Open,High,Low,Close,Adj Close,Volume",
        "2024-01-02,98,102,96,100,100,1000",
        "2024-01-03,null,null,null,null,null,null",
        "2024-01-04,100,104,99,102,102,2000",
    ]
    path = _write(tmp_path, lines, name="nulls.csv")
    with pytest.warns(DataWarning, match=r"nulls\.csv: skipped 1 rows .*2024-01-03"):
        bars = read_bars(path, now=LATER)
    _assert_contract(bars)
    _assert_index(bars, _dates("2024-01-02", "2024-01-04"))
    assert bars["close"].tolist() == [100.0, 102.0]


def test_all_null_close_is_a_data_error(tmp_path: Path) -> None:
    lines = ["Date,Close", "2024-01-02,null", "2024-01-03,"]
    with pytest.raises(DataError, match=r"allnull\.csv.*'Close' has no values"):
        read_bars(_write(tmp_path, lines, name="allnull.csv"), now=LATER)


# --- Parquet ----------------------------------------------------------------------------------


def _raw_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Date": ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
            "Open": [100.0, 101.0, 102.0, 103.0],
            "High": [102.0, 103.0, 104.0, 105.0],
            "Low": [99.0, 100.0, 101.0, 102.0],
            "Close": [101.0, 102.0, 103.0, 104.0],
            "Adj Close": [50.5, 51.0, 51.5, 52.0],
            "Volume": [1000, 1100, 1200, 1300],
        }
    )


def test_parquet_round_trip_matches_csv(tmp_path: Path) -> None:
    raw = _raw_frame()
    csv_path, parquet_path = tmp_path / "bars.csv", tmp_path / "bars.parquet"
    raw.to_csv(csv_path, index=False)
    raw.to_parquet(parquet_path)
    from_csv = read_bars(csv_path, now=LATER)
    from_parquet = read_bars(parquet_path, now=LATER)
    pd.testing.assert_frame_equal(from_parquet, from_csv)
    for key in ("name", "price_column", "interval", "is_24_7", "dropped_incomplete"):
        assert from_parquet.attrs[key] == from_csv.attrs[key]
    assert from_csv.attrs["price_column"] == "Adj Close"
    assert from_csv["close"].tolist() == [50.5, 51.0, 51.5, 52.0]


def test_parquet_with_typed_dates_and_date_index(tmp_path: Path) -> None:
    raw = _raw_frame()
    csv_path = tmp_path / "bars.csv"
    raw.to_csv(csv_path, index=False)
    expected = read_bars(csv_path, now=LATER)

    typed = raw.assign(Date=pd.to_datetime(raw["Date"]))
    typed.to_parquet(tmp_path / "typed.parquet")
    pd.testing.assert_frame_equal(read_bars(tmp_path / "typed.parquet", now=LATER), expected)

    indexed = typed.set_index("Date")
    indexed.to_parquet(tmp_path / "indexed.parquet")
    pd.testing.assert_frame_equal(read_bars(tmp_path / "indexed.parquet", now=LATER), expected)


def test_parquet_tz_aware_dates_become_utc_dates(tmp_path: Path) -> None:
    raw = pd.DataFrame(
        {
            "date": pd.DatetimeIndex(["2024-03-08 00:00", "2024-03-11 00:00"]).tz_localize(
                "America/New_York"
            ),
            "close": [10.0, 11.0],
        }
    )
    raw.to_parquet(tmp_path / "tz.parquet")
    bars = read_bars(tmp_path / "tz.parquet", now=LATER)
    _assert_contract(bars)
    _assert_index(bars, _dates("2024-03-08", "2024-03-11"))


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    raw = _raw_frame().assign(Close=[101.0, 102.0, 0.0, 104.0])
    path = tmp_path / "bad.parquet"
    raw.to_parquet(path)
    with pytest.raises(DataError) as info:
        read_bars(path, price="close", now=LATER)
    message = str(info.value)
    assert "bad.parquet" in message
    assert "row 3" in message
    assert "'close'" in message.lower()


# --- 24/7 gaps ---------------------------------------------------------------------------------


def test_missing_days_in_a_24_7_series_warn_with_count_and_first_dates(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", "2024-01-21", freq="D")
    missing = ["2024-01-05", "2024-01-06", "2024-01-10", "2024-01-11", "2024-01-12", "2024-01-15"]
    kept = [d for d in days if d.strftime("%Y-%m-%d") not in missing]
    lines = ["Date,Close"] + [f"{d:%Y-%m-%d},{100 + i}" for i, d in enumerate(kept)]
    path = _write(tmp_path, lines, name="eth.csv")
    with pytest.warns(DataWarning) as record:
        bars = read_bars(path, now=LATER)
    assert len(record) == 1
    message = str(record[0].message)
    assert "eth.csv" in message
    assert "missing 6 calendar days" in message
    assert "2024-01-05, 2024-01-06, 2024-01-10" in message
    assert bars.attrs["is_24_7"] is True
    assert len(bars) == 21 - 6


def test_equity_weekends_are_not_missing_days(tmp_path: Path) -> None:
    sessions = pd.bdate_range("2024-01-08", "2024-01-26")
    lines = ["Date,Close"] + [f"{d:%Y-%m-%d},{100 + i}" for i, d in enumerate(sessions)]
    bars = read_bars(_write(tmp_path, lines), now=LATER)  # warnings are errors here
    assert bars.attrs["is_24_7"] is False
    assert len(bars) == 15


# --- the incomplete last bar ----------------------------------------------------------------


def _week_file(tmp_path: Path) -> Path:
    stamps = [(JAN_1_2024 + i * DAY_S) * 1000 for i in range(7)]
    return _write(tmp_path, _exchange_rows(stamps), name="live.csv")


def test_default_drops_a_last_bar_still_trading(tmp_path: Path) -> None:
    # 15:30 UTC on Sunday 2024-01-07: the Sunday bar closes at midnight, it is still live.
    bars = read_bars(_week_file(tmp_path), now=pd.Timestamp("2024-01-07 15:30", tz="UTC"))
    _assert_index(bars, WEEK[:-1])
    assert bars.attrs["dropped_incomplete"] == "2024-01-07"


def test_default_keeps_a_finished_last_bar(tmp_path: Path) -> None:
    bars = read_bars(_week_file(tmp_path), now=pd.Timestamp("2024-01-10 09:00", tz="UTC"))
    _assert_index(bars, WEEK)
    assert bars.attrs["dropped_incomplete"] is None


def test_default_keeps_a_bar_that_ended_exactly_now(tmp_path: Path) -> None:
    bars = read_bars(_week_file(tmp_path), now=pd.Timestamp("2024-01-08 00:00", tz="UTC"))
    _assert_index(bars, WEEK)


def test_now_in_another_time_zone_is_compared_in_utc(tmp_path: Path) -> None:
    # 20:00 in New York on the 7th is 01:00 UTC on the 8th: the Sunday bar has closed.
    now = pd.Timestamp("2024-01-07 20:00", tz="America/New_York")
    bars = read_bars(_week_file(tmp_path), now=now)
    _assert_index(bars, WEEK)
    # 18:00 in New York is 23:00 UTC on the 7th: still live.
    now = pd.Timestamp("2024-01-07 18:00", tz="America/New_York")
    assert read_bars(_week_file(tmp_path), now=now).index[-1] == WEEK[-2]


def test_naive_now_is_taken_as_utc(tmp_path: Path) -> None:
    # Bars are tz-naive UTC throughout; a naive ``now`` should mean UTC, not crash.
    bars = read_bars(_week_file(tmp_path), now=pd.Timestamp("2024-01-07 15:30"))
    _assert_index(bars, WEEK[:-1])


def test_drop_incomplete_true_always_drops(tmp_path: Path) -> None:
    bars = read_bars(_week_file(tmp_path), drop_incomplete=True, now=LATER)
    _assert_index(bars, WEEK[:-1])
    assert bars.attrs["dropped_incomplete"] == "2024-01-07"


def test_drop_incomplete_false_never_drops(tmp_path: Path) -> None:
    now = pd.Timestamp("2024-01-07 00:01", tz="UTC")
    bars = read_bars(_week_file(tmp_path), drop_incomplete=False, now=now)
    _assert_index(bars, WEEK)
    assert bars.attrs["dropped_incomplete"] is None


def test_default_clock_drops_todays_bar(tmp_path: Path) -> None:
    today = pd.Timestamp.now(tz="UTC").normalize().tz_localize(None)
    days = pd.date_range(end=today, periods=10, freq="D")
    lines = ["Date,Close"] + [f"{d:%Y-%m-%d},{100 + i}" for i, d in enumerate(days)]
    bars = read_bars(_write(tmp_path, lines))
    assert bars.index[-1] == today - pd.Timedelta(days=1)
    assert bars.attrs["dropped_incomplete"] == today.strftime("%Y-%m-%d")


def test_default_clock_keeps_old_data(tmp_path: Path) -> None:
    bars = read_bars(_write(tmp_path, [GOOD_HEADER, *GOOD_ROWS]))
    assert len(bars) == 4
    assert bars.attrs["dropped_incomplete"] is None


def test_hourly_incomplete_bar_uses_the_bar_length(tmp_path: Path) -> None:
    lines = ["timestamp,close"] + [f"2024-01-06 {h:02d}:00:00+00:00,{100 + h}" for h in range(6)]
    path = _write(tmp_path, lines)
    # The last bar opens 05:00 and ends 06:00.
    live = read_bars(path, now=pd.Timestamp("2024-01-06 05:30", tz="UTC"))
    assert live.index[-1] == pd.Timestamp("2024-01-06 04:00")
    assert live.attrs["dropped_incomplete"] == "2024-01-06 05:00:00"
    done = read_bars(path, now=pd.Timestamp("2024-01-06 06:00", tz="UTC"))
    assert done.index[-1] == pd.Timestamp("2024-01-06 05:00")
    assert done.attrs["dropped_incomplete"] is None


def test_dropping_the_only_bar_is_a_data_error(tmp_path: Path) -> None:
    path = _write(tmp_path, ["Date,Close", "2024-01-02,10"], name="one.csv")
    with pytest.raises(DataError, match=r"one\.csv.*no complete bars"):
        read_bars(path, drop_incomplete=True, now=LATER)


# --- metadata and contract -----------------------------------------------------------------------


def test_attrs(tmp_path: Path) -> None:
    path = _write(tmp_path, OLD_YAHOO, name="IWM.csv")
    bars = read_bars(path, now=LATER)
    assert bars.attrs == {
        "name": "IWM",
        "source": str(path),
        "price_column": "Adj Close",
        "interval": "1d",
        "is_24_7": False,
        "dropped_incomplete": None,
    }


def test_output_is_float64_even_for_integer_columns(tmp_path: Path) -> None:
    lines = ["Date,Open,High,Low,Close,Volume", "2024-01-02,1,3,1,2,7", "2024-01-03,2,4,2,3,8"]
    bars = read_bars(_write(tmp_path, lines), now=LATER)
    _assert_contract(bars)
    assert bars["volume"].tolist() == [7.0, 8.0]


def test_daily_bars_sit_at_midnight(tmp_path: Path) -> None:
    # Daily bars stamped at 05:00 UTC (midnight New York) are normalised to the date.
    lines = ["Date,Close", "2024-01-02 05:00:00,10", "2024-01-03 05:00:00,11"]
    bars = read_bars(_write(tmp_path, lines), now=LATER)
    index = pd.DatetimeIndex(bars.index)
    assert (index == index.normalize()).all()
    _assert_index(bars, _dates("2024-01-02", "2024-01-03"))


def test_normalise_bars_does_not_mutate_its_input() -> None:
    raw = _raw_frame()
    raw.index = pd.Index([10, 11, 12, 13])
    raw.attrs = {"keep": "me"}
    before = raw.copy(deep=True)
    bars = normalise_bars(raw, "memory", now=LATER)
    pd.testing.assert_frame_equal(raw, before)
    assert raw.attrs == {"keep": "me"}
    assert list(raw.columns) == list(before.columns)
    assert bars["close"].tolist() == [50.5, 51.0, 51.5, 52.0]
    assert bars.attrs["source"] == "memory"


def test_normalise_bars_accepts_a_date_index() -> None:
    frame = pd.DataFrame(
        {"Close": [1.0, 2.0, 3.0]},
        index=pd.DatetimeIndex(["2024-01-04", "2024-01-02", "2024-01-03"]),
    )
    bars = normalise_bars(frame, "frame", now=LATER)
    _assert_contract(bars)
    _assert_index(bars, _dates("2024-01-02", "2024-01-03", "2024-01-04"))
    assert bars["close"].tolist() == [2.0, 3.0, 1.0]


def test_normalise_bars_names_rows_not_lines_for_tables() -> None:
    frame = pd.DataFrame({"date": ["2024-01-02", "2024-01-03"], "close": [1.0, -2.0]})
    with pytest.raises(DataError, match=r"tbl, row 2: column 'close'"):
        normalise_bars(frame, "tbl", now=LATER)
    with pytest.raises(DataError, match=r"tbl, line 3: column 'close'"):
        normalise_bars(frame, "tbl", now=LATER, first_line=2)


def test_empty_frame_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no data rows"):
        normalise_bars(pd.DataFrame(), "nothing", now=LATER)


def test_log_returns_of_a_read_file_are_finite(tmp_path: Path) -> None:
    bars = read_bars(_write(tmp_path, OLD_YAHOO), now=LATER)
    ret = np.log(bars["close"]).diff().dropna()
    assert math.isclose(float(ret.iloc[0]), math.log(76.5 / 50.0))
