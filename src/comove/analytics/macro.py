"""Macro liquidity composite and small-cap breadth, point-in-time (no look-ahead).

Every macro value is put on the equity sessions at the first session it could have been
used: FRED series are dated by *observation* period, not by release, so each series is
shifted by its publication rule (:data:`RELEASE_LAGS`) before anything is combined.

Rule, for every series: the observation is *published* on a publication day (a weekday
that is an XNYS session and not a US federal holiday; a publication that would fall on a
non-business day moves to the next business day), and it is *usable* from the first XNYS
session strictly after the publication day — publication times (8:30 ET NFCI, 16:15 ET
H.10, 16:30 ET H.4.1, FRED's next-day posting of daily series) are treated alike, which is
never earlier than the truth. A value stays current until a newer one becomes usable, and
goes stale (NaN) ``max_age_days`` calendar days after it became usable with nothing newer.

Only the vintage given is used: revisions (NFCI, DTWEXBGS) are not replayed, so values of
revised series are the latest vintage's figures at the original release dates.

Liquidity score
    ``net_liquidity`` = WALCL − WTREGEN − RRPONTSYD, each converted to millions of USD from
    its ``attrs["units"]`` and made point-in-time before combining. Six inputs —
    ``net_liquidity_chg_4w`` (20 sessions), ``net_liquidity_chg_13w`` (65 sessions),
    ``dgs2_chg_20``, ``nfci``, ``hy_spread`` and ``dollar_chg_20`` — are each z-scored with
    only the sessions up to and including the current one (expanding, or rolling
    ``zscore_window`` sessions; at least ``min_history`` values), clipped to ±3, and signed so
    that positive means supportive of risk assets. Those are the ``contrib_<input>`` columns;
    ``liquidity_score`` is their equal-weight mean over the inputs available that session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from comove.data.calendar import sessions as exchange_sessions
from comove.errors import DataError

CALENDAR = "XNYS"
Z_CLIP = 3.0


@dataclass(frozen=True)
class ReleaseLag:
    """How and when one FRED series becomes public.

    Attributes
    ----------
    series_id
        FRED series id.
    description
        What the series measures.
    frequency
        ``"daily"`` or ``"weekly"``.
    observation
        The date convention of an observation.
    publication
        When the source publishes it (documentation).
    rule
        ``"next_business_day"``: published the first business day after the observation date;
        ``"weekday"``: published on the first ``weekday`` strictly after the observation date.
    weekday
        Day of the week for ``rule="weekday"`` (Monday = 0).
    max_age_days
        Calendar days after becoming usable beyond which a value with no successor is stale.
    usable
        The resulting first usable session, in words.
    units
        The units the score expects (money series are converted to millions).
    """

    series_id: str
    description: str
    frequency: Literal["daily", "weekly"]
    observation: str
    publication: str
    rule: Literal["next_business_day", "weekday"]
    weekday: int | None
    max_age_days: int
    usable: str
    units: str


_H41 = "H.4.1, Thursday 16:30 ET (a holiday moves it to the next business day)"
_H41_USABLE = "Friday's session (Monday's when Thursday is a holiday)"
_DAILY_USABLE = "two sessions later (Friday's value on Tuesday)"

RELEASE_LAGS: dict[str, ReleaseLag] = {
    lag.series_id: lag
    for lag in (
        ReleaseLag(
            "WALCL",
            "Fed total assets",
            "weekly",
            "Wednesday level",
            _H41,
            "weekday",
            3,
            21,
            _H41_USABLE,
            "millions or billions of USD (converted to millions)",
        ),
        ReleaseLag(
            "WTREGEN",
            "Treasury General Account",
            "weekly",
            "week average ending Wednesday, dated Wednesday",
            _H41,
            "weekday",
            3,
            21,
            _H41_USABLE,
            "millions or billions of USD (converted to millions)",
        ),
        ReleaseLag(
            "RRPONTSYD",
            "overnight reverse repo",
            "daily",
            "operation date",
            "FRED, next business day",
            "next_business_day",
            None,
            10,
            _DAILY_USABLE,
            "millions or billions of USD (converted to millions)",
        ),
        ReleaseLag(
            "DGS2",
            "2-year Treasury yield",
            "daily",
            "market date",
            "H.15 / FRED, next business day",
            "next_business_day",
            None,
            10,
            _DAILY_USABLE,
            "percent",
        ),
        ReleaseLag(
            "NFCI",
            "Chicago Fed National Financial Conditions Index",
            "weekly",
            "week ending Friday, dated Friday",
            "Chicago Fed, Wednesday 8:30 ET after the week",
            "weekday",
            2,
            21,
            "Thursday after the release (6 days after the Friday date)",
            "index (0 = average, positive = tighter)",
        ),
        ReleaseLag(
            "BAMLH0A0HYM2",
            "ICE BofA US high-yield option-adjusted spread",
            "daily",
            "market date",
            "FRED, next business day",
            "next_business_day",
            None,
            10,
            _DAILY_USABLE,
            "percent",
        ),
        ReleaseLag(
            "DTWEXBGS",
            "Nominal broad U.S. dollar index",
            "daily",
            "market date",
            "H.10, weekly on Monday 16:15 ET with the prior week's days",
            "weekday",
            0,
            21,
            "Tuesday after the Monday release (4 to 8 days after the observation)",
            "index, Jan 2006 = 100",
        ),
    )
}

#: The score's inputs: column → +1 when a rise supports risk assets, −1 when it hurts them.
SCORE_INPUTS: dict[str, float] = {
    "net_liquidity_chg_4w": 1.0,
    "net_liquidity_chg_13w": 1.0,
    "dgs2_chg_20": -1.0,
    "nfci": -1.0,
    "hy_spread": -1.0,
    "dollar_chg_20": -1.0,
}

MACRO_COLUMNS: tuple[str, ...] = (
    "net_liquidity",
    "net_liquidity_chg_4w",
    "net_liquidity_chg_13w",
    "dgs2_chg_20",
    "nfci",
    "hy_spread",
    "dollar",
    "dollar_chg_20",
    *(f"contrib_{name}" for name in SCORE_INPUTS),
    "liquidity_score",
)

BREADTH_COLUMNS: tuple[str, ...] = (
    "breadth",
    "breadth_above_50",
    "breadth_chg_20",
    "breadth_falling",
    "ew_cw_ratio",
    "ew_cw_chg_20",
)

_NET_LIQUIDITY_IDS = ("WALCL", "WTREGEN", "RRPONTSYD")
_UNIT_SCALE = {"thousands": 1e-3, "millions": 1.0, "billions": 1e3, "trillions": 1e6}
_UNIT_ALIASES = {
    "thous.": "thousands",
    "mil.": "millions",
    "bil.": "billions",
    "tril.": "trillions",
}
_DOLLAR_WORDS = {
    "of u.s. dollars",
    "of us dollars",
    "of dollars",
    "of u.s. $",
    "of us $",
    "of $",
    "u.s. dollars",
    "dollars",
    "usd",
}


def release_lag_markdown() -> str:
    """The release-lag table as Markdown (what the README prints)."""
    lines = [
        "| series | what | frequency | observation | published | usable from | stale after |",
        "|---|---|---|---|---|---|---|",
    ]
    for lag in RELEASE_LAGS.values():
        lines.append(
            f"| {lag.series_id} | {lag.description} | {lag.frequency} | {lag.observation} "
            f"| {lag.publication} | {lag.usable} | {lag.max_age_days} days |"
        )
    return "\n".join(lines)


def _lag(series_id: str) -> ReleaseLag:
    try:
        return RELEASE_LAGS[series_id]
    except KeyError:
        known = ", ".join(RELEASE_LAGS)
        raise DataError(
            f"no release lag is known for series {series_id!r} (known: {known})"
        ) from None


def _dates(index: pd.Index, what: str) -> pd.DatetimeIndex:
    """Tz-naive midnight dates (in ns) from a date-like index."""
    try:
        dates = pd.DatetimeIndex(index)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: the index is not made of dates") from exc
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    # Rebuilt from values so a ``freq`` does not leak into (and differ between) outputs.
    return pd.DatetimeIndex(dates.normalize().as_unit("ns").to_numpy())


def _session_index(sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The output index: the sessions as tz-naive dates named ``date``, increasing, unique."""
    index = pd.DatetimeIndex(_dates(pd.Index(sessions), "sessions"), name="date")
    if not index.is_monotonic_increasing or index.has_duplicates or index.hasnans:
        raise DataError("sessions must be increasing, unique dates")
    return index


def _session_span(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """XNYS sessions over whole calendar years (so the calendar cache is reused)."""
    lo = pd.Timestamp(year=first.year, month=1, day=1)
    hi = pd.Timestamp(year=last.year + 1, month=12, day=31)
    return pd.DatetimeIndex(exchange_sessions(lo, hi, CALENDAR)).as_unit("ns")


def _business_days(span: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Publication days: XNYS sessions that are not US federal holidays."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    holidays = USFederalHolidayCalendar().holidays(span[0], span[-1])
    return span[~span.isin(pd.DatetimeIndex(holidays).as_unit("ns"))]


def available_from(series_id: str, observation_dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """First XNYS session at which each observation may be used.

    Parameters
    ----------
    series_id
        A FRED series id listed in :data:`RELEASE_LAGS`.
    observation_dates
        Observation dates as FRED stamps them (any order).

    Returns
    -------
    DatetimeIndex
        Same length and order as ``observation_dates``: the session after the publication
        day (module docstring); NaT where the calendar does not reach that far.

    Raises
    ------
    DataError
        The series id has no release rule.
    """
    lag = _lag(series_id)
    dates = _dates(pd.Index(observation_dates), series_id)
    if len(dates) == 0:
        return pd.DatetimeIndex([], dtype="datetime64[ns]", name="available_from")
    valid = np.asarray(dates.notna())
    if not valid.any():
        return pd.DatetimeIndex(
            [pd.NaT] * len(dates), dtype="datetime64[ns]", name="available_from"
        )
    span = _session_span(dates[valid].min(), dates[valid].max())
    business = _business_days(span)
    dates = dates.where(valid, dates[valid][0])  # placeholders, masked out below
    if lag.rule == "next_business_day":
        nominal = dates + pd.Timedelta(days=1)
    else:
        assert lag.weekday is not None
        ahead = (lag.weekday - dates.day_of_week - 1) % 7 + 1
        nominal = dates + pd.to_timedelta(np.asarray(ahead, dtype="int64"), unit="D")
    nominal_ns = nominal.asi8
    business_ns = business.asi8
    span_ns = span.asi8
    out = np.full(len(dates), np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    pub_pos = np.searchsorted(business_ns, nominal_ns, side="left")
    has_pub = valid & (pub_pos < len(business_ns))
    published = business_ns[np.minimum(pub_pos, len(business_ns) - 1)]
    use_pos = np.searchsorted(span_ns, published, side="right")
    ok = has_pub & (use_pos < len(span_ns))
    out[ok] = span_ns[use_pos[ok]].astype("datetime64[ns]")
    return pd.DatetimeIndex(out, name="available_from")


def to_millions(series: pd.Series) -> pd.Series:
    """A money series in millions of U.S. dollars, from the units in ``attrs["units"]``.

    Accepts FRED's unit labels ("Millions of U.S. Dollars", "Billions of U.S. Dollars",
    their short forms "Mil. of U.S. $", "Bil. of U.S. $", and thousands/trillions).

    Raises
    ------
    DataError
        The units are missing or not a dollar amount this function knows; the message names
        the series and its units.
    """
    units = series.attrs.get("units")
    label = " ".join(str(units).strip().lower().split()) if units is not None else ""
    scale: float | None = None
    for word, factor in _UNIT_SCALE.items():
        for alias in [word, *(a for a, w in _UNIT_ALIASES.items() if w == word)]:
            if label.startswith(alias) and label[len(alias) :].strip() in _DOLLAR_WORDS:
                scale = factor
    if scale is None:
        name = series.name if series.name is not None else "unnamed series"
        raise DataError(
            f"series {name}: cannot convert units {units!r} to millions of U.S. dollars "
            "(expected millions or billions of U.S. dollars in attrs['units'])"
        )
    out = series.astype("float64") * scale
    out.attrs = {**series.attrs, "units": "Millions of U.S. Dollars"}
    return out


def _clean(series: pd.Series, series_id: str) -> pd.Series:
    """Float values by tz-naive observation date, sorted, missing values dropped."""
    try:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"series {series_id}: values are not numbers") from exc
    out = pd.Series(values, index=_dates(series.index, f"series {series_id}"))
    out = out[out.index.notna() & np.isfinite(values)].sort_index()
    if out.index.has_duplicates:
        first = out.index[out.index.duplicated()][0]
        raise DataError(f"series {series_id}: duplicate observation date {first.date()}")
    return out


def point_in_time(series: pd.Series, sessions: pd.DatetimeIndex, series_id: str) -> pd.Series:
    """The value of a FRED series known at each session's close.

    Parameters
    ----------
    series
        Observations indexed by observation date (missing values are skipped).
    sessions
        Equity sessions to put the values on.
    series_id
        Which release rule applies (:data:`RELEASE_LAGS`).

    Returns
    -------
    Series
        Indexed like ``sessions`` (name ``date``): at each session the latest observation whose
        :func:`available_from` session is on or before it; NaN before the first one is public
        and once the newest is older than the rule's ``max_age_days``.
    """
    lag = _lag(series_id)
    index = _session_index(sessions)
    out = np.full(len(index), np.nan)
    clean = _clean(series, series_id)
    if len(index):
        # Observations after the last session cannot be usable yet; those long before the
        # first only matter through the latest of them. Trimming keeps one calendar span.
        lookback = pd.Timedelta(days=lag.max_age_days + 31)
        clean = clean[(clean.index >= index[0] - lookback) & (clean.index <= index[-1])]
    if len(clean) and len(index):
        usable = available_from(series_id, pd.DatetimeIndex(clean.index)).asi8
        # NaT (beyond the calendar) sorts as never usable.
        usable = np.where(usable == np.iinfo(np.int64).min, np.iinfo(np.int64).max, usable)
        # The rules are monotone in the observation date, so the last usable is the latest.
        usable = np.maximum.accumulate(usable)
        pos = np.searchsorted(usable, index.asi8, side="right") - 1
        has = pos >= 0
        picked = np.maximum(pos, 0)
        since = np.where(has, usable[picked], index.asi8)
        fresh = has & (index.asi8 - since <= pd.Timedelta(days=lag.max_age_days).value)
        out[fresh] = clean.to_numpy()[picked[fresh]]
    result = pd.Series(out, index=index, name=series_id)
    result.attrs = {"series_id": series_id}
    return result


def _expanding_z(values: pd.Series, window: int | None, min_history: int) -> pd.Series:
    """z-score of each value against the values up to and including it (NaNs skipped)."""
    if window is None:
        mean = values.expanding(min_periods=min_history).mean()
        std = values.expanding(min_periods=min_history).std(ddof=1)
    else:
        mean = values.rolling(window, min_periods=min_history).mean()
        std = values.rolling(window, min_periods=min_history).std(ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = ((values - mean) / std.where(std > 0)).to_numpy(dtype="float64", copy=True)
    z[~np.isfinite(z)] = np.nan
    return pd.Series(z, index=values.index)


def _change(values: pd.Series, periods: int) -> pd.Series:
    return values - values.shift(periods)


def macro_frame(
    series: Mapping[str, pd.Series],
    sessions: pd.DatetimeIndex,
    *,
    zscore_window: int | None = None,
    min_history: int = 252,
) -> pd.DataFrame:
    """The point-in-time macro liquidity table on equity sessions.

    Parameters
    ----------
    series
        FRED series by id (``WALCL``, ``WTREGEN``, ``RRPONTSYD``, ``DGS2``, ``NFCI``,
        ``BAMLH0A0HYM2``, ``DTWEXBGS``), each indexed by observation date; the three money
        series carry ``attrs["units"]``. Any may be absent; other keys are ignored.
    sessions
        The equity sessions of the analysis. Each input is standardised over every stored
        observation before them too (past-only at every session), so the score needs no
        warm-up inside the analysis when the series reach back further than the pair.
    zscore_window
        Rolling standardisation window in sessions; ``None`` (default) for expanding.
    min_history
        Values needed before a z-score is given.

    Returns
    -------
    DataFrame
        Index ``date`` = ``sessions``, columns :data:`MACRO_COLUMNS`:
        ``net_liquidity`` (millions of USD), ``net_liquidity_chg_4w`` /
        ``net_liquidity_chg_13w`` (its change over 20 / 65 sessions, millions),
        ``dgs2_chg_20`` (2-year yield change over 20 sessions, percentage points), ``nfci``,
        ``hy_spread`` (percent), ``dollar`` (broad dollar index), ``dollar_chg_20`` (its
        relative change over 20 sessions), ``contrib_<input>`` for each of
        :data:`SCORE_INPUTS` (signed, clipped z-score) and ``liquidity_score`` (mean of the
        available contributions). ``attrs["notes"]`` lists missing inputs.

    Raises
    ------
    DataError
        A money series has unknown units, a series is malformed, or the window settings are
        invalid. Missing series never raise: their columns are NaN.
    """
    if int(min_history) != min_history or min_history < 2:
        raise DataError(f"min_history must be an integer of at least 2, got {min_history}")
    if zscore_window is not None and (
        int(zscore_window) != zscore_window or zscore_window < min_history
    ):
        raise DataError(
            f"zscore_window ({zscore_window}) must be an integer of at least "
            f"min_history ({min_history})"
        )
    shown = _session_index(sessions)
    index = _with_history(series, shown)
    notes: list[str] = []
    nan = pd.Series(np.nan, index=index, dtype="float64")

    def known(series_id: str) -> pd.Series | None:
        raw = series.get(series_id)
        if raw is None or raw.dropna().empty:
            return None
        return raw

    def pit(series_id: str, what: str) -> pd.Series:
        raw = known(series_id)
        if raw is None:
            notes.append(f"{series_id} ({what}) is missing: its columns are empty")
            return nan
        return point_in_time(raw, index, series_id)

    missing_money = [sid for sid in _NET_LIQUIDITY_IDS if known(sid) is None]
    if missing_money:
        notes.append(
            f"net liquidity needs WALCL, WTREGEN and RRPONTSYD; missing {', '.join(missing_money)}"
        )
        net = nan
    else:
        parts = [point_in_time(to_millions(series[sid]), index, sid) for sid in _NET_LIQUIDITY_IDS]
        net = parts[0] - parts[1] - parts[2]
    dgs2 = pit("DGS2", "2-year yield")
    nfci = pit("NFCI", "financial conditions")
    hy = pit("BAMLH0A0HYM2", "high-yield spread")
    dollar = pit("DTWEXBGS", "broad dollar")

    frame = pd.DataFrame(index=index)
    frame["net_liquidity"] = net
    frame["net_liquidity_chg_4w"] = _change(net, 20)
    frame["net_liquidity_chg_13w"] = _change(net, 65)
    frame["dgs2_chg_20"] = _change(dgs2, 20)
    frame["nfci"] = nfci
    frame["hy_spread"] = hy
    frame["dollar"] = dollar
    frame["dollar_chg_20"] = dollar / dollar.shift(20) - 1.0
    for name, sign in SCORE_INPUTS.items():
        z = _expanding_z(frame[name], zscore_window, int(min_history))
        frame[f"contrib_{name}"] = (sign * z).clip(-Z_CLIP, Z_CLIP)
    contribs = frame[[f"contrib_{name}" for name in SCORE_INPUTS]]
    frame["liquidity_score"] = contribs.mean(axis=1, skipna=True)
    frame = frame.loc[shown, list(MACRO_COLUMNS)].astype("float64")
    frame.index.name = "date"
    frame.attrs = {"notes": notes}
    return frame


def _with_history(series: Mapping[str, pd.Series], shown: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """``shown`` preceded by the XNYS sessions back to the earliest observation given, so
    each input is standardised over its whole history (still past-only at every session)."""
    firsts = [
        _dates(values.dropna().index, str(sid)).min()
        for sid, values in series.items()
        if sid in RELEASE_LAGS and len(values.dropna())
    ]
    if not firsts or len(shown) == 0 or min(firsts) >= shown[0]:
        return shown
    before = exchange_sessions(min(firsts), shown[0] - pd.Timedelta(days=1), CALENDAR)
    return pd.DatetimeIndex(before.as_unit("ns").append(shown), name="date")


def closes_on(close: pd.Series, index: pd.DatetimeIndex, what: str) -> pd.Series:
    """Positive closes on the sessions (no forward fill), NaN elsewhere; ``what`` names them in
    errors."""
    try:
        values = close.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: closes are not numbers") from exc
    dates = _dates(close.index, what)
    if dates.has_duplicates:
        raise DataError(f"{what}: duplicate date {dates[dates.duplicated()][0].date()}")
    own = pd.Series(np.where(values > 0, values, np.nan), index=dates)
    return own.reindex(index)


def _rebased_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    ratio = numerator / denominator
    valid = ratio.dropna()
    if valid.empty:
        return ratio
    return ratio / float(valid.iloc[0]) * 100.0


def breadth_frame(
    small_caps: pd.Series,
    large_caps: pd.Series,
    sessions: pd.DatetimeIndex,
    *,
    equal_weight: pd.Series | None = None,
    cap_weight: pd.Series | None = None,
) -> pd.DataFrame:
    """Small-cap relative strength (breadth) on equity sessions.

    Parameters
    ----------
    small_caps, large_caps
        Closes of the small-cap index (Russell 2000 or IWM) and the large-cap one (S&P 500
        or SPY), indexed by session date. Prices are never forward-filled.
    sessions
        The sessions of the analysis.
    equal_weight, cap_weight
        Optional closes of an equal-weight and a cap-weight S&P 500 (RSP and SPY).

    Returns
    -------
    DataFrame
        Index ``date`` = ``sessions``, columns :data:`BREADTH_COLUMNS`:

        ``breadth``
            ``100 × (small_t / large_t) / (small_0 / large_0)``: the small/large close ratio
            rebased to 100 at the first session where both closes exist.
        ``breadth_above_50``
            1.0 when ``breadth`` is above its mean over the last 50 sessions (current
            included), 0.0 otherwise; NaN until 50 consecutive ratios exist.
        ``breadth_chg_20``
            ``breadth_t / breadth_{t−20} − 1``: small caps' performance relative to large
            caps over 20 sessions.
        ``breadth_falling``
            1.0 when ``breadth_chg_20 < 0``, 0.0 when ≥ 0, NaN when it is NaN.
        ``ew_cw_ratio``, ``ew_cw_chg_20``
            The same rebased ratio and 20-session change for equal-weight over cap-weight;
            NaN when those series are not given (a note in ``attrs["notes"]``).
    """
    index = _session_index(sessions)
    notes: list[str] = []
    breadth = _rebased_ratio(
        closes_on(small_caps, index, "small caps"), closes_on(large_caps, index, "large caps")
    )
    sma50 = breadth.rolling(50, min_periods=50).mean()
    above = pd.Series(np.where(breadth > sma50, 1.0, 0.0), index=index).where(sma50.notna())
    chg = breadth / breadth.shift(20) - 1.0
    falling = pd.Series(np.where(chg < 0, 1.0, 0.0), index=index).where(chg.notna())
    if equal_weight is not None and cap_weight is not None:
        ew_cw = _rebased_ratio(
            closes_on(equal_weight, index, "equal weight"),
            closes_on(cap_weight, index, "cap weight"),
        )
    else:
        notes.append("equal-weight / cap-weight closes not given: ew_cw columns are empty")
        ew_cw = pd.Series(np.nan, index=index)
    frame = pd.DataFrame(
        {
            "breadth": breadth,
            "breadth_above_50": above,
            "breadth_chg_20": chg,
            "breadth_falling": falling,
            "ew_cw_ratio": ew_cw,
            "ew_cw_chg_20": ew_cw / ew_cw.shift(20) - 1.0,
        },
        index=index,
    ).astype("float64")
    frame.attrs = {"notes": notes}
    return frame
