"""The ``comove`` command line: parse options, run the pipeline, print or write, set the exit code.

Exit codes: 0 ok, 1 a user error (bad input, unknown symbol) with a one-line message,
2 a usage error, 3 a provider/network failure after retries. Heavy modules (pandas, scipy,
plotly) are imported inside the commands so ``comove --help`` starts fast.
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from comove.commands import fetch as fetch_commands
from comove.commands import scan as scan_commands
from comove.commands import serve as serve_commands
from comove.commands import signals as signal_commands
from comove.commands import store as store_commands
from comove.commands import watch as watch_commands
from comove.commands.common import (
    OutputFormat,
    check_output_path,
    run_command,
    stderr_console,
    step,
    write_atomic,
)
from comove.commands.pair import (
    CalendarOpt,
    ConfigOpt,
    CryptoOpt,
    DemoOpt,
    EquityOpt,
    HourlyOpt,
    LambdaOpt,
    LastBarOpt,
    Mode,
    ModeOpt,
    OfflineOpt,
    PairOptions,
    Price,
    PriceOpt,
    SinceOpt,
    StoreOpt,
    UntilOpt,
    WindowsOpt,
    build_pair_analysis,
    summary_lines,
)

if TYPE_CHECKING:
    import pandas as pd


app = typer.Typer(
    name="comove",
    help="How a crypto asset and an equity index move together (default: ETH vs Russell 2000).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
    calendar: CalendarOpt = None,
    windows: WindowsOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    price: PriceOpt = Price.auto,
    drop_last: LastBarOpt = None,
    ewma_lambda: LambdaOpt = 0.94,
    store: StoreOpt = None,
    offline: OfflineOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write a self-contained HTML report (opens offline) and print where it is."""
    console = stderr_console()
    target = out or Path("comove-demo-report.html" if demo else "comove-report.html")

    def body(caught: list[warnings.WarningMessage]) -> Path:
        path = check_output_path(target)
        options = PairOptions(
            crypto, equity, demo, crypto_hourly, mode, calendar, windows, since, until,
            price, drop_last, ewma_lambda, store, offline, config,
        )  # fmt: skip
        analysis = build_pair_analysis(console, options)
        from comove.report.html import write_report

        with step(console, "Rendering the report"):
            written = write_report(analysis, path, data_warnings=[str(w.message) for w in caught])
        for line in summary_lines(analysis):
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
    calendar: CalendarOpt = None,
    windows: WindowsOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    price: PriceOpt = Price.auto,
    drop_last: LastBarOpt = None,
    ewma_lambda: LambdaOpt = 0.94,
    store: StoreOpt = None,
    offline: OfflineOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Print or write the analysis table (one row per aligned session) and the latest reading."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        path = check_output_path(out) if out is not None else None
        options = PairOptions(
            crypto, equity, demo, crypto_hourly, mode, calendar, windows, since, until,
            price, drop_last, ewma_lambda, store, offline, config,
        )  # fmt: skip
        analysis = build_pair_analysis(console, options)
        table = analysis.table
        summary = summary_lines(analysis)
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


fetch_commands.register(app)
store_commands.register(app)
signal_commands.register(app)
scan_commands.register(app)
watch_commands.register(app)
serve_commands.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
