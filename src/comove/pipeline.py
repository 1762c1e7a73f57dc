"""The one service the CLI (and later the dashboard and alerts) use: sources → bars → analysis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
from comove.analytics.table import DEFAULT_WINDOWS, analyze
from comove.data.bars import PriceChoice, read_bars
from comove.data.calendar import AlignMode
from comove.errors import ConfigError

PLANNED_PROVIDERS = ("yahoo", "exchange", "fred", "store")


def load_bars(
    source: str, *, price: PriceChoice = "auto", drop_incomplete: bool | None = None
) -> pd.DataFrame:
    """Read bars from a source string ``PROVIDER:SYMBOL``; ``csv:PATH`` (or a bare path) today."""
    provider, sep, rest = source.partition(":")
    if sep and provider in PLANNED_PROVIDERS:
        raise ConfigError(
            f"source {source!r}: the {provider} provider is not part of this version yet; "
            "use csv:FILE or --demo"
        )
    if sep and provider == "csv":
        path = rest
    elif sep and len(provider) > 1 and not Path(source).exists():
        raise ConfigError(f"source {source!r}: unknown provider {provider!r} (use csv:FILE)")
    else:
        path = source
    if not path:
        raise ConfigError(f"source {source!r}: no file named after 'csv:'")
    return read_bars(path, price=price, drop_incomplete=drop_incomplete)


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
) -> Analysis:
    """Run the whole analysis of a pair: the table plus the statistics around it."""
    table = analyze(
        crypto, equity, windows, calendar=calendar, mode=mode,
        crypto_intraday=crypto_intraday, since=since, until=until,
    )  # fmt: skip
    used = table.attrs["windows"]
    x, y = table["crypto_ret"], table["equity_ret"]
    main = used[len(used) // 2]
    spearman = pd.DataFrame({w: rolling_spearman(x, y, w) for w in used}, index=table.index)
    comparison = pd.DataFrame(index=table.index)
    if mode == "synchronous":
        daily = analyze(crypto, equity, [main], calendar=calendar, since=since, until=until)
        comparison["naive"] = rolling_corr(daily["crypto_ret"], daily["equity_ret"], main).reindex(
            table.index
        )
        comparison["synchronous"] = table[f"corr_{main}"]
    else:
        comparison["naive"] = table[f"corr_{main}"]
    comparison["lag_adjusted"] = lag_adjusted_corr(x, y, main)
    shifts = matched_shifts(
        momentum_shifts(table["rsi_crypto"], table["macd_hist_crypto"]),
        momentum_shifts(table["rsi_equity"], table["macd_hist_equity"]),
        within=shift_within,
    )
    lag_limit = max(0, min(max_lag, len(table) - 4))
    return Analysis(
        table=table,
        spearman=spearman,
        ewma=ewma_corr(x, y, ewma_lambda, min_periods=min(30, max(2, len(table) - 1))),
        ewma_lambda=ewma_lambda,
        lead_lag=lead_lag(x, y, lag_limit),
        lead_lag_best=lead_lag_summary(x, y, lag_limit),
        comparison=comparison,
        comparison_window=main,
        shifts=shifts,
        shift_within=shift_within,
        reading=latest_reading(table),
    )
