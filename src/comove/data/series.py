"""Macro series from files: FRED CSV exports in their usual shapes, with their units.

``observation_date,WALCL`` (FRED's own download), ``DATE,VALUE`` (older exports),
``date,WALCL`` and the same in any case; blank cells and ``.`` are missing values. Units
are known for the series comove uses (:data:`KNOWN_UNITS`) or given (``--units``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from comove._text import quoted
from comove.errors import ConfigError, DataError

#: Units FRED states for the series comove uses (the money series are converted by them).
KNOWN_UNITS = {
    "WALCL": "Millions of U.S. Dollars",
    "WTREGEN": "Millions of U.S. Dollars",
    "RRPONTSYD": "Billions of U.S. Dollars",
    "DGS2": "Percent",
    "DGS10": "Percent",
    "DFF": "Percent",
    "FEDFUNDS": "Percent",
    "NFCI": "Index",
    "BAMLH0A0HYM2": "Percent",
    "DTWEXBGS": "Index Jan 2006=100",
    "M2SL": "Billions of U.S. Dollars",
    "SP500": "Index",
}
_DATE_HEADERS = ("observation_date", "date")
_MISSING = ("", ".", "na", "n/a", "#n/a", "nan", "null")
_PRICE_HEADERS = ("close", "adjclose", "open", "high", "low", "price", "volume")


def _key(header: object) -> str:
    return "".join(ch for ch in str(header).lower() if ch.isalnum() or ch == "_")


def looks_like_series(columns: Sequence[object]) -> bool:
    """A FRED-style file: a date column and exactly one value column that is not a price."""
    keys = [_key(c) for c in columns]
    return (
        len(keys) == 2
        and keys[0] in _DATE_HEADERS
        and keys[1].replace("_", "") not in _PRICE_HEADERS
    )


def units_for(series_id: str, given: str | None = None) -> str:
    """The units of a series: ``given``, else the known ones.

    Raises
    ------
    ConfigError
        Neither is available; the message says how to give them.
    """
    if given is not None and given.strip():
        return given.strip()
    known = KNOWN_UNITS.get(series_id.upper())
    if known is None:
        raise ConfigError(
            f"the units of {series_id} are not known: give them, e.g. --units "
            "'Millions of U.S. Dollars' or --units Percent"
        )
    return known


def read_series(path: str | Path, series_id: str | None = None) -> pd.Series:
    """Read a FRED-style CSV as a float Series on a ``date`` index (missing values dropped).

    ``series_id`` defaults to the value column's header (``VALUE`` needs one given).

    Raises
    ------
    DataError
        The file is missing, not a date/value table, or has a bad date or number; the
        message names the file, the line and the column.
    """
    file = Path(path)
    if file.is_dir():
        raise DataError(f"{path}: is a folder, not a file")
    if not file.is_file():
        raise DataError(f"{path}: no such file")
    try:
        raw = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: cannot be read as CSV: {reason}") from None
    if not looks_like_series(list(raw.columns)):
        raise DataError(
            f"{path}: not a macro series file: expected two columns like "
            f"observation_date,WALCL or DATE,VALUE (found {', '.join(map(str, raw.columns))})"
        )
    date_header, value_header = (str(c) for c in raw.columns)
    name = series_id or value_header.strip().upper()
    if name == "VALUE":
        raise ConfigError(f"{path}: the column is called VALUE: name the series with --as fred:ID")
    text = raw[value_header].str.strip()
    missing = text.str.lower().isin(_MISSING)
    values = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = values.isna() & ~missing
    if bool(bad.any()):
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{path}, line {row + 2}: column '{value_header}' has a value that is not a number: "
            f"{quoted(raw[value_header].iloc[row])}"
        )
    finite = values[~missing]
    if not np.isfinite(finite.to_numpy(dtype="float64")).all():
        row = int(np.flatnonzero(~np.isfinite(values.to_numpy(dtype="float64")) & ~missing)[0])
        raise DataError(
            f"{path}, line {row + 2}: column '{value_header}' is not finite: "
            f"{quoted(raw[value_header].iloc[row])}"
        )
    dates = pd.to_datetime(raw[date_header].str.strip(), format="%Y-%m-%d", errors="coerce")
    if bool(dates.isna().any()):
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError(
            f"{path}, line {row + 2}: column '{date_header}' has a date that is not YYYY-MM-DD: "
            f"{quoted(raw[date_header].iloc[row])}"
        )
    series = pd.Series(
        values.to_numpy(dtype="float64"),
        index=pd.DatetimeIndex(dates, name="date").as_unit("ns"),
        name=name,
    )
    if series.index.has_duplicates:
        first = series.index[series.index.duplicated()][0]
        raise DataError(f"{path}: column '{date_header}' repeats {first.date()}")
    series = series[~missing.to_numpy()].sort_index()
    if series.empty:
        raise DataError(f"{path}: column '{value_header}' has no values")
    series.attrs = {"series_id": name, "source": "csv"}
    return series
