"""The bars contract: reading, normalising and validating OHLCV price files.

A *bars* frame has a ``DatetimeIndex`` named ``date`` (tz-naive UTC; midnight for daily
bars, the bar's open time for intraday bars), sorted and unique, and float64 columns
``open, high, low, close, volume``. ``close`` is always present; the others may be NaN.
Metadata travels in ``DataFrame.attrs``: ``name``, ``source``, ``price_column``,
``interval`` (``"1d"``, ``"1h"``, ...), ``is_24_7`` and ``dropped_incomplete``.
"""

from __future__ import annotations

import calendar
import csv
import re
import warnings
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from comove._text import quoted
from comove._time import interval_step, now_utc, utc_naive, utc_naive_index
from comove.errors import DataError, DataWarning

BAR_COLUMNS = ("open", "high", "low", "close", "volume")
PriceChoice = Literal["auto", "close", "adj_close"]

_DATE_ALIASES = (
    "date", "datetime", "timestamp", "time", "unix", "opentime", "observationdate", "day",
)  # fmt: skip
_FIELD_ALIASES = {
    "open": ("open", "o", "openprice"),
    "high": ("high", "h", "highprice"),
    "low": ("low", "l", "lowprice"),
    "close": ("close", "c", "closeprice", "last", "price"),
    "adj_close": ("adjclose", "adjustedclose", "closeadj", "adjcloseprice"),
    "volume": ("volume", "vol", "v", "volumebase", "baseassetvolume", "volumefrom"),
}
_MISSING_TOKENS = ("", "null", "nan", "none", "na", "n/a", "-")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Day and month in either order: 01/02/2024, 1.2.2024, 01-02-2024 (with an optional time).
_NUMERIC_DATE = r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(.*)$"

#: The span of market data comove reads unless told otherwise (``earliest``), within the
#: span anything is ever stored (macro series may be older).
EARLIEST = pd.Timestamp("1970-01-01")
OLDEST = pd.Timestamp("1900-01-01")
LATEST = pd.Timestamp("2200-01-01")
#: The longest date or number cell read; longer cells are refused before any parsing.
MAX_CELL = 64
# Epoch numbers by magnitude: seconds, milliseconds, microseconds, nanoseconds.
_EPOCH_UNITS = ((1e11, 1), (1e14, 10**3), (1e17, 10**6), (float("inf"), 10**9))
# Excel stores dates as days since 1899-12-30: 20,000..80,000 is 1954..2119.
_EXCEL_DAYS = (20_000, 80_000)


def _key(column: Hashable) -> str:
    return re.sub(r"[^a-z0-9]", "", str(column).lower())


def _where(source: str, position: int, first_line: int | None) -> str:
    """Name a data row the way a user finds it: the file line for text, the row for tables."""
    if first_line is None:
        return f"{source}, row {position + 1}"
    return f"{source}, line {position + first_line}"


def _check_positive(values: pd.Series, column: str, source: str, first_line: int | None) -> None:
    nonpositive = (values <= 0).to_numpy()
    if nonpositive.any():
        pos = int(np.flatnonzero(nonpositive)[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{column}' must be positive, "
            f"got {values.iloc[pos]:g}"
        )


def _find_column(columns: Sequence[Hashable], aliases: Sequence[str]) -> Hashable | None:
    keys = {_key(c): c for c in columns}
    for alias in aliases:
        if alias in keys:
            return keys[alias]
    return None


def _find_volume(columns: Sequence[Hashable]) -> Hashable | None:
    found = _find_column(columns, _FIELD_ALIASES["volume"])
    if found is not None:
        return found
    # Exchange exports name the base-asset volume first ("Volume ETH", then "Volume USDT").
    return next((c for c in columns if _key(c).startswith("volume")), None)


def _find_date(columns: Sequence[Hashable]) -> Hashable | None:
    keys = {_key(c): c for c in columns}
    # An epoch column is unambiguous; prefer it over a text date when a file has both.
    for preferred in ("unix", "timestamp", "opentime"):
        if preferred in keys:
            return keys[preferred]
    return _find_column(columns, _DATE_ALIASES)


def _check_cells(raw: pd.Series, column: str, source: str, first_line: int | None) -> None:
    """Refuse a cell too long to be a date or a number before anything parses it."""
    if raw.dtype.kind not in "OUS" and not pd.api.types.is_string_dtype(raw):
        return
    lengths = raw.astype("string").str.len().to_numpy(dtype="float64", na_value=0.0)
    long = np.flatnonzero(lengths > MAX_CELL)
    if len(long):
        pos = int(long[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{column}' has a cell of "
            f"{int(lengths[pos]):,} characters, too long for a date or a number: "
            f"{quoted(raw.iloc[pos], 40)}"
        )


def _parse_numbers(raw: pd.Series, column: str, source: str, first_line: int | None) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw):
        raise DataError(f"{source}: column '{column}' holds true/false values, not numbers")
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.astype("float64")  # Parquet: typed already
    else:
        _check_cells(raw, column, source, first_line)
        values = _numbers_from_text(raw, column, source, first_line)
    infinite = np.flatnonzero(np.isinf(values.to_numpy()))
    if len(infinite):
        pos = int(infinite[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{column}' has a value that is not a "
            f"finite number: {quoted(raw.iloc[pos])}"
        )
    return values


def _numbers_from_text(
    raw: pd.Series, column: str, source: str, first_line: int | None
) -> pd.Series:
    import pyarrow as pa

    try:
        # Every cell a plain number (the usual file): Arrow's strict cast, in C++.
        values = pa.array(raw).cast(pa.float64())
        return pd.Series(values.to_numpy(zero_copy_only=False), index=raw.index)
    except (pa.ArrowException, TypeError, ValueError):
        pass  # missing-value tokens, spaces, bad cells: the careful path below names them
    as_text = raw.astype("string").str.strip()
    missing = as_text.isna() | as_text.str.lower().isin(_MISSING_TOKENS)
    values = pd.to_numeric(as_text.where(~missing), errors="coerce")
    bad = values.isna() & ~missing
    if bool(bad.any()):
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{column}' has a value that is not a number: "
            f"{quoted(raw.iloc[pos])}"
        )
    return values.astype("float64")


def _parse_timestamps(
    raw: pd.Series,
    column: str,
    source: str,
    first_line: int | None,
    *,
    date_format: str | None = None,
    earliest: pd.Timestamp = EARLIEST,
) -> pd.DatetimeIndex:
    """The column's times as tz-naive UTC, each checked to lie in ``earliest``..2200."""
    if pd.api.types.is_bool_dtype(raw):
        raise DataError(f"{source}: column '{column}' holds true/false values, not dates")
    if pd.api.types.is_datetime64_any_dtype(raw):
        stamps = pd.DatetimeIndex(raw)
        stamps = stamps if stamps.tz is None else stamps.tz_convert("UTC").tz_localize(None)
        _check_span(stamps, raw, column, source, first_line, earliest)
        return pd.DatetimeIndex(stamps).as_unit("ns")
    if pd.api.types.is_numeric_dtype(raw):
        numbers = pd.Series(raw.to_numpy(), index=raw.index)
        return _from_numbers(numbers, raw, column, source, first_line, earliest)
    _check_cells(raw, column, source, first_line)
    as_text = raw.astype("string").str.strip()
    if date_format is not None:
        parsed = pd.to_datetime(as_text, utc=True, errors="coerce", format=date_format)
        _check_parsed(parsed, raw, column, source, first_line, f" with --date-format {date_format}")
    elif len(as_text) and _DATE_LIKE.match(str(as_text.iloc[0])):
        # ISO dates (the usual file) parse in C; anything else takes the general path.
        parsed = pd.to_datetime(as_text, utc=True, errors="coerce", format="ISO8601")
        if bool(parsed.isna().any()):
            parsed = _general(as_text, raw, column, source, first_line)
    else:
        numeric = pd.to_numeric(as_text, errors="coerce")
        if len(numeric) and bool(numeric.notna().all()):
            return _from_numbers(numeric, raw, column, source, first_line, earliest)
        ordered = _day_month_order(as_text, raw, column, source, first_line)
        parsed = (
            _general(as_text, raw, column, source, first_line)
            if ordered is None
            else pd.to_datetime(ordered, utc=True, errors="coerce", format="ISO8601")
        )
        _check_parsed(parsed, raw, column, source, first_line, "")
    stamps = utc_naive_index(pd.DatetimeIndex(parsed))
    _check_span(stamps, raw, column, source, first_line, earliest)
    return stamps.as_unit("ns")


def _general(
    as_text: pd.Series, raw: pd.Series, column: str, source: str, first_line: int | None
) -> pd.Series:
    parsed = pd.to_datetime(as_text, utc=True, errors="coerce", format="mixed")
    _check_parsed(parsed, raw, column, source, first_line, "")
    return parsed


def _check_parsed(
    parsed: pd.Series, raw: pd.Series, column: str, source: str, first_line: int | None, how: str
) -> None:
    bad = parsed.isna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{column}' has a date that cannot be "
            f"parsed{how}: {quoted(raw.iloc[pos])}"
        )


def _day_month_order(
    as_text: pd.Series, raw: pd.Series, column: str, source: str, first_line: int | None
) -> pd.Series | None:
    """Dates written ``NN/NN/YYYY`` as ISO text, the order decided on the whole column.

    A first number above 12 somewhere means day first; a second number above 12 month
    first; both, or neither, is refused: a file's dates cannot be read two ways.
    ``None`` when the column is not written that way.
    """
    parts = as_text.str.extract(_NUMERIC_DATE)
    if len(parts) == 0 or bool(parts[0].isna().any()):
        return None
    first = parts[0].astype("int64").to_numpy()
    second = parts[2].astype("int64").to_numpy()
    day_first = np.flatnonzero(first > 12)
    month_first = np.flatnonzero(second > 12)
    if len(day_first) and len(month_first):
        a, b = int(day_first[0]), int(month_first[0])
        raise DataError(
            f"{source}: column '{column}' mixes day-first and month-first dates: "
            f"{_where(source, a, first_line).rsplit(', ', 1)[1]} {quoted(raw.iloc[a])} is "
            f"day/month, {_where(source, b, first_line).rsplit(', ', 1)[1]} "
            f"{quoted(raw.iloc[b])} is month/day"
        )
    if not len(day_first) and not len(month_first):
        differ = np.flatnonzero(first != second)
        if not len(differ):
            day_first = np.arange(1)  # every date reads the same either way
        else:
            pos = int(differ[0])
            a, b = int(first[pos]), int(second[pos])
            sep = str(parts[1].iloc[pos])
            raise DataError(
                f"{_where(source, pos, first_line)}: column '{column}': {quoted(raw.iloc[pos])} "
                f"reads two ways ({a} {calendar.month_name[b]} or {b} {calendar.month_name[a]}) "
                f"and no date decides; give --date-format %d{sep}%m{sep}%Y or %m{sep}%d{sep}%Y"
            )
    day_col, month_col = (0, 2) if len(day_first) else (2, 0)
    return (
        parts[3]
        + "-"
        + parts[month_col].str.zfill(2)
        + "-"
        + parts[day_col].str.zfill(2)
        + parts[4].fillna("")
    )


def _from_numbers(
    numbers: pd.Series,
    raw: pd.Series,
    column: str,
    source: str,
    first_line: int | None,
    earliest: pd.Timestamp,
) -> pd.DatetimeIndex:
    """Numeric stamps: YYYYMMDD dates, or epoch seconds, ms, µs or ns (by magnitude, row by
    row, as some files mix seconds and milliseconds); Excel serial days are refused."""
    values = numbers.to_numpy(dtype="float64")
    if not np.isfinite(values).all():
        pos = int(np.flatnonzero(~np.isfinite(values))[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{column}' has a time that is not a "
            f"finite number: {quoted(raw.iloc[pos])}"
        )
    whole = bool((values % 1 == 0).all())
    if whole and bool(((values >= 19_000_101) & (values <= 21_001_231)).all()):
        # YYYYMMDD integers, which would otherwise read as epoch seconds in 1970.
        text = pd.Series(values.astype("int64").astype(str), index=numbers.index)
        parsed = pd.to_datetime(text, format="%Y%m%d", utc=True, errors="coerce")
        _check_parsed(parsed, raw, column, source, first_line, "")
        stamps = utc_naive_index(pd.DatetimeIndex(parsed))
        _check_span(stamps, raw, column, source, first_line, earliest)
        return stamps.as_unit("ns")
    low, high = _EXCEL_DAYS
    if bool(((values >= low) & (values < high)).all()):
        example = pd.Timestamp("1899-12-30") + pd.Timedelta(days=float(values[0]))
        raise DataError(
            f"{_where(source, 0, first_line)}: column '{column}' holds numbers like "
            f"{quoted(raw.iloc[0])}, which look like Excel serial days ({example:%Y-%m-%d} in "
            "Excel), not times; format the column as dates (YYYY-MM-DD) before saving"
        )
    magnitude = np.abs(values)
    seconds = np.full(len(values), np.nan)
    for bound, per_second in _EPOCH_UNITS:
        chosen = np.isnan(seconds) & (magnitude < bound)
        seconds[chosen] = values[chosen] / per_second
    lo = (earliest - pd.Timestamp(0)).total_seconds()
    hi = (LATEST - pd.Timestamp(0)).total_seconds()
    outside = np.flatnonzero((seconds < lo) | (seconds >= hi))
    if len(outside):
        pos = int(outside[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{column}' has an epoch time "
            f"{quoted(raw.iloc[pos])} outside {earliest:%Y-%m-%d}..{LATEST:%Y-%m-%d} (read as "
            "seconds, milliseconds, microseconds or nanoseconds by its size)"
        )
    nanos = np.round(seconds * 1e9).astype("int64")
    return pd.DatetimeIndex(nanos.view("datetime64[ns]"))


def _check_span(
    stamps: pd.DatetimeIndex,
    raw: pd.Series,
    column: str,
    source: str,
    first_line: int | None,
    earliest: pd.Timestamp,
) -> None:
    empty = np.flatnonzero(stamps.isna())
    if len(empty):
        pos = int(empty[0])
        raise DataError(f"{_where(source, pos, first_line)}: column '{column}' has no date")
    outside = np.flatnonzero((stamps < earliest) | (stamps >= LATEST))
    if len(outside):
        pos = int(outside[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{column}' has a date "
            f"{quoted(raw.iloc[pos])} outside {earliest:%Y-%m-%d}..{LATEST:%Y-%m-%d} "
            "(older market data: --earliest DATE)"
        )


def _interval(index: pd.DatetimeIndex) -> str:
    if len(index) < 2:
        return "1d"
    step = pd.Series(index).diff().median()
    if step >= pd.Timedelta(hours=20):
        return "1d"
    minutes = max(round(step / pd.Timedelta(minutes=1)), 1)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def _first_dates(index: pd.DatetimeIndex | Sequence[pd.Timestamp], count: int = 3) -> str:
    shown = ", ".join(pd.Timestamp(d).strftime("%Y-%m-%d") for d in list(index)[:count])
    return shown + (", ..." if len(index) > count else "")


def trades_24_7(weekend_rows: int, rows: int) -> bool:
    """A series trades around the clock when weekends are a real share (> 10%) of its bars."""
    return rows > 0 and weekend_rows / rows > 0.1


def _is_24_7(index: pd.DatetimeIndex) -> bool:
    return trades_24_7(int((index.day_of_week >= 5).sum()), len(index))


#: Bars before the last one that must all report volume for a volume-less last bar to be
#: taken for a partial one (an index feed that never reports volume is left alone).
PARTIAL_VOLUME_LOOKBACK = 20


def unfinished_reason(
    bars: pd.DataFrame,
    interval: str,
    now: pd.Timestamp | None = None,
    times: np.ndarray | None = None,
) -> str | None:
    """Why the last bar looks unfinished, or ``None`` when it looks complete.

    A bar is unfinished while its period has not ended by ``now`` (today's UTC day for
    crypto); a daily bar is also taken for a partial one when it has no volume although
    the :data:`PARTIAL_VOLUME_LOOKBACK` bars before it all have some, or when ``times``
    (each raw stamp's time of day) shows it was stamped at another time of day than every
    bar before it (a snapshot taken during the session).
    """
    last = bars.index[-1]
    clock = now_utc() if now is None else utc_naive(now)
    if last + interval_step(interval) > clock:
        return "its period has not ended yet (still trading)"
    if interval != "1d":
        return None
    volume = bars["volume"].to_numpy(dtype="float64")
    before = volume[-PARTIAL_VOLUME_LOOKBACK - 1 : -1]
    if len(before) == PARTIAL_VOLUME_LOOKBACK and not volume[-1] > 0 and bool((before > 0).all()):
        return "it has no volume while the bars before it do (a partial bar)"
    if times is not None and len(times) > 2:
        earlier = times[:-1]
        if bool((earlier == earlier[0]).all()) and times[-1] != earlier[0]:
            shown = pd.Timestamp(0) + pd.Timedelta(int(times[-1]), unit="ns")
            usual = pd.Timestamp(0) + pd.Timedelta(int(earlier[0]), unit="ns")
            return (
                f"it is stamped {shown:%H:%M} UTC while the bars before it are stamped "
                f"{usual:%H:%M} (taken during its session)"
            )
    return None


def drop_unfinished_bar(
    bars: pd.DataFrame,
    interval: str,
    drop_incomplete: bool | None = None,
    now: pd.Timestamp | None = None,
    *,
    times: np.ndarray | None = None,
    source: str = "",
) -> tuple[pd.DataFrame, str | None]:
    """Drop the last bar when it looks unfinished (``None``), always (``True``) or never.

    See :func:`unfinished_reason`. A bar dropped because it looks unfinished is named in a
    :class:`~comove.errors.DataWarning` with ``source``, its date and the reason. Returns
    the bars and the dropped bar's date (or time), or ``None`` when none was dropped.
    """
    if bars.empty or drop_incomplete is False:
        return bars, None
    last = bars.index[-1]
    label = str(last.date() if interval == "1d" else last)
    if drop_incomplete:
        return bars.iloc[:-1], label
    reason = unfinished_reason(bars, interval, now, times)
    if reason is None:
        return bars, None
    if not reason.startswith("its period"):
        # Today's live bar is routine; a partial bar in a finished day deserves a word.
        warnings.warn(
            f"{source or 'series'}: last bar {label} dropped: {reason}; --keep-last keeps it",
            DataWarning,
            stacklevel=3,
        )
    return bars.iloc[:-1], label


def _check_distinct(columns: Sequence[Hashable], source: str) -> None:
    """Refuse two columns that read as the same field (``Close`` and ``close``)."""
    seen: dict[str, Hashable] = {}
    for column in columns:
        key = _key(column)
        if key in seen:
            raise DataError(
                f"{source}: columns {quoted(seen[key], 40)} and {quoted(column, 40)} name the "
                "same field; keep one"
            )
        seen[key] = column


def _check_header(file: Path, skip: int, source: str) -> None:
    """Refuse a CSV header that names a column twice (pandas would rename the second)."""
    with file.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
        for _ in range(skip):
            stream.readline()
        header = next(csv.reader([stream.readline()]), [])
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        key = name.strip().lower()
        if key and key in seen:
            raise DataError(
                f"{source}, line {skip + 1}: column name {quoted(name.strip(), 40)} appears "
                f"twice (columns {seen[key]} and {number}); keep one"
            )
        seen[key] = number


def normalise_bars(
    frame: pd.DataFrame,
    source: str,
    *,
    price: PriceChoice = "auto",
    drop_incomplete: bool | None = None,
    now: pd.Timestamp | None = None,
    first_line: int | None = None,
    date_format: str | None = None,
    earliest: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Turn a raw table (any column order or case) into a validated bars frame.

    Parameters
    ----------
    frame
        Raw rows as read from a file, with a date column and at least a close column.
    source
        Name used in error messages (usually the file path).
    price
        ``"auto"`` uses ``Adj Close`` when the file has one, else ``Close``; ``"close"`` and
        ``"adj_close"`` force one. When the adjusted close is used, open/high/low are scaled
        by the same factor so the bar stays consistent.
    drop_incomplete
        Drop the last bar because it is still trading. ``None`` (default) drops it only when
        it looks live: its period has not ended by ``now``. ``True`` always drops it.
    now
        The current time (UTC) for the ``drop_incomplete`` check; defaults to the clock.
    first_line
        The text-file line holding the first data row, so messages name file lines; ``None``
        for tables (Parquet, frames), whose messages name rows.
    date_format
        A ``strptime`` format for the date column (``%d/%m/%Y``); by default ISO dates,
        epoch numbers (s, ms, µs, ns by size), ``YYYYMMDD`` and ``DD/MM/YYYY`` or
        ``MM/DD/YYYY`` when the file's own dates show which are read.
    earliest
        The oldest date accepted (default 1970-01-01; nothing after 2200 is).

    Raises
    ------
    DataError
        Naming the source, the line or row, and the column of the first problem found.
    """
    if frame.empty or len(frame.columns) == 0:
        raise DataError(f"{source}: the file has no data rows")
    columns = list(frame.columns)
    date_col = _find_date(columns)
    if date_col is None and isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index(names="date")
        columns = list(frame.columns)
        date_col = "date"
    if date_col is None:
        raise DataError(
            f"{source}: missing required column 'date' (looked for Date, Timestamp, Time, Unix; "
            f"found {', '.join(map(str, columns))})"
        )
    close_col = _find_column(columns, _FIELD_ALIASES["close"])
    adj_col = _find_column(columns, _FIELD_ALIASES["adj_close"])
    if price == "adj_close" and adj_col is None:
        raise DataError(
            f"{source}: --price adj_close asked for, but there is no 'Adj Close' column"
        )
    use_adjusted = adj_col is not None and price in ("auto", "adj_close")
    if close_col is None and not use_adjusted:
        raise DataError(
            f"{source}: missing required column 'close' (found {', '.join(map(str, columns))})"
        )
    _check_distinct(columns, source)
    frame = frame.reset_index(drop=True)
    stamps = _parse_timestamps(
        frame[date_col],
        str(date_col),
        source,
        first_line,
        date_format=date_format,
        earliest=EARLIEST if earliest is None else pd.Timestamp(earliest),
    )

    fields: dict[str, pd.Series] = {}
    headers: dict[str, str] = {}
    for field in ("open", "high", "low", "close", "adj_close", "volume"):
        col = (
            _find_volume(columns)
            if field == "volume"
            else _find_column(columns, _FIELD_ALIASES[field])
        )
        if col is not None and (field != "adj_close" or use_adjusted):
            fields[field] = _parse_numbers(frame[col], str(col), source, first_line)
            headers[field] = str(col)
    # Checked on the file's own values, before any adjustment, so messages quote the file.
    for field in ("open", "high", "low", "close", "adj_close"):
        if field in fields:
            _check_positive(fields[field], headers[field], source, first_line)
    if "high" in fields and "low" in fields:
        inverted = (fields["high"] < fields["low"]).to_numpy()
        if inverted.any():
            pos = int(np.flatnonzero(inverted)[0])
            raise DataError(
                f"{_where(source, pos, first_line)}: column '{headers['high']}' "
                f"({fields['high'].iloc[pos]:g}) is below column '{headers['low']}' "
                f"({fields['low'].iloc[pos]:g})"
            )
    if "volume" in fields and bool((fields["volume"] < 0).any()):
        pos = int(np.flatnonzero((fields["volume"] < 0).to_numpy())[0])
        raise DataError(
            f"{_where(source, pos, first_line)}: column '{headers['volume']}' is negative"
        )
    if use_adjusted:
        adjusted = fields.pop("adj_close")
        if "close" in fields:
            factor = adjusted / fields["close"]
            for field in ("open", "high", "low"):
                if field in fields:
                    fields[field] = fields[field] * factor
        fields["close"] = adjusted
    price_column = headers["adj_close"] if use_adjusted else str(close_col)

    bars = pd.DataFrame(
        {name: fields.get(name, pd.Series(np.nan, index=frame.index)) for name in BAR_COLUMNS},
        index=frame.index,
    ).astype("float64")
    bars["_position"] = np.arange(len(bars))
    bars.index = stamps

    missing_close = bars["close"].isna()
    if bool(missing_close.all()):
        raise DataError(f"{source}: column '{price_column}' has no values")
    if bool(missing_close.any()):
        warnings.warn(
            f"{source}: skipped {int(missing_close.sum())} rows with no {price_column} "
            f"(first: {_first_dates(bars.index[missing_close])})",
            DataWarning,
            stacklevel=2,
        )
        bars = bars[~missing_close]

    bars = bars.sort_index(kind="stable")
    interval = _interval(pd.DatetimeIndex(bars.index))
    times = None
    if interval == "1d":
        stamped = pd.DatetimeIndex(bars.index).as_unit("ns")
        times = (stamped - stamped.normalize()).asi8
        bars.index = stamped.normalize()
    duplicated = bars.index.duplicated(keep=False)
    if bool(duplicated.any()):
        dupes = bars[duplicated]
        first, second = sorted(dupes["_position"].iloc[:2].astype(int))
        raise DataError(
            f"{_where(source, second, first_line)}: column '{date_col}' repeats "
            f"{dupes.index[0]} (also on {_where(source, first, first_line).rsplit(', ', 1)[1]})"
        )
    bars = bars.drop(columns="_position")
    bars.index = pd.DatetimeIndex(bars.index, name="date").as_unit("ns")

    bars, dropped = drop_unfinished_bar(
        bars, interval, drop_incomplete, now, times=times, source=source
    )
    if bars.empty:
        raise DataError(f"{source}: the file has no complete bars")

    is_24_7 = _is_24_7(pd.DatetimeIndex(bars.index))
    if is_24_7 and interval == "1d":
        full = pd.date_range(bars.index[0], bars.index[-1], freq="D")
        missing_days = full.difference(pd.DatetimeIndex(bars.index))
        if len(missing_days):
            warnings.warn(
                f"{source}: a 24/7 series is missing {len(missing_days)} calendar days "
                f"(first: {_first_dates(missing_days, 5)})",
                DataWarning,
                stacklevel=2,
            )
    bars.attrs = {
        "name": Path(source).stem if source else "series",
        "source": source,
        "price_column": price_column,
        "interval": interval,
        "is_24_7": is_24_7,
        "dropped_incomplete": dropped,
    }
    return bars


def read_bars(
    path: str | Path,
    *,
    price: PriceChoice = "auto",
    drop_incomplete: bool | None = None,
    now: pd.Timestamp | None = None,
    date_format: str | None = None,
    earliest: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file of OHLCV bars into a validated bars frame.

    Headers are matched by name in any order or case (``Date``/``timestamp``/``unix``,
    ``Close``, ``Adj Close``, ``Volume ETH``, ...). Yahoo exports, exchange exports and
    epoch timestamps in seconds or milliseconds all work; time-zone-aware stamps are
    converted to UTC. See :func:`normalise_bars` for ``price``, ``drop_incomplete``,
    ``date_format`` and ``earliest``.

    Raises
    ------
    DataError
        The file is missing, empty or malformed; the message names file, line and column.
    """
    file = Path(path)
    source = str(path)
    if file.is_dir():
        raise DataError(f"{source}: is a folder, not a file (give a CSV or Parquet file)")
    if not file.is_file():
        raise DataError(f"{source}: no such file")
    is_parquet = file.suffix.lower() in (".parquet", ".pq")
    first_line: int | None = None
    try:
        if is_parquet:
            raw = pd.read_parquet(file)
        else:
            preamble = _preamble_lines(file)
            _check_header(file, preamble, source)
            raw = pd.read_csv(
                file, dtype=str, keep_default_na=False, encoding="utf-8-sig", skiprows=preamble
            )
            raw, extra_headers = _collapse_yfinance_headers(raw)
            first_line = preamble + extra_headers + 2
    except pd.errors.EmptyDataError:
        raise DataError(f"{source}: the file is empty") from None
    except PermissionError:
        raise DataError(f"{source}: cannot be read: permission denied") from None
    except (OSError, ValueError, UnicodeDecodeError, NotImplementedError, ArithmeticError) as exc:
        kind = "Parquet" if is_parquet else "CSV"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{source}: cannot be read as {kind}: {reason}") from exc
    return normalise_bars(
        raw,
        source,
        price=price,
        drop_incomplete=drop_incomplete,
        now=now,
        first_line=first_line,
        date_format=date_format,
        earliest=earliest,
    )


def _preamble_lines(file: Path) -> int:
    """Lines before the header: CryptoDataDownload files start with a URL line, for one."""
    with file.open(encoding="utf-8-sig", errors="replace") as stream:
        for number, line in enumerate(stream):
            if number >= 5 or "," in line:
                return number if "," in line else 0
    return 0


def _collapse_yfinance_headers(raw: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Current yfinance CSVs have three header rows (Price / Ticker / Date); keep the first."""
    if raw.empty or _key(raw.columns[0]) != "price":
        return raw, 0
    labels = raw.iloc[:2, 0].str.strip().str.lower().tolist()
    extra = 2 if labels[:2] == ["ticker", "date"] else 1 if labels[:1] == ["ticker"] else 0
    if extra == 0:
        return raw, 0
    renamed = raw.iloc[extra:].rename(columns={raw.columns[0]: "Date"})
    return renamed.reset_index(drop=True), extra
