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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from comove._time import utc_naive_index
from comove.errors import ConfigError, DataError, DataWarning

AlignMode = Literal["daily", "synchronous"]
ALIGN_MODES: tuple[AlignMode, ...] = ("daily", "synchronous")


# The schedule cache: sessions and closes per calendar, built once over a broad span and
# kept on disk (keyed by the exchange_calendars version), since building a calendar object
# costs about a second per process. A request outside the cached span rebuilds a wider one.
_BROAD_START = pd.Timestamp("1990-01-01")
_AHEAD = pd.Timedelta(days=366)
_PAD = pd.Timedelta(days=14)


@dataclass(frozen=True)
class _Schedule:
    """Sessions (dates) and their UTC closes over ``start..end`` (both covered in full)."""

    sessions: np.ndarray
    closes: np.ndarray
    start: np.datetime64
    end: np.datetime64

    def covers(self, first: pd.Timestamp, last: pd.Timestamp) -> bool:
        return bool(self.start <= _ns(first) and _ns(last) <= self.end)


def _ns(moment: pd.Timestamp) -> np.datetime64:
    return np.datetime64(pd.Timestamp(moment).value, "ns")


_schedules: dict[str, _Schedule] = {}


def _calendars_version() -> str:
    """The installed exchange_calendars version, read from its dist-info folder's name
    (importlib.metadata costs about 20 ms to import; this, one directory listing)."""
    from importlib.util import find_spec

    spec = find_spec("exchange_calendars")
    if spec is not None and spec.origin is not None:
        found = sorted(Path(spec.origin).parent.parent.glob("exchange_calendars-*.dist-info"))
        if len(found) == 1:
            return found[0].name.removeprefix("exchange_calendars-").removesuffix(".dist-info")
    from importlib.metadata import version

    return version("exchange_calendars")


def _cache_file(name: str) -> Path:
    from comove.config import user_cache_dir

    safe = "".join(c if c.isalnum() else "_" for c in name)
    return user_cache_dir() / "calendars" / f"{safe}-{_calendars_version()}.npz"


def _read_cached(path: Path) -> _Schedule | None:
    try:
        with np.load(path, allow_pickle=False) as saved:
            return _Schedule(
                sessions=saved["sessions"].astype("datetime64[ns]"),
                closes=saved["closes"].astype("datetime64[ns]"),
                start=saved["span"][0].astype("datetime64[ns]"),
                end=saved["span"][1].astype("datetime64[ns]"),
            )
    except (OSError, ValueError, KeyError, IndexError, EOFError):
        return None  # missing or unreadable: rebuilt below


def _write_cached(path: Path, schedule: _Schedule) -> None:
    from comove.files import replace_atomically

    def write(target: Path) -> None:
        with target.open("wb") as out:
            np.savez(
                out,
                sessions=schedule.sessions.view("int64"),
                closes=schedule.closes.view("int64"),
                span=np.array([schedule.start, schedule.end])
                .astype("datetime64[ns]")
                .view("int64"),
            )

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(path, write)
    except OSError:
        pass  # a read-only cache only costs the next run a rebuild


def _build(name: str, first: pd.Timestamp, last: pd.Timestamp) -> _Schedule:
    import exchange_calendars as xcals

    with warnings.catch_warnings():
        # exchange_calendars trips pandas deprecations that are not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            factory = xcals.calendar_utils.global_calendar_dispatcher
            probe = factory.get_calendar(name, start="2000-01-03", end="2000-12-29")
        except xcals.errors.InvalidCalendarName:
            raise ConfigError(
                f"unknown exchange calendar {name!r} (e.g. XNYS, XNAS, XLON, XTKS)"
            ) from None
        bound_lo, bound_hi = probe.bound_min(), probe.bound_max()
        lo, hi = first.normalize(), last.normalize()
        if (bound_lo is not None and hi < pd.Timestamp(bound_lo).tz_localize(None)) or (
            bound_hi is not None and lo > pd.Timestamp(bound_hi).tz_localize(None)
        ):
            raise DataError(f"the data ({lo.date()} to {hi.date()}) is outside calendar {name}")
        # exchange_calendars refuses a span without sessions; the pad always holds some.
        lo, hi = lo - _PAD, hi + _PAD
        if bound_lo is not None:
            lo = max(lo, pd.Timestamp(bound_lo).tz_localize(None).normalize())
        if bound_hi is not None:
            hi = min(hi, pd.Timestamp(bound_hi).tz_localize(None).normalize())
        calendar = factory.get_calendar(
            name, start=lo.strftime("%Y-%m-%d"), end=hi.strftime("%Y-%m-%d")
        )
    closes = utc_naive_index(pd.DatetimeIndex(calendar.closes))
    return _Schedule(
        sessions=pd.DatetimeIndex(calendar.sessions).tz_localize(None).as_unit("ns").to_numpy(),
        closes=closes.as_unit("ns").to_numpy(),
        start=_ns(lo),
        end=_ns(hi),
    )


def _schedule(name: str, first: pd.Timestamp, last: pd.Timestamp) -> _Schedule:
    """The schedule of ``name`` covering ``first..last``: from memory, disk, or built."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    known = _schedules.get(name)
    if known is not None and known.covers(first, last):
        return known
    path = _cache_file(name)
    cached = _read_cached(path)
    if cached is None or not cached.covers(first, last):
        lo = min(first, _BROAD_START)
        hi = max(last, pd.Timestamp.now().normalize() + _AHEAD)
        if cached is not None:
            lo, hi = min(lo, pd.Timestamp(cached.start)), max(hi, pd.Timestamp(cached.end))
        cached = _build(name, lo, hi)
        if not cached.covers(first, last):
            # Clamped by the calendar's own bounds: build just the asked span (or fail on it).
            cached = _build(name, first, last)
        else:
            _write_cached(path, cached)
    _schedules[name] = cached
    return cached


def sessions(first: pd.Timestamp, last: pd.Timestamp, calendar: str = "XNYS") -> pd.DatetimeIndex:
    """Trading sessions of ``calendar`` from ``first`` to ``last`` inclusive (tz-naive dates)."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    found = _schedule(calendar, first, last).sessions
    lo = np.searchsorted(found, _ns(first), side="left")
    hi = np.searchsorted(found, _ns(last), side="right")
    return pd.DatetimeIndex(found[lo:hi], name="date")


def session_closes(sessions_index: pd.DatetimeIndex, calendar: str = "XNYS") -> pd.Series:
    """The UTC close time (tz-naive) of each session, including early closes."""
    schedule = _schedule(calendar, sessions_index[0], sessions_index[-1])
    wanted = pd.DatetimeIndex(sessions_index).as_unit("ns").to_numpy()
    at = np.searchsorted(schedule.sessions, wanted)
    at = np.minimum(at, len(schedule.sessions) - 1)
    found = schedule.sessions[at] == wanted
    closes = np.where(found, schedule.closes[at], np.datetime64("NaT", "ns"))
    return pd.Series(closes, index=sessions_index, name="close_utc")


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
