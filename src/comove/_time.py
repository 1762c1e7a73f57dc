"""Time helpers every layer shares: UTC-naive stamps, the clock, bar interval lengths.

comove stores and compares times as tz-naive UTC ``Timestamp`` values (daily bars at
midnight); anything tz-aware is converted at the boundary with :func:`utc_naive`.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from comove.errors import DataError

_INTERVAL = re.compile(r"(\d+)\s*(m|min|h|d|w)")
_UNITS: dict[str, Any] = {"m": "min", "min": "min", "h": "h", "d": "D", "w": "W"}


def utc_naive(when: Any) -> pd.Timestamp:
    """A date or time (text, datetime, Timestamp) as a tz-naive UTC ``Timestamp``."""
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def utc_naive_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """A DatetimeIndex in tz-naive UTC (tz-naive input is taken to be UTC already)."""
    return index if index.tz is None else index.tz_convert("UTC").tz_localize(None)


def utc_naive_or_none(when: Any) -> pd.Timestamp | None:
    """:func:`utc_naive`, passing ``None`` through."""
    return None if when is None else utc_naive(when)


def utc_aware(when: Any) -> pd.Timestamp:
    """A time as a tz-aware UTC ``Timestamp`` (tz-naive input is taken to be UTC)."""
    stamp = pd.Timestamp(when)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def now_utc() -> pd.Timestamp:
    """The current time, tz-naive UTC."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def interval_step(interval: str) -> pd.Timedelta:
    """``"1d"`` -> one day, ``"4h"`` -> four hours, ``"15m"`` -> 15 minutes, ``"1w"`` -> a week.

    Raises
    ------
    DataError
        Not an interval comove knows.
    """
    match = _INTERVAL.fullmatch(str(interval).strip().lower())
    if not match or int(match.group(1)) == 0:
        raise DataError(f"unknown bar interval {interval!r} (expected e.g. 1d, 1h, 15m)")
    return pd.Timedelta(int(match.group(1)), unit=_UNITS[match.group(2)])
