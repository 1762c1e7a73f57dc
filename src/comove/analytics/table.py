"""The analytic columns of the analysis table: one row per aligned session.

Returns, rolling correlation with Fisher bands and beta per window, momentum, relative
volume, the liquidity score and breadth. The signal columns are added by the pipeline
(:mod:`comove.pipeline.analysis`), which also cuts the rows to ``since``/``until``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from comove import config
from comove.analytics.correlation import fisher_ci, rolling_corr_beta
from comove.analytics.macro import BREADTH_COLUMNS, MACRO_COLUMNS, breadth_frame, macro_frame
from comove.analytics.momentum import macd, relative_volume, rsi
from comove.analytics.returns import log_returns, rebase
from comove.data.calendar import AlignMode, align
from comove.errors import DataError

DEFAULT_WINDOWS = (30, 60, 90)


def analytic_columns(windows: Sequence[int]) -> list[str]:
    """The analytic columns of the analysis table, in order, for the given windows."""
    columns = [
        "crypto_close", "equity_close", "crypto_ret", "equity_ret", "crypto_norm", "equity_norm",
    ]  # fmt: skip
    for w in windows:
        columns += [f"corr_{w}", f"corr_{w}_lo", f"corr_{w}_hi", f"beta_{w}"]
    columns += [
        "rsi_crypto", "rsi_equity",
        "macd_crypto", "macd_signal_crypto", "macd_hist_crypto",
        "macd_equity", "macd_signal_equity", "macd_hist_equity",
        "relvol_crypto", "relvol_equity",
        "liquidity_score", "breadth",
    ]  # fmt: skip
    return columns


def check_windows(windows: Sequence[int], available: int | None = None) -> tuple[int, ...]:
    """Validate correlation windows (:func:`comove.config.check_windows`) against the data."""
    checked = config.check_windows(list(windows))
    for w in checked:
        if available is not None and w > available:
            raise DataError(
                f"window {w} is longer than the data: only {available} aligned session returns"
            )
    return checked


def _usable_volume(bars: pd.DataFrame) -> bool:
    volume = bars["volume"]
    return bool(volume.notna().any() and (volume.fillna(0) > 0).any())


def _momentum(
    bars: pd.DataFrame,
    sessions: pd.DatetimeIndex,
    rsi_period: int,
    macd_periods: tuple[int, int, int],
    volume_window: int,
    *,
    known_a_day_later: bool = False,
) -> pd.DataFrame:
    """Indicators on the asset's own bars (as its chart shows them), sampled onto sessions.

    ``known_a_day_later``: a bar dated d is only complete at the end of d (crypto's UTC day
    ends after the New York close), so session d uses the bar of d - 1 — needed when the
    session's crypto price is taken at the equity close (synchronous mode).
    """
    close = bars["close"]
    lines = macd(close, *macd_periods)
    own = pd.DataFrame(
        {
            "rsi": rsi(close, rsi_period),
            "macd": lines["macd"],
            "signal": lines["signal"],
            "hist": lines["hist"],
            "relvol": relative_volume(bars["volume"], volume_window)
            if _usable_volume(bars)
            else np.nan,
        },
        index=bars.index,
    )
    if known_a_day_later:
        own.index = own.index + pd.Timedelta(days=1)
    return own.reindex(sessions)


def _as_date(name: str, value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise DataError(f"--{name} {value!r} is not a date (expected YYYY-MM-DD)") from None
    if pd.isna(stamp):
        raise DataError(f"--{name} {value!r} is not a date (expected YYYY-MM-DD)")
    return stamp


@dataclass(frozen=True)
class AnalyticFrames:
    """The analytic columns over the whole aligned history, and the frames behind the last two.

    ``table`` has :func:`analytic_columns`; ``macro`` and ``breadth`` cover the same rows
    (see :func:`comove.analytics.macro.macro_frame` and
    :func:`~comove.analytics.macro.breadth_frame`); ``notes`` lists what was left out.
    """

    table: pd.DataFrame
    macro: pd.DataFrame
    breadth: pd.DataFrame
    notes: list[str]


def analytic_frames(
    crypto: pd.DataFrame,
    equity: pd.DataFrame,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    *,
    calendar: str = "XNYS",
    mode: AlignMode = "daily",
    crypto_intraday: pd.DataFrame | None = None,
    rsi_period: int = 14,
    macd_periods: tuple[int, int, int] = (12, 26, 9),
    volume_window: int = 20,
    macro: Mapping[str, pd.Series] | None = None,
    large_caps: pd.DataFrame | None = None,
) -> AnalyticFrames:
    """Every analytic column of a crypto / equity pair, on all aligned sessions.

    Parameters
    ----------
    crypto, equity
        Bars frames, e.g. from :func:`comove.read_bars`.
    windows
        Rolling correlation/beta windows in aligned sessions.
    calendar, mode, crypto_intraday
        How the crypto series is put on equity sessions (see :func:`comove.align`).
    rsi_period, macd_periods, volume_window
        Momentum settings; RSI and MACD run on each asset's own bars (crypto on every day,
        equity on its sessions) and are then sampled onto the aligned sessions.
    macro
        FRED series by id with ``attrs["units"]``; each is used only from the session after
        its release. Without them ``liquidity_score`` is NaN.
    large_caps
        S&P 500 (or SPY) bars for ``breadth``; NaN without.
    """
    aligned = align(crypto, equity, calendar, mode=mode, crypto_intraday=crypto_intraday)
    windows = check_windows(windows, available=len(aligned) - 1)
    sessions = pd.DatetimeIndex(aligned.index)
    crypto_ret = log_returns(aligned["crypto_close"])
    equity_ret = log_returns(aligned["equity_close"])
    columns: dict[str, pd.Series | np.ndarray] = {
        "crypto_close": aligned["crypto_close"],
        "equity_close": aligned["equity_close"],
        "crypto_ret": crypto_ret,
        "equity_ret": equity_ret,
    }
    for w in windows:
        corr, beta = rolling_corr_beta(crypto_ret, equity_ret, w)
        columns[f"corr_{w}"] = corr
        columns[f"corr_{w}_lo"], columns[f"corr_{w}_hi"] = fisher_ci(corr, w)
        columns[f"beta_{w}"] = beta
    notes: list[str] = []
    for label, bars in (("crypto", crypto), ("equity", equity)):
        indicators = _momentum(
            bars, sessions, rsi_period, macd_periods, volume_window,
            known_a_day_later=label == "crypto" and mode == "synchronous",
        )  # fmt: skip
        columns[f"rsi_{label}"] = indicators["rsi"]
        columns[f"macd_{label}"] = indicators["macd"]
        columns[f"macd_signal_{label}"] = indicators["signal"]
        columns[f"macd_hist_{label}"] = indicators["hist"]
        columns[f"relvol_{label}"] = indicators["relvol"]
        if not _usable_volume(bars):
            notes.append(
                f"relative volume left out for {bars.attrs.get('name', label)}: "
                "its volume is missing or all zero"
            )
    if macro:
        macro_table = macro_frame(macro, sessions)
        notes.extend(macro_table.attrs.get("notes", []))
    else:
        macro_table = pd.DataFrame(np.nan, index=sessions, columns=list(MACRO_COLUMNS))
        notes.append("no macro data: liquidity_score left empty")
    if large_caps is not None and not large_caps.empty:
        breadth_table = breadth_frame(equity["close"], large_caps["close"], sessions)
    else:
        breadth_table = pd.DataFrame(np.nan, index=sessions, columns=list(BREADTH_COLUMNS))
        notes.append("no S&P 500 data: breadth left empty")
    columns["liquidity_score"] = macro_table["liquidity_score"]
    columns["breadth"] = breadth_table["breadth"]
    full = pd.DataFrame(columns, index=sessions)
    full = full.assign(
        crypto_norm=rebase(full["crypto_close"]), equity_norm=rebase(full["equity_close"])
    )[analytic_columns(windows)].astype("float64")
    full.index.name = "date"
    full.attrs = {
        "mode": aligned.attrs["mode"],
        "calendar": calendar,
        "windows": list(windows),
        "crypto_name": crypto.attrs.get("name", "crypto"),
        "equity_name": equity.attrs.get("name", "equity"),
        "crypto_source": crypto.attrs.get("source", ""),
        "equity_source": equity.attrs.get("source", ""),
        "synthetic": bool(crypto.attrs.get("synthetic") or equity.attrs.get("synthetic")),
        "notes": notes,
    }
    return AnalyticFrames(full, macro_table, breadth_table, notes)


def span(
    table: pd.DataFrame,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The rows from ``since`` to ``until`` (inclusive), the overlay rebased on the first.

    Raises
    ------
    DataError
        A bound is not a date, ``since`` is after ``until``, or no session lies between.
    """
    start, end = _as_date("since", since), _as_date("until", until)
    if start is not None and end is not None and start > end:
        raise DataError(f"--since {start.date()} is after --until {end.date()}")
    shown = table.loc[start:end]
    if shown.empty:
        raise DataError(
            f"no aligned sessions between {start.date() if start else 'the start'} and "
            f"{end.date() if end else 'the end'} (data spans {table.index[0].date()} to "
            f"{table.index[-1].date()})"
        )
    if start is None and end is None:
        return shown
    rebased = shown.assign(
        crypto_norm=rebase(shown["crypto_close"]), equity_norm=rebase(shown["equity_close"])
    )
    rebased.attrs = dict(table.attrs)
    return rebased
