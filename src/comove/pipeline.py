"""The one service the CLI (and later the dashboard and alerts) use: sources → bars → analysis."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from comove.analytics.correlation import (
    LeadLagSummary,
    ewma_corr,
    lag_adjusted_corr,
    lead_lag,
    lead_lag_summary,
    rolling_corr,
    rolling_spearman,
)
from comove.analytics.momentum import matched_shifts, momentum_shifts
from comove.analytics.reading import Reading, latest_reading
from comove.analytics.table import DEFAULT_WINDOWS, analysis_frames, analyze
from comove.config import Settings, load_settings
from comove.data.bars import PriceChoice, drop_unfinished_bar, read_bars
from comove.data.calendar import AlignMode
from comove.errors import ConfigError, DataError, DataWarning, ProviderError
from comove.signals.evaluate import (
    BacktestResult,
    ClaimsCheck,
    backtest,
    correlation_claims,
    event_study,
)
from comove.signals.rules import SignalResult

if TYPE_CHECKING:
    from comove.data.store import Store

LIVE_PROVIDERS = ("yahoo", "exchange")


def load_bars(
    source: str,
    *,
    price: PriceChoice = "auto",
    drop_incomplete: bool | None = None,
    settings: Settings | None = None,
    refresh: bool = True,
) -> pd.DataFrame:
    """Bars for a source string ``PROVIDER:SYMBOL``.

    ``csv:PATH`` (or a bare path) reads the file; ``store:SYMBOL`` reads the local store;
    ``yahoo:`` and ``exchange:`` sources are first brought up to date in the store (unless
    ``refresh`` is false) and then read from it, so an outage falls back to what is stored.
    """
    provider, sep, rest = source.partition(":")
    if not sep or provider == "csv" or (len(provider) == 1 and Path(source).exists()):
        path = rest if provider == "csv" else source
        if not path:
            raise ConfigError(f"source {source!r}: no file named after 'csv:'")
        return read_bars(path, price=price, drop_incomplete=drop_incomplete)
    settings = settings or load_settings()
    if provider == "store":
        from comove.data.providers import parse_source
        from comove.data.store import Store

        spec = parse_source(source)
        with Store(settings.store_path, read_only=True) as store:
            return stored_bars(store, spec.symbol, None, source, drop_incomplete)
    if provider in LIVE_PROVIDERS:
        return live_bars([source], settings, refresh=refresh, drop_incomplete=drop_incomplete)
    if provider == "fred":
        raise ConfigError(
            f"source {source!r} is a macro series, not prices; fetch it with comove fetch"
        )
    raise ConfigError(
        f"source {source!r}: unknown provider {provider!r} (csv, store, yahoo, exchange)"
    )


def stored_bars(
    store: Store, symbol: str, origin: str | None, label: str, drop_incomplete: bool | None
) -> pd.DataFrame:
    """Stored bars of ``symbol`` (from ``origin``, or the latest source) without a live bar."""
    bars = store.read_bars(symbol, source=origin)
    kept, dropped = drop_unfinished_bar(bars, str(bars.attrs["interval"]), drop_incomplete)
    if kept.empty:
        raise DataError(f"{label}: the store holds no complete bars for {symbol!r}")
    kept.attrs = {**bars.attrs, "source": label, "dropped_incomplete": dropped}
    return kept


def live_bars(
    chain: Sequence[str],
    settings: Settings,
    *,
    refresh: bool = True,
    drop_incomplete: bool | None = None,
) -> pd.DataFrame:
    """Refresh the first working source of ``chain`` into the store, then read it back.

    When every source fails (no network, outage), what the store already holds is used
    and a :class:`DataWarning` says how old it is and why the refresh failed.

    Raises
    ------
    ProviderError
        The refresh failed and nothing is stored to fall back on.
    """
    from comove.data.providers import parse_source
    from comove.data.refresh import refresh_first_available
    from comove.data.store import ShortLivedStore, Store

    specs = [parse_source(text) for text in chain]
    failure: ProviderError | None = None
    used = None
    if refresh:
        try:
            used, _ = refresh_first_available(ShortLivedStore(settings.store_path), specs)
        except ProviderError as exc:
            failure = exc
    with Store(settings.store_path, read_only=True) as store:
        for spec in [used] if used is not None else specs:
            if store.last_bar_time(spec.source_id, spec.symbol) is not None:
                bars = stored_bars(store, spec.symbol, spec.source_id, spec.text, drop_incomplete)
                break
        else:
            if failure is not None:
                raise failure
            raise DataError(
                f"nothing stored for {' or '.join(chain)}: run comove fetch (needs the network)"
            )
    if failure is not None:
        warnings.warn(
            f"{bars.attrs['source']}: data as of {bars.index[-1].date()}, refresh failed: "
            f"{failure}",
            DataWarning,
            stacklevel=2,
        )
    return bars


def live_large_caps(settings: Settings, *, refresh: bool = True) -> pd.DataFrame | None:
    """The large-cap index for breadth, or ``None`` when it can be neither fetched nor read."""
    try:
        return live_bars(settings.large_cap_sources, settings, refresh=refresh)
    except (DataError, ProviderError):
        return None


def live_macro(settings: Settings, *, refresh: bool = True) -> dict[str, pd.Series]:
    """The configured macro series from the store, refreshed first; failures become warnings."""
    from comove.data.providers import parse_source
    from comove.data.refresh import refresh as refresh_source
    from comove.data.store import ShortLivedStore, Store

    specs = [parse_source(text) for text in settings.macro_sources]
    failed: list[str] = []
    if refresh:
        writer = ShortLivedStore(settings.store_path)
        for spec in specs:
            try:
                refresh_source(writer, spec)
            except ProviderError as exc:
                failed.append(f"{spec.text} ({exc})")
    series: dict[str, pd.Series] = {}
    with Store(settings.store_path, read_only=True) as store:
        for spec in specs:
            try:
                series[spec.symbol] = store.read_series(spec.symbol)
            except DataError:
                continue
    if failed:
        warnings.warn(
            f"macro refresh failed for {len(failed)} series, using what is stored: "
            + "; ".join(failed[:2])
            + ("; ..." if len(failed) > 2 else ""),
            DataWarning,
            stacklevel=2,
        )
    return series


@dataclass(frozen=True)
class Analysis:
    """Everything the report and the CLI show for one pair.

    ``table`` is the analysis table (:func:`comove.analyze`) and carries the metadata in
    ``table.attrs``. ``comparison`` holds, for ``comparison_window``, the naive (UTC-date)
    correlation, the synchronous one when hourly crypto bars were given, and the
    lag-adjusted one. ``shifts`` lists momentum shifts that matched on both assets.
    """

    table: pd.DataFrame
    spearman: pd.DataFrame
    ewma: pd.Series
    ewma_lambda: float
    lead_lag: pd.Series
    lead_lag_best: LeadLagSummary
    comparison: pd.DataFrame
    comparison_window: int
    shifts: pd.DataFrame
    shift_within: int
    reading: Reading
    macro: pd.DataFrame
    breadth: pd.DataFrame
    signals: SignalResult
    backtest: BacktestResult
    event_study: pd.DataFrame
    claims: ClaimsCheck

    @property
    def meta(self) -> dict[str, object]:
        return {str(key): value for key, value in self.table.attrs.items()}


def build_analysis(
    crypto: pd.DataFrame,
    equity: pd.DataFrame,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    *,
    calendar: str = "XNYS",
    mode: AlignMode = "daily",
    crypto_intraday: pd.DataFrame | None = None,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
    ewma_lambda: float = 0.94,
    max_lag: int = 10,
    shift_within: int = 3,
    macro: Mapping[str, pd.Series] | None = None,
    large_caps: pd.DataFrame | None = None,
    cost_bps: float = 10.0,
    n_boot: int = 1000,
) -> Analysis:
    """Run the whole analysis of a pair: the table plus the statistics around it.

    ``macro`` (FRED series by id, with units) and ``large_caps`` (S&P 500 bars) feed the
    liquidity score and breadth; see :func:`comove.analyze`. The signals' evaluation
    (backtest with ``cost_bps`` per unit of turnover, event study with ``n_boot`` bootstrap
    replicates, the correlation claims check) runs over the whole aligned history.
    """
    frames = analysis_frames(
        crypto, equity, windows, calendar=calendar, mode=mode,
        crypto_intraday=crypto_intraday, since=since, until=until,
        macro=macro, large_caps=large_caps,
    )  # fmt: skip
    table = frames.table
    full = frames.full_table
    used = table.attrs["windows"]
    x, y = table["crypto_ret"], table["equity_ret"]
    # The rolling variants warm up on the whole history, like the table's own columns.
    full_x, full_y = full["crypto_ret"], full["equity_ret"]
    main = used[len(used) // 2]
    spearman = pd.DataFrame(
        {w: rolling_spearman(full_x, full_y, w).loc[table.index] for w in used}, index=table.index
    )
    comparison = pd.DataFrame(index=table.index)
    if mode == "synchronous":
        daily = analyze(crypto, equity, [main], calendar=calendar, since=since, until=until)
        comparison["naive"] = rolling_corr(daily["crypto_ret"], daily["equity_ret"], main).reindex(
            table.index
        )
        comparison["synchronous"] = table[f"corr_{main}"]
    else:
        comparison["naive"] = table[f"corr_{main}"]
    comparison["lag_adjusted"] = lag_adjusted_corr(full_x, full_y, main).loc[table.index]
    shifts = matched_shifts(
        momentum_shifts(table["rsi_crypto"], table["macd_hist_crypto"]),
        momentum_shifts(table["rsi_equity"], table["macd_hist_equity"]),
        within=shift_within,
    )
    lag_limit = max(0, min(max_lag, len(table) - 4))
    return Analysis(
        table=table,
        spearman=spearman,
        ewma=ewma_corr(full_x, full_y, ewma_lambda, min_periods=min(30, max(2, len(full) - 1))).loc[
            table.index
        ],
        ewma_lambda=ewma_lambda,
        lead_lag=lead_lag(x, y, lag_limit),
        lead_lag_best=lead_lag_summary(x, y, lag_limit),
        comparison=comparison,
        comparison_window=main,
        shifts=shifts,
        shift_within=shift_within,
        reading=latest_reading(table),
        macro=frames.macro,
        breadth=frames.breadth,
        signals=frames.signals,
        backtest=backtest(full, frames.signals, cost_bps=cost_bps),
        event_study=event_study(full, frames.signals, n_boot=n_boot),
        claims=correlation_claims(full, crypto_only_moves=frames.signals.crypto_only_moves),
    )
