"""The bars contract: reading, normalising and validating OHLCV price files.

A *bars* frame has a ``DatetimeIndex`` named ``date`` (tz-naive UTC; midnight for daily
bars, the bar's open time for intraday bars), sorted and unique, and float64 columns
``open, high, low, close, volume``. ``close`` is always present; the others may be NaN.
Metadata travels in ``DataFrame.attrs``: ``name``, ``source``, ``price_column``,
``interval`` (``"1d"``, ``"1h"``, ...), ``is_24_7`` and ``dropped_incomplete``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

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
_DAY = pd.Timedelta(days=1)


def _key(column: Hashable) -> str:
    return re.sub(r"[^a-z0-9]", "", str(column).lower())


def _where(source: str, position: int, tabular_text: bool) -> str:
    """Name a data row the way a user finds it: the file line for text, the row for Parquet."""
    return f"{source}, line {position + 2}" if tabular_text else f"{source}, row {position + 1}"


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


def _parse_numbers(raw: pd.Series, column: str, source: str, text: bool) -> pd.Series:
    as_text = raw.astype("string").str.strip()
    missing = as_text.isna() | as_text.str.lower().isin(_MISSING_TOKENS)
    values = pd.to_numeric(as_text.where(~missing), errors="coerce")
    bad = values.isna() & ~missing
    if bool(bad.any()):
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{_where(source, pos, text)}: column '{column}' has a value that is not a number: "
            f"{raw.iloc[pos]!r}"
        )
    return values.astype("float64")


def _parse_timestamps(raw: pd.Series, column: str, source: str, text: bool) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(raw):
        stamps = pd.to_datetime(raw, utc=True)
    else:
        as_text = raw.astype("string").str.strip()
        numeric = pd.to_numeric(as_text, errors="coerce")
        if bool(numeric.notna().all()) and len(numeric) > 0:
            # Epoch stamps; a file may mix seconds and milliseconds row by row.
            values = numeric.to_numpy(dtype="float64")
            millis = np.where(np.abs(values) > 1e11, values, values * 1000.0)
            stamps = pd.Series(
                pd.to_datetime(millis.round().astype("int64"), unit="ms", utc=True), index=raw.index
            )
        else:
            stamps = pd.to_datetime(as_text, utc=True, errors="coerce", format="mixed")
            bad = stamps.isna()
            if bool(bad.any()):
                pos = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(
                    f"{_where(source, pos, text)}: column '{column}' has a date that cannot be "
                    f"parsed: {raw.iloc[pos]!r}"
                )
    return pd.DatetimeIndex(stamps).tz_convert("UTC").tz_localize(None)


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


def _is_24_7(index: pd.DatetimeIndex) -> bool:
    """A series trades around the clock when weekends are a real share of its dates."""
    return len(index) > 0 and float((index.day_of_week >= 5).mean()) > 0.1


def normalise_bars(
    frame: pd.DataFrame,
    source: str,
    *,
    price: PriceChoice = "auto",
    drop_incomplete: bool | None = None,
    now: pd.Timestamp | None = None,
    tabular_text: bool = False,
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
    tabular_text
        Whether positions are text-file lines (CSV) rather than table rows, for messages.

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
    frame = frame.reset_index(drop=True)
    stamps = _parse_timestamps(frame[date_col], str(date_col), source, tabular_text)

    fields: dict[str, pd.Series] = {}
    for field in ("open", "high", "low", "close"):
        col = _find_column(columns, _FIELD_ALIASES[field])
        if col is not None:
            fields[field] = _parse_numbers(frame[col], str(col), source, tabular_text)
    volume_col = _find_volume(columns)
    if volume_col is not None:
        fields["volume"] = _parse_numbers(frame[volume_col], str(volume_col), source, tabular_text)
    if use_adjusted:
        assert adj_col is not None
        adjusted = _parse_numbers(frame[adj_col], str(adj_col), source, tabular_text)
        if "close" in fields:
            factor = adjusted / fields["close"]
            for field in ("open", "high", "low"):
                if field in fields:
                    fields[field] = fields[field] * factor
        fields["close"] = adjusted
    price_column = str(adj_col) if use_adjusted else str(close_col)

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

    for field in ("open", "high", "low", "close"):
        nonpositive = bars[field] <= 0
        if bool(nonpositive.any()):
            pos = int(bars["_position"][nonpositive].iloc[0])
            value = bars[field][nonpositive].iloc[0]
            raise DataError(
                f"{_where(source, pos, tabular_text)}: column '{field}' must be positive, "
                f"got {value:g}"
            )
    inverted = bars["high"] < bars["low"]
    if bool(inverted.any()):
        row = bars[inverted].iloc[0]
        raise DataError(
            f"{_where(source, int(row['_position']), tabular_text)}: column 'high' "
            f"({row['high']:g}) is below column 'low' ({row['low']:g})"
        )
    negative_volume = bars["volume"] < 0
    if bool(negative_volume.any()):
        pos = int(bars["_position"][negative_volume].iloc[0])
        raise DataError(f"{_where(source, pos, tabular_text)}: column 'volume' is negative")

    bars = bars.sort_index(kind="stable")
    interval = _interval(pd.DatetimeIndex(bars.index))
    if interval == "1d":
        bars.index = pd.DatetimeIndex(bars.index).normalize()
    duplicated = bars.index.duplicated(keep=False)
    if bool(duplicated.any()):
        dupes = bars[duplicated]
        first, second = sorted(dupes["_position"].iloc[:2].astype(int))
        raise DataError(
            f"{_where(source, second, tabular_text)}: column '{date_col}' repeats "
            f"{dupes.index[0]} (also on line/row {first + (2 if tabular_text else 1)})"
        )
    bars = bars.drop(columns="_position")
    bars.index = pd.DatetimeIndex(bars.index, name="date")

    dropped: str | None = None
    if len(bars) > 0 and drop_incomplete is not False:
        step = _DAY if interval == "1d" else pd.Timedelta(interval.replace("m", "min"))
        clock = (now or pd.Timestamp.now(tz="UTC")).tz_convert("UTC").tz_localize(None)
        last = bars.index[-1]
        if drop_incomplete or last + step > clock:
            dropped = str(last.date() if interval == "1d" else last)
            bars = bars.iloc[:-1]
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
) -> pd.DataFrame:
    """Read a CSV or Parquet file of OHLCV bars into a validated bars frame.

    Headers are matched by name in any order or case (``Date``/``timestamp``/``unix``,
    ``Close``, ``Adj Close``, ``Volume ETH``, ...). Yahoo exports, exchange exports and
    epoch timestamps in seconds or milliseconds all work; time-zone-aware stamps are
    converted to UTC. See :func:`normalise_bars` for ``price`` and ``drop_incomplete``.

    Raises
    ------
    DataError
        The file is missing, empty or malformed; the message names file, line and column.
    """
    file = Path(path)
    source = str(path)
    if not file.is_file():
        raise DataError(f"{source}: no such file")
    is_parquet = file.suffix.lower() in (".parquet", ".pq")
    try:
        if is_parquet:
            raw = pd.read_parquet(file)
        else:
            raw = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataError(f"{source}: the file is empty") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        kind = "Parquet" if is_parquet else "CSV"
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{source}: cannot be read as {kind}: {first_line}") from exc
    return normalise_bars(
        raw,
        source,
        price=price,
        drop_incomplete=drop_incomplete,
        now=now,
        tabular_text=not is_parquet,
    )
