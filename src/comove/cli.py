"""The ``comove`` command line: parse options, run the pipeline, print or write, set the exit code.

Exit codes: 0 ok, 1 a user error (bad input, unknown symbol) with a one-line message,
2 a usage error, 3 a provider/network failure after retries. Heavy modules (pandas, scipy,
plotly) are imported inside the commands so ``comove --help`` starts fast.
"""

from __future__ import annotations

import io
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from comove.commands.common import (
    OutputFormat,
    check_output_path,
    run_command,
    stderr_console,
    step,
    write_atomic,
)
from comove.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from comove.pipeline import Analysis

app = typer.Typer(
    name="comove",
    help="How a crypto asset and an equity index move together (default: ETH vs Russell 2000).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


class Mode(StrEnum):
    daily = "daily"
    synchronous = "synchronous"


class Price(StrEnum):
    auto = "auto"
    close = "close"
    adj_close = "adj_close"


def _parse_windows(text: str) -> list[int]:
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
CalendarOpt = Annotated[
    str, typer.Option("--calendar", help="Equity exchange calendar (exchange_calendars name).")
]
WindowsOpt = Annotated[
    str,
    typer.Option(
        "--windows", help="Rolling windows in sessions, comma-separated (each at least 3)."
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="First date shown (YYYY-MM-DD); earlier data warms up the indicators.",
        show_default=False,
    ),
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Last date shown (YYYY-MM-DD).", show_default=False)
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
LambdaOpt = Annotated[
    float, typer.Option("--ewma-lambda", help="Decay of the EWMA correlation (RiskMetrics 0.94).")
]


def _load_pair(
    console: Console,
    crypto: str | None,
    equity: str | None,
    demo: bool,
    hourly: str | None,
    price: Price,
    drop_last: bool | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    if demo:
        if crypto or equity or hourly:
            raise typer.BadParameter(
                "--demo replaces the sources; drop --crypto/--equity/--crypto-hourly"
            )
        from comove.data.demo import demo_pair

        with step(console, "Generating the synthetic demo pair"):
            crypto_bars, equity_bars = demo_pair()
        return crypto_bars, equity_bars, None
    if not crypto or not equity:
        raise ConfigError(
            "no sources given: pass --crypto and --equity (e.g. csv:ETH-USD.csv and csv:RUT.csv), or --demo"
        )
    from comove.pipeline import load_bars

    loaded: list[pd.DataFrame | None] = []
    for source in (crypto, equity, hourly):
        if source is None:
            loaded.append(None)
            continue
        with step(console, f"Reading {source}"):
            loaded.append(load_bars(source, price=price.value, drop_incomplete=drop_last))
    assert loaded[0] is not None
    assert loaded[1] is not None
    return loaded[0], loaded[1], loaded[2]


def _analysis(
    console: Console,
    crypto: str | None,
    equity: str | None,
    demo: bool,
    hourly: str | None,
    mode: Mode,
    calendar: str,
    windows: str,
    since: str | None,
    until: str | None,
    price: Price,
    drop_last: bool | None,
    ewma_lambda: float,
) -> Analysis:
    from comove.pipeline import build_analysis

    crypto_bars, equity_bars, intraday = _load_pair(
        console, crypto, equity, demo, hourly, price, drop_last
    )
    if mode is Mode.synchronous and intraday is None:
        raise ConfigError(
            "--mode synchronous needs hourly crypto bars: add --crypto-hourly csv:FILE"
        )
    with step(console, "Aligning sessions and computing the analysis"):
        return build_analysis(
            crypto_bars,
            equity_bars,
            _parse_windows(windows),
            calendar=calendar,
            mode=mode.value,
            crypto_intraday=intraday,
            since=since,
            until=until,
            ewma_lambda=ewma_lambda,
        )


def _summary_lines(analysis: Analysis) -> list[str]:
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
    lines.extend(f"  note: {note}" for note in meta.get("notes", []))  # type: ignore[attr-defined]
    return lines


@app.command()
def report(
    crypto: CryptoOpt = None,
    equity: EquityOpt = None,
    demo: DemoOpt = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="HTML file to write [default: comove-report.html, or comove-demo-report.html with --demo]",
            show_default=False,
        ),
    ] = None,
    crypto_hourly: HourlyOpt = None,
    mode: ModeOpt = Mode.daily,
    calendar: CalendarOpt = "XNYS",
    windows: WindowsOpt = "30,60,90",
    since: SinceOpt = None,
    until: UntilOpt = None,
    price: PriceOpt = Price.auto,
    drop_last: LastBarOpt = None,
    ewma_lambda: LambdaOpt = 0.94,
) -> None:
    """Write a self-contained HTML report (opens offline) and print where it is."""
    console = stderr_console()
    target = out or Path("comove-demo-report.html" if demo else "comove-report.html")

    def body(caught: list[warnings.WarningMessage]) -> Path:
        path = check_output_path(target)
        analysis = _analysis(
            console, crypto, equity, demo, crypto_hourly, mode, calendar, windows, since, until,
            price, drop_last, ewma_lambda,
        )  # fmt: skip
        from comove.report.html import write_report

        with step(console, "Rendering the report"):
            written = write_report(analysis, path, data_warnings=[str(w.message) for w in caught])
        for line in _summary_lines(analysis):
            console.print(line, markup=False)
        return written

    written = run_command(body)
    typer.echo(f"Report written to {written}")


@app.command()
def analyze(
    crypto: CryptoOpt = None,
    equity: EquityOpt = None,
    demo: DemoOpt = False,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="table: latest rows and a summary; csv/json: the whole analysis table.",
        ),
    ] = OutputFormat.table,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write to this file instead of standard output.", show_default=False
        ),
    ] = None,
    rows: Annotated[int, typer.Option("--rows", help="Rows shown by --format table.", min=1)] = 10,
    crypto_hourly: HourlyOpt = None,
    mode: ModeOpt = Mode.daily,
    calendar: CalendarOpt = "XNYS",
    windows: WindowsOpt = "30,60,90",
    since: SinceOpt = None,
    until: UntilOpt = None,
    price: PriceOpt = Price.auto,
    drop_last: LastBarOpt = None,
    ewma_lambda: LambdaOpt = 0.94,
) -> None:
    """Print or write the analysis table (one row per aligned session) and the latest reading."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        path = check_output_path(out) if out is not None else None
        analysis = _analysis(
            console, crypto, equity, demo, crypto_hourly, mode, calendar, windows, since, until,
            price, drop_last, ewma_lambda,
        )  # fmt: skip
        table = analysis.table
        summary = _summary_lines(analysis)
        if output_format is OutputFormat.table:
            text = _render_table(table.tail(rows), summary)
        elif output_format is OutputFormat.csv:
            text = _csv_text(table)
        else:
            text = _json_text(table)
        if path is not None:
            write_atomic(path, text)
            for line in summary:
                console.print(line, markup=False)
            console.print(f"Wrote {len(table)} rows to {path}", markup=False)
        else:
            sys.stdout.write(text)
            if output_format is not OutputFormat.table:
                for line in summary:
                    console.print(line, markup=False)

    run_command(body)


def _csv_text(table: pd.DataFrame) -> str:
    import pandas as pd

    frame = table.copy()
    frame.index = pd.DatetimeIndex(frame.index).strftime("%Y-%m-%d")
    return frame.to_csv(index_label="date", float_format="%.10g", lineterminator="\n")


def _json_text(table: pd.DataFrame) -> str:
    import json

    import numpy as np
    import pandas as pd

    records: list[dict[str, Any]] = []
    values = table.to_numpy(dtype="float64")
    columns = list(table.columns)
    dates = pd.DatetimeIndex(table.index).strftime("%Y-%m-%d")
    for date, row in zip(dates, values, strict=True):
        record: dict[str, Any] = {"date": date}
        record.update(
            {c: (float(v) if np.isfinite(v) else None) for c, v in zip(columns, row, strict=True)}
        )
        records.append(record)
    return json.dumps(records, indent=1) + "\n"


def _render_table(table: pd.DataFrame, summary: list[str]) -> str:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    windows = [c for c in table.columns if c.startswith("corr_") and c.count("_") == 1]
    shown = [
        "crypto_close",
        "equity_close",
        *windows,
        "rsi_crypto",
        "rsi_equity",
        "macd_hist_crypto",
        "macd_hist_equity",
    ]
    grid = Table(show_edge=False, header_style="bold")
    grid.add_column("date")
    for column in shown:
        grid.add_column(column, justify="right")
    dates = pd.DatetimeIndex(table.index).strftime("%Y-%m-%d")
    for date, (_, row) in zip(dates, table[shown].iterrows(), strict=True):
        grid.add_row(
            date,
            *(
                "" if row[c] != row[c] else f"{row[c]:,.2f}" if "close" in c else f"{row[c]:.3f}"
                for c in shown
            ),
        )
    console = Console(record=True, width=160, file=io.StringIO())
    console.print(grid)
    for line in summary:
        console.print(line, markup=False, highlight=False)
    return console.export_text()


def main() -> None:
    """Console-script entry point."""
    app()
