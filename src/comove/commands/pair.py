"""The pair every analysis command shares: its options, loading it, and a summary of the result."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from comove.commands.common import step
from comove.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from comove.pipeline import Analysis


class Mode(StrEnum):
    daily = "daily"
    synchronous = "synchronous"


class Price(StrEnum):
    auto = "auto"
    close = "close"
    adj_close = "adj_close"


def parse_windows(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"expected whole numbers separated by commas, got {text!r}"
        ) from None


CryptoOpt = Annotated[
    str | None,
    typer.Option(
        "--crypto",
        help="Crypto source, e.g. csv:ETH-USD.csv (PROVIDER:SYMBOL).",
        show_default=False,
    ),
]
EquityOpt = Annotated[
    str | None,
    typer.Option("--equity", help="Equity index source, e.g. csv:RUT.csv.", show_default=False),
]
DemoOpt = Annotated[
    bool,
    typer.Option(
        "--demo", help="Use the labelled synthetic ETH / Russell 2000 pair (no files, no network)."
    ),
]
HourlyOpt = Annotated[
    str | None,
    typer.Option(
        "--crypto-hourly",
        help="Hourly crypto bars (e.g. csv:ETHUSDT_1h.csv) for --mode synchronous.",
        show_default=False,
    ),
]
ModeOpt = Annotated[
    Mode,
    typer.Option(
        "--mode",
        help="daily: crypto UTC-day close on each session; synchronous: crypto price at the equity close (needs --crypto-hourly).",
    ),
]


def _windows_option(text: str | None) -> str | None:
    if text is not None:
        parse_windows(text)
    return text


def _date_option(text: str | None) -> str | None:
    """Check a date as it is parsed, so a typo is a usage error before any work starts."""
    if text is not None:
        import datetime

        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            raise typer.BadParameter(f"expected a date like 2024-01-31, got {text!r}") from None
    return text


CalendarOpt = Annotated[
    str | None,
    typer.Option(
        "--calendar",
        help="Equity exchange calendar (exchange_calendars name) [default: XNYS, or [analysis] calendar].",
        show_default=False,
    ),
]
WindowsOpt = Annotated[
    str | None,
    typer.Option(
        "--windows",
        help="Rolling windows in sessions, comma-separated, each at least 3 [default: 30,60,90, or [analysis] windows].",
        callback=_windows_option,
        show_default=False,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="First date shown (YYYY-MM-DD); earlier data warms up the indicators.",
        callback=_date_option,
        show_default=False,
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="Last date shown (YYYY-MM-DD).",
        callback=_date_option,
        show_default=False,
    ),
]
PriceOpt = Annotated[
    Price,
    typer.Option(
        "--price", help="Price column: auto uses Adj Close when a file has one, else Close."
    ),
]
LastBarOpt = Annotated[
    bool | None,
    typer.Option(
        "--drop-last/--keep-last",
        help="Drop or keep each file's last bar. Default: drop it only when it is still trading (today's bar).",
        show_default=False,
    ),
]
StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="The local store file [default: $COMOVE_HOME/comove.duckdb or the user data folder].",
        show_default=False,
    ),
]
OfflineOpt = Annotated[
    bool,
    typer.Option("--offline", help="Do not refresh live sources; use what the store holds."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Settings file [default: ./comove.toml, then the user config folder].",
        show_default=False,
    ),
]
LambdaOpt = Annotated[
    float, typer.Option("--ewma-lambda", help="Decay of the EWMA correlation (RiskMetrics 0.94).")
]


_SIGNAL_WORDS = {1.0: "on", 0.0: "off"}
_STANCE_WORDS = {1.0: "bullish (1.0)", 0.5: "neutral (0.5)", 0.0: "reduce (0.0)"}


@dataclass(frozen=True)
class PairOptions:
    """The pair options as given on the command line."""

    crypto: str | None = None
    equity: str | None = None
    demo: bool = False
    crypto_hourly: str | None = None
    mode: Mode = Mode.daily
    calendar: str | None = None
    windows: str | None = None
    since: str | None = None
    until: str | None = None
    price: Price = Price.auto
    drop_last: bool | None = None
    ewma_lambda: float = 0.94
    store: Path | None = None
    offline: bool = False
    config: Path | None = None


@dataclass(frozen=True)
class PairData:
    """Everything an analysis reads: the pair, optional hourly crypto, macro and large caps."""

    crypto: pd.DataFrame
    equity: pd.DataFrame
    hourly: pd.DataFrame | None
    macro: dict[str, pd.Series]
    large_caps: pd.DataFrame | None


def load_pair(console: Console, options: PairOptions) -> PairData:
    """Load the pair. A side without a source comes from the configured live chain.

    Live sources are refreshed into the store first (unless ``--offline``); macro series
    and large caps come from the store, refreshed too when any live source is used.
    """
    if options.demo:
        if options.crypto or options.equity or options.crypto_hourly:
            raise typer.BadParameter(
                "--demo replaces the sources; drop --crypto/--equity/--crypto-hourly"
            )
        from comove.data.demo import demo_macro, demo_pair

        with step(console, "Generating the synthetic demo pair"):
            crypto_bars, equity_bars = demo_pair()
            demo_series, demo_large_caps = demo_macro(equity_bars)
        return PairData(crypto_bars, equity_bars, None, demo_series, demo_large_caps)
    from comove.config import load_settings
    from comove.pipeline import (
        LIVE_PROVIDERS,
        live_bars,
        live_large_caps,
        live_macro,
        load_bars,
    )

    settings = load_settings(options.config).with_store(options.store)
    refresh = not options.offline

    def read(source: str | None, chain: tuple[str, ...], what: str) -> pd.DataFrame:
        if source is None:
            with step(console, f"Updating {what} from {chain[0]} (and fallbacks)"):
                return live_bars(
                    chain, settings, refresh=refresh, drop_incomplete=options.drop_last
                )
        with step(console, f"Reading {source}"):
            return load_bars(
                source,
                price=options.price.value,
                drop_incomplete=options.drop_last,
                settings=settings,
                refresh=refresh,
            )

    crypto = read(options.crypto, settings.crypto_sources, "crypto")
    equity = read(options.equity, settings.equity_sources, "the equity index")
    hourly = read(options.crypto_hourly, (), "") if options.crypto_hourly else None
    given = [s for s in (options.crypto, options.equity) if s is not None]
    live = refresh and (len(given) < 2 or any(s.partition(":")[0] in LIVE_PROVIDERS for s in given))
    with step(console, "Updating macro series and large caps" if live else "Reading macro data"):
        macro = live_macro(settings, refresh=live)
        large_caps = live_large_caps(settings, refresh=live)
    return PairData(crypto, equity, hourly, macro, large_caps)


def build_pair_analysis(
    console: Console, options: PairOptions, *, cost_bps: float = 10.0
) -> Analysis:
    """Load the pair and run the whole analysis, with progress on the console.

    ``cost_bps`` is the backtest's cost per unit of turnover.
    """
    from comove.config import load_settings
    from comove.pipeline import build_analysis

    settings = load_settings(options.config)
    windows = parse_windows(options.windows) if options.windows else list(settings.windows)
    calendar = options.calendar or settings.calendar
    data = load_pair(console, options)
    if options.mode is Mode.synchronous and data.hourly is None:
        raise ConfigError(
            "--mode synchronous needs hourly crypto bars: add --crypto-hourly csv:FILE"
        )
    with step(console, "Aligning sessions and computing the analysis"):
        return build_analysis(
            data.crypto,
            data.equity,
            windows,
            calendar=calendar,
            mode=options.mode.value,
            crypto_intraday=data.hourly,
            macro=data.macro,
            large_caps=data.large_caps,
            cost_bps=cost_bps,
            since=options.since,
            until=options.until,
            ewma_lambda=options.ewma_lambda,
        )


def summary_lines(analysis: Analysis) -> list[str]:
    meta = analysis.meta
    reading = analysis.reading
    lines = [
        f"{meta['crypto_name']} vs {meta['equity_name']}, {reading.first_date.date()} to "
        f"{reading.date.date()} ({reading.sessions} sessions, {meta['mode']} alignment on {meta['calendar']})"
        + ("  [SYNTHETIC DATA]" if meta.get("synthetic") else ""),
        reading.headline(),
    ]
    for w in reading.windows:
        lines.append(
            f"  corr {w.window:>3}: {w.corr:+.3f} [{w.lo:+.3f}, {w.hi:+.3f}]  beta {w.beta:+.2f}  {w.strength}"
        )
    for m in reading.momentum:
        lines.append(f"  {m.asset}: RSI {m.rsi:.1f} {m.rsi_zone}; {m.macd_state}")
    best = analysis.lead_lag_best
    lines.append(
        f"  lead-lag: strongest at lag {best.best_lag:+d} (r {best.corr:+.3f}, adjusted p {best.p_adjusted:.3g})"
    )
    last = analysis.table.iloc[-1]
    states = ", ".join(
        f"{name.removeprefix('signal_')} {_SIGNAL_WORDS.get(float(last[name]), 'unknown')}"
        for name in analysis.table.columns
        if name.startswith("signal_")
    )
    stance = _STANCE_WORDS.get(float(last["stance"]), "unknown (warming up)")
    lines.append(f"  signals: {states}; stance for ETH exposure: {stance}")
    lines.extend(f"  note: {note}" for note in meta.get("notes", []))  # type: ignore[attr-defined]
    return lines
