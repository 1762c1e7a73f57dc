"""The analysis table: one row per aligned session, the columns DESIGN.md promises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from comove.analytics.correlation import fisher_ci, rolling_corr_beta
from comove.analytics.macro import BREADTH_COLUMNS, MACRO_COLUMNS, breadth_frame, macro_frame
from comove.analytics.momentum import macd, relative_volume, rsi
from comove.analytics.returns import log_returns, rebase
from comove.data.calendar import AlignMode, align
from comove.errors import DataError
from comove.signals.rules import SignalResult, evaluate_signals

DEFAULT_WINDOWS = (30, 60, 90)
SIGNAL_COLUMNS = (
    "signal_synchronized_breakout", "signal_risk_off_alignment", "signal_decoupling", "stance",
)  # fmt: skip
MIN_WINDOW = 3


def table_columns(windows: Sequence[int]) -> list[str]:
    """The analysis table's columns, in order, for the given correlation windows."""
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
        *SIGNAL_COLUMNS,
    ]  # fmt: skip
    return columns


def check_windows(windows: Sequence[int], available: int | None = None) -> tuple[int, ...]:
    """Validate correlation windows: integers of at least 3 that fit in the data."""
    checked: list[int] = []
    for w in windows:
        if isinstance(w, bool) or int(w) != w or w < MIN_WINDOW:
            raise DataError(
                f"window {w} is invalid: windows are whole sessions, at least {MIN_WINDOW}"
            )
        if available is not None and w > available:
            raise DataError(
                f"window {w} is longer than the data: only {available} aligned session returns"
            )
        checked.append(int(w))
    if not checked:
        raise DataError("at least one correlation window is needed")
    return tuple(dict.fromkeys(checked))


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
class AnalysisFrames:
    """The analysis table and the macro and breadth frames its last columns come from.

    ``macro`` and ``breadth`` cover the same rows as ``table`` (see
    :func:`comove.analytics.macro.macro_frame` and :func:`~comove.analytics.macro.breadth_frame`).
    ``signals`` and ``full_table`` cover the whole aligned history, before ``since``/``until``
    cut the rows shown: signals warm up on all the data, and evaluations use all of it.
    """

    table: pd.DataFrame
    macro: pd.DataFrame
    breadth: pd.DataFrame
    signals: SignalResult
    full_table: pd.DataFrame


def analyze(
    crypto: pd.DataFrame,
    equity: pd.DataFrame,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    *,
    calendar: str = "XNYS",
    mode: AlignMode = "daily",
    crypto_intraday: pd.DataFrame | None = None,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
    rsi_period: int = 14,
    macd_periods: tuple[int, int, int] = (12, 26, 9),
    volume_window: int = 20,
    macro: Mapping[str, pd.Series] | None = None,
    large_caps: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Build the analysis table for a crypto / equity pair.

    Parameters
    ----------
    crypto, equity
        Bars frames, e.g. from :func:`comove.read_bars`.
    windows
        Rolling correlation/beta windows in aligned sessions.
    calendar, mode, crypto_intraday
        How the crypto series is put on equity sessions (see :func:`comove.align`).
    since, until
        Limit the rows returned. Indicators are computed on the whole history first, so the
        rows before ``since`` serve as warm-up; the overlay is rebased to 100 on the first row.
    rsi_period, macd_periods, volume_window
        Momentum settings; RSI and MACD run on each asset's own bars (crypto on every day,
        equity on its sessions) and are then sampled onto the aligned sessions.
    macro
        FRED series by id (``WALCL``, ``WTREGEN``, ``RRPONTSYD``, ``DGS2``, ``NFCI``,
        ``BAMLH0A0HYM2``, ``DTWEXBGS``) with ``attrs["units"]``; each is used only from the
        session after its release. Without them ``liquidity_score`` is NaN.
    large_caps
        S&P 500 (or SPY) bars for ``breadth``, the equity's strength relative to them;
        NaN without.

    Returns
    -------
    DataFrame
        Index ``date``; columns as :func:`table_columns`. ``attrs`` carries ``mode``,
        ``calendar``, ``windows``, the names and sources of both series and ``notes``
        (things left out, such as relative volume for a series without volume).
    """
    return analysis_frames(
        crypto, equity, windows, calendar=calendar, mode=mode, crypto_intraday=crypto_intraday,
        since=since, until=until, rsi_period=rsi_period, macd_periods=macd_periods,
        volume_window=volume_window, macro=macro, large_caps=large_caps,
    ).table  # fmt: skip


def analysis_frames(
    crypto: pd.DataFrame,
    equity: pd.DataFrame,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    *,
    calendar: str = "XNYS",
    mode: AlignMode = "daily",
    crypto_intraday: pd.DataFrame | None = None,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
    rsi_period: int = 14,
    macd_periods: tuple[int, int, int] = (12, 26, 9),
    volume_window: int = 20,
    macro: Mapping[str, pd.Series] | None = None,
    large_caps: pd.DataFrame | None = None,
) -> AnalysisFrames:
    """:func:`analyze`, also returning the macro and breadth frames behind its last columns."""
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
    signals = evaluate_signals(full)
    full = full.join(signals.columns)
    full = full.assign(
        crypto_norm=rebase(full["crypto_close"]), equity_norm=rebase(full["equity_close"])
    )[table_columns(windows)].astype("float64")
    full.index.name = "date"
    start, end = _as_date("since", since), _as_date("until", until)
    if start is not None and end is not None and start > end:
        raise DataError(f"--since {start.date()} is after --until {end.date()}")
    table = full.loc[start:end]
    if table.empty:
        raise DataError(
            f"no aligned sessions between {start.date() if start else 'the start'} and "
            f"{end.date() if end else 'the end'} (data spans {aligned.index[0].date()} to "
            f"{aligned.index[-1].date()})"
        )
    table = table.assign(
        crypto_norm=rebase(table["crypto_close"]), equity_norm=rebase(table["equity_close"])
    )
    table.attrs = {
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
    full.attrs = dict(table.attrs)
    return AnalysisFrames(
        table, macro_table.loc[table.index], breadth_table.loc[table.index], signals, full
    )
