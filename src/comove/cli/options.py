"""Options several commands share, each defined once, and the pair options as one object.

A command that analyses a pair declares one parameter ``pair: PairOptions`` and is wrapped
with :func:`pair_command`: the wrapper shows Typer the individual options of
:data:`PAIR_OPTIONS` and hands the command a :class:`PairOptions` built by keyword.
"""

from __future__ import annotations

import datetime
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from comove.config import Settings
    from comove.pipeline import AnalysisOptions, PairRequest

F = TypeVar("F", bound=Callable[..., Any])


class Mode(StrEnum):
    daily = "daily"
    synchronous = "synchronous"


class Price(StrEnum):
    auto = "auto"
    close = "close"
    adj_close = "adj_close"


def _windows_option(text: str | None) -> str | None:
    """Check the form of windows as they are parsed: a typo is a usage error (their values
    are checked with the data, a user error)."""
    if text is not None:
        from comove.config import split_windows
        from comove.errors import ConfigError

        try:
            split_windows(text)
        except ConfigError as exc:
            raise typer.BadParameter(str(exc).removeprefix("windows: ")) from None
    return text


def _date_option(text: str | None) -> str | None:
    """Check a date as it is parsed, so a typo is a usage error before any work starts."""
    if text is not None:
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            raise typer.BadParameter(f"expected a date like 2024-01-31, got {text!r}") from None
    return text


StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="The local store file [default: $COMOVE_HOME/comove.duckdb, [store] path, or the user data folder].",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Settings file [default: ./comove.toml, then the user config folder].",
        show_default=False,
    ),
]
CryptoOpt = Annotated[
    str | None,
    typer.Option(
        "--crypto",
        help="Crypto source, e.g. csv:ETH-USD.csv or store:ETH-USD [default: the [pair] crypto chain].",
        show_default=False,
    ),
]
EquityOpt = Annotated[
    str | None,
    typer.Option(
        "--equity",
        help="Equity index source, e.g. csv:RUT.csv or yahoo:^RUT [default: the [pair] equity chain].",
        show_default=False,
    ),
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
        help="Hourly crypto bars (e.g. csv:ETHUSDT_1h.csv) for --mode synchronous [default: the crypto's stored hourly bars].",
        show_default=False,
    ),
]
ModeOpt = Annotated[
    Mode,
    typer.Option(
        "--mode",
        help="daily: crypto UTC-day close on each session; synchronous: crypto price at the equity close (needs hourly bars).",
    ),
]
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
        help="Rolling windows in sessions, comma-separated, each 3..500 [default: 30,60,90, or [analysis] windows].",
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
        "--until", help="Last date shown (YYYY-MM-DD).", callback=_date_option, show_default=False
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
        help="Drop or keep each series' last bar [default: drop it only when it is unfinished: "
        "still trading, a partial bar without volume, or stamped before its session's close].",
        show_default=False,
    ),
]
LambdaOpt = Annotated[
    float,
    typer.Option(
        "--ewma-lambda",
        help="Decay of the EWMA correlation (RiskMetrics 0.94).",
        min=0.5,
        max=0.999,
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Write to this file instead of standard output.", show_default=False
    ),
]
DateFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="How a file writes its dates, as strptime codes (e.g. %d/%m/%Y) [default: ISO "
        "dates, epoch numbers, YYYYMMDD, or DD/MM vs MM/DD when the file's own dates show which].",
        show_default=False,
    ),
]
EarliestOpt = Annotated[
    str | None,
    typer.Option(
        "--earliest",
        help="Oldest date a file may hold (YYYY-MM-DD) [default: 1970-01-01].",
        callback=_date_option,
        show_default=False,
    ),
]
OfflineOpt = Annotated[
    bool,
    typer.Option("--offline", help="Do not refresh live sources; use what the store holds."),
]


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
    date_format: str | None = None
    earliest: str | None = None

    def settings(self) -> Settings:
        from comove.config import load_settings

        return load_settings(self.config).with_store(self.store)

    def request(self) -> PairRequest:
        from comove.pipeline import PairRequest

        if self.demo and (self.crypto or self.equity or self.crypto_hourly):
            raise typer.BadParameter(
                "--demo replaces the sources; drop --crypto/--equity/--crypto-hourly"
            )
        return PairRequest(
            crypto=self.crypto,
            equity=self.equity,
            crypto_hourly=self.crypto_hourly,
            demo=self.demo,
            price=self.price.value,
            drop_last=self.drop_last,
            offline=self.offline,
            date_format=self.date_format,
            earliest=self.earliest,
        )

    def analysis(self, *, cost_bps: float = 10.0) -> AnalysisOptions:
        from comove.config import parse_windows
        from comove.pipeline import AnalysisOptions

        return AnalysisOptions(
            windows=parse_windows(self.windows) if self.windows else None,
            calendar=self.calendar,
            mode=self.mode.value,
            since=self.since,
            until=self.until,
            ewma_lambda=self.ewma_lambda,
            cost_bps=cost_bps,
        )


#: The Typer option of each :class:`PairOptions` field.
PAIR_OPTIONS: dict[str, Any] = {
    "crypto": CryptoOpt,
    "equity": EquityOpt,
    "demo": DemoOpt,
    "crypto_hourly": HourlyOpt,
    "mode": ModeOpt,
    "calendar": CalendarOpt,
    "windows": WindowsOpt,
    "since": SinceOpt,
    "until": UntilOpt,
    "price": PriceOpt,
    "drop_last": LastBarOpt,
    "ewma_lambda": LambdaOpt,
    "store": StoreOpt,
    "offline": OfflineOpt,
    "config": ConfigOpt,
    "date_format": DateFormatOpt,
    "earliest": EarliestOpt,
}


def pair_command(func: F) -> F:
    """Give ``func(pair: PairOptions, ...)`` the shared pair options as its Typer options."""
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "pair"]
    defaults = {item.name: item.default for item in fields(PairOptions)}
    shared = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name], annotation=annotation
        )
        for name, annotation in PAIR_OPTIONS.items()
    ]

    @functools.wraps(func)
    def wrapper(**values: Any) -> Any:
        # Every pair command loads the pipeline and the renderers: load them now, while
        # start-up has the garbage collector paused (run_command resumes it).
        import_module("comove.pipeline")
        import_module("comove.cli.render")
        pair = PairOptions(**{name: values.pop(name) for name in PAIR_OPTIONS})
        return func(pair=pair, **values)

    parameters = [*(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own), *shared]
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper  # type: ignore[return-value]
