"""Putting 24/7 crypto bars onto equity sessions (exchange_calendars).

Two modes:

``daily``
    The crypto close of a session is the daily bar of that UTC date (its close is 00:00 UTC
    the next day, 3–4 hours after the New York close). Non-synchronous but what most data
    offers; the lag spreads some co-movement into the next session.
``synchronous``
    The crypto price is sampled at the session's actual close (16:00 America/New_York, or
    an early close, DST-aware) from hourly (or finer) crypto bars: the close of the last bar
    that ended at or before the equity close.

In both, returns run between consecutive aligned sessions, so weekend and holiday crypto
moves fold into the next session's return; equity prices are never forward-filled.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import pandas as pd

from comove._time import utc_naive_index
from comove.errors import ConfigError, DataError, DataWarning

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

AlignMode = Literal["daily", "synchronous"]
ALIGN_MODES: tuple[AlignMode, ...] = ("daily", "synchronous")


@lru_cache(maxsize=8)
def _calendar(name: str, start: str, end: str) -> ExchangeCalendar:
    import exchange_calendars as xcals

    try:
        with warnings.catch_warnings():
            # exchange_calendars trips pandas deprecations that are not ours to fix.
            warnings.simplefilter("ignore", DeprecationWarning)
            return xcals.get_calendar(name, start=start, end=end)
    except xcals.errors.InvalidCalendarName:
        raise ConfigError(
            f"unknown exchange calendar {name!r} (e.g. XNYS, XNAS, XLON, XTKS)"
        ) from None


def _bounded_calendar(name: str, first: pd.Timestamp, last: pd.Timestamp) -> ExchangeCalendar:
    """A calendar covering ``first..last``, padded so the span always holds sessions."""
    probe = _calendar(name, "2000-01-03", "2000-12-29")
    lo, hi = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
    bound_lo = probe.bound_min()
    bound_hi = probe.bound_max()
    if (bound_lo is not None and hi < pd.Timestamp(bound_lo).tz_localize(None)) or (
        bound_hi is not None and lo > pd.Timestamp(bound_hi).tz_localize(None)
    ):
        raise DataError(f"the data ({lo.date()} to {hi.date()}) is outside calendar {name}")
    # exchange_calendars refuses a one-day span or one without sessions; callers trim back.
    lo, hi = lo - pd.Timedelta(days=14), hi + pd.Timedelta(days=14)
    if bound_lo is not None:
        lo = max(lo, pd.Timestamp(bound_lo).tz_localize(None).normalize())
    if bound_hi is not None:
        hi = min(hi, pd.Timestamp(bound_hi).tz_localize(None).normalize())
    return _calendar(name, lo.strftime("%Y-%m-%d"), hi.strftime("%Y-%m-%d"))


def sessions(first: pd.Timestamp, last: pd.Timestamp, calendar: str = "XNYS") -> pd.DatetimeIndex:
    """Trading sessions of ``calendar`` from ``first`` to ``last`` inclusive (tz-naive dates)."""
    cal = _bounded_calendar(calendar, first, last)
    # The calendar's bounds snap to sessions; asking for a holiday as a bound would fail.
    found = pd.DatetimeIndex(cal.sessions, name="date").tz_localize(None)
    return found[(found >= first) & (found <= last)]


def session_closes(sessions_index: pd.DatetimeIndex, calendar: str = "XNYS") -> pd.Series:
    """The UTC close time (tz-naive) of each session, including early closes."""
    cal = _bounded_calendar(calendar, sessions_index[0], sessions_index[-1])
    closes = pd.DatetimeIndex(cal.closes.reindex(sessions_index))
    return pd.Series(utc_naive_index(closes), index=sessions_index, name="close_utc")


def _price_at(hourly: pd.DataFrame, moments: pd.Series) -> pd.Series:
    """Close of the last intraday bar that ended at or before each moment (within 2 hours)."""
    step = pd.Series(hourly.index).diff().median()
    ends = pd.DataFrame(
        {
            "end": pd.DatetimeIndex(hourly.index + step).as_unit("ns"),
            "price": hourly["close"].to_numpy(),
        }
    )
    wanted = pd.DataFrame(
        {"moment": pd.DatetimeIndex(moments.to_numpy()).as_unit("ns"), "date": moments.index}
    )
    merged = pd.merge_asof(
        wanted.sort_values("moment"),
        ends.sort_values("end"),
        left_on="moment",
        right_on="end",
        direction="backward",
        tolerance=pd.Timedelta(hours=2),
    )
    return pd.Series(merged["price"].to_numpy(), index=pd.DatetimeIndex(merged["date"]))


def align(
    crypto: pd.DataFrame,
    equity: pd.DataFrame,
    calendar: str = "XNYS",
    *,
    mode: AlignMode = "daily",
    crypto_intraday: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Put a crypto series and an equity series on the equity's trading sessions.

    Parameters
    ----------
    crypto, equity
        Bars frames (see :mod:`comove.data.bars`); daily crypto bars are UTC days.
    calendar
        exchange_calendars name of the equity's exchange.
    mode
        ``"daily"`` or ``"synchronous"`` (module docstring). Synchronous needs
        ``crypto_intraday``: hourly or finer crypto bars (bar open times, UTC).

    Returns
    -------
    DataFrame
        Index ``date`` (one row per session where both assets have a close), columns
        ``crypto_close, equity_close``; ``attrs["mode"]`` and ``attrs["calendar"]`` say how.

    Raises
    ------
    DataError
        The series do not overlap, or synchronous mode has no intraday bars.
    """
    if mode not in ALIGN_MODES:
        raise ConfigError(f"alignment mode must be one of {', '.join(ALIGN_MODES)}, got {mode!r}")
    if crypto.empty or equity.empty:
        raise DataError("cannot align: one of the series has no bars")
    for label, bars in (("crypto", crypto), ("equity", equity)):
        interval = bars.attrs.get("interval", "1d")
        if interval != "1d":
            raise DataError(
                f"{bars.attrs.get('source', label)}: {interval} bars given as the {label} series; "
                "daily bars are needed (hourly crypto goes to --crypto-hourly)"
            )
    first = max(crypto.index[0], equity.index[0])
    last = min(crypto.index[-1], equity.index[-1])
    if mode == "synchronous":
        if crypto_intraday is None or crypto_intraday.empty:
            raise DataError("synchronous alignment needs hourly crypto bars (--crypto-hourly)")
        first = max(equity.index[0], crypto_intraday.index[0].normalize())
        last = min(equity.index[-1], crypto_intraday.index[-1].normalize())
    if first > last:
        raise DataError(
            f"the series do not overlap: crypto {crypto.index[0].date()}..{crypto.index[-1].date()}, "
            f"equity {equity.index[0].date()}..{equity.index[-1].date()}"
        )
    valid_sessions = sessions(first, last, calendar)
    equity_dates = pd.DatetimeIndex(equity.index)
    in_span = equity_dates[(equity_dates >= first) & (equity_dates <= last)]
    off_calendar = in_span.difference(valid_sessions)
    if len(off_calendar):
        weekend = int((off_calendar.day_of_week >= 5).sum())
        hint = " - is this a crypto file?" if weekend else ""
        shown = ", ".join(d.strftime("%Y-%m-%d") for d in off_calendar[:3])
        warnings.warn(
            f"{equity.attrs.get('source', 'equity series')}: {len(off_calendar)} rows fall on days "
            f"that are not {calendar} sessions ({weekend} on weekends; first: {shown}); they are "
            f"ignored{hint}",
            DataWarning,
            stacklevel=2,
        )
    common = in_span.intersection(valid_sessions)
    equity_close = equity["close"].reindex(common)
    if mode == "daily":
        crypto_close = crypto["close"].reindex(common)
    else:
        assert crypto_intraday is not None
        crypto_close = _price_at(crypto_intraday, session_closes(common, calendar)).reindex(common)
    table = pd.DataFrame(
        {"crypto_close": crypto_close.to_numpy(), "equity_close": equity_close.to_numpy()},
        index=pd.DatetimeIndex(common, name="date"),
    ).dropna()
    if len(table) < 2:
        raise DataError(
            f"the series share fewer than two {calendar} sessions with both closes "
            f"({first.date()} to {last.date()})"
        )
    table.attrs = {"mode": mode, "calendar": calendar}
    return table
