"""``comove scan``: rank a universe of assets by how they move with one or more benchmarks."""

from __future__ import annotations

import io
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from comove.cli.common import (
    OutputFormat,
    Stderr,
    check_output_path,
    run_command,
    stderr_console,
    step,
)
from comove.cli.options import ConfigOpt, OutOpt, Price, PriceOpt, StoreOpt
from comove.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd


class EngineChoice(StrEnum):
    local = "local"
    dask = "dask"


@contextmanager
def _progress(console: Stderr, assets: int, blocks: int) -> Iterator[Callable[[str, int], None]]:
    """A rich progress bar on stderr over assets read and blocks computed (terminals only)."""
    if not console.is_terminal:
        yield lambda _kind, _n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console.rich,
        transient=True,
    )
    with bar:
        tasks = {
            "read": bar.add_task("assets read", total=assets),
            "block": bar.add_task("blocks computed", total=blocks),
        }
        yield lambda kind, n: bar.advance(tasks[kind], n)


def _fmt(value: Any, spec: str = "+.3f") -> str:
    if value is None or value != value:
        return ""
    return format(value, spec)


def render_table(ranked: pd.DataFrame, windows: tuple[int, ...], main: int) -> str:
    from rich.console import Console
    from rich.table import Table

    many = ranked["benchmark"].nunique() > 1
    grid = Table(show_edge=False, header_style="bold")
    headers = ["#", "asset", *(["benchmark"] if many else []), "kind"]
    headers += [f"corr_{w}" for w in windows]
    headers += [f"band_{main}", f"beta_{main}", "lead_lag (r)", "side", "change", "as_of"]
    for h in headers:
        grid.add_column(
            h, justify="left" if h in ("asset", "benchmark", "kind", "change") else "right"
        )
    for i, row in enumerate(ranked.to_dict("records"), start=1):
        lag = row["lead_lag"]
        cells = [str(i), str(row["asset"]), *([str(row["benchmark"])] if many else []), row["kind"]]
        cells += [_fmt(row[f"corr_{w}"]) for w in windows]
        cells += [
            f"[{_fmt(row[f'corr_{main}_lo'], '+.2f')}, {_fmt(row[f'corr_{main}_hi'], '+.2f')}]",
            _fmt(row[f"beta_{main}"], ".2f"),
            "" if lag != lag else f"{int(lag):+d} ({_fmt(row['lead_lag_corr'], '+.2f')})",
            f"{row['side']} {row['side_sessions']}" if row["side"] else "",
            str(row["change"]),
            row["as_of"].strftime("%Y-%m-%d"),
        ]
        grid.add_row(*cells)
    out = Console(record=True, width=200, file=io.StringIO())
    out.print(grid)
    return out.export_text()


def csv_text(ranked: pd.DataFrame) -> str:
    frame = ranked.copy()
    for column in ("first", "as_of"):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    frame["lead_lag"] = frame["lead_lag"].astype("Int64")
    return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")


app = typer.Typer()


@app.command()
def scan(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help="A folder of CSV/Parquet files (one asset per file, named by its stem) "
            "and/or sources such as csv:FILE or store:SYMBOL.",
            show_default=False,
        ),
    ] = None,
    benchmark: Annotated[
        list[str] | None,
        typer.Option(
            "--benchmark",
            "-b",
            help="Benchmark source; repeat for several [default: store:^RUT].",
            show_default=False,
        ),
    ] = None,
    windows: Annotated[
        str, typer.Option("--windows", help="Rolling windows in sessions, comma-separated.")
    ] = "30,60,90",
    engine: Annotated[
        EngineChoice,
        typer.Option("--engine", help="local: this process; dask: a Dask cluster."),
    ] = EngineChoice.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address (tcp://HOST:8786); default: a LocalCluster.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Workers of the LocalCluster.", min=1)
    ] = 2,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = OutputFormat.table,
    out: OutOpt = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write an HTML report (heatmap + ranked table).",
            show_default=False,
        ),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            help="Column to rank by (default: the main window's correlation, e.g. corr_60).",
            show_default=False,
        ),
    ] = None,
    ascending: Annotated[
        bool, typer.Option("--ascending", help="Rank from the smallest value.")
    ] = False,
    top: Annotated[
        int | None,
        typer.Option("--top", help="Keep the first N rows.", min=1, show_default=False),
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad", help="Skip unreadable files with a warning instead of stopping."
        ),
    ] = False,
    calendar: Annotated[
        str, typer.Option("--calendar", help="Benchmark exchange calendar.")
    ] = "XNYS",
    price: PriceOpt = Price.auto,
    lead_lag_sessions: Annotated[
        int,
        typer.Option("--lead-lag-sessions", help="Sessions the lead-lag looks back over.", min=4),
    ] = 250,
    block_size: Annotated[
        int | None,
        typer.Option(
            "--block-size",
            help="Assets per block, one Dask task each (default: K/8, within 16..250).",
            min=1,
            show_default=False,
        ),
    ] = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Rank many assets by their co-movement with one or more benchmarks."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove._json import dumps
        from comove.config import load_settings, parse_windows
        from comove.errors import DataWarning
        from comove.files import write_text_atomic
        from comove.scan.engine import ScanConfig, run_scan
        from comove.scan.universe import expand_sources, load_benchmarks, without_benchmarks

        out_path = check_output_path(out) if out is not None else None
        report_path = check_output_path(report) if report is not None else None
        settings = load_settings(config).with_store(store)
        scan_config = ScanConfig(
            windows=parse_windows(windows),
            lead_lag_sessions=lead_lag_sessions,
            price=price.value,
            skip_bad=skip_bad,
            block_size=block_size,
        )
        universe = expand_sources(inputs or [])
        with step(console, "Reading the benchmarks"):
            benchmarks = load_benchmarks(benchmark, settings, calendar, price.value)
        universe = without_benchmarks(universe, benchmarks)
        sources = universe.sources
        if not sources:
            raise ConfigError("nothing to scan but the benchmarks themselves")
        blocks = -(-len(sources) // scan_config.blocks_of(len(sources)))
        with _progress(console, len(sources), blocks) as progress:
            result = run_scan(
                sources,
                benchmarks,
                scan_config,
                settings=settings,
                engine=engine.value,
                left_out=universe.skipped,
                scheduler=scheduler,
                workers=workers,
                progress=progress,
            )
        for text in result.warnings:
            warnings.warn(text, DataWarning, stacklevel=1)
        if result.table.empty:
            raise ConfigError(
                f"no asset could be scanned ({len(result.skipped)} skipped: "
                f"{'; '.join(result.skipped['reason'].head(3))})"
            )
        ranked = result.ranked(sort, ascending=ascending, top=top)
        if output_format is OutputFormat.table:
            text = render_table(ranked, scan_config.windows, scan_config.main)
        elif output_format is OutputFormat.csv:
            text = csv_text(ranked)
        else:
            text = dumps(result.to_dict(ranked), indent=1) + "\n"
        if report_path is not None:
            from comove.report.scan import write_scan_report

            with step(console, "Rendering the report"):
                write_scan_report(result, report_path, sort=sort, ascending=ascending, top=top)
        if out_path is not None:
            write_text_atomic(out_path, text)
        else:
            sys.stdout.write(text)
        summary = (
            f"Scanned {result.table['asset'].nunique()} assets against "
            f"{', '.join(b.name for b in benchmarks)} ({result.engine} engine, windows "
            f"{'/'.join(map(str, scan_config.windows))}); {len(result.skipped)} skipped"
        )
        console.print(summary)
        for asset, bench, reason in result.skipped.itertuples(index=False):
            console.print(f"  skipped {asset}{f' vs {bench}' if bench else ''}: {reason}")
        if out_path is not None:
            console.print(f"Wrote {len(ranked)} rows to {out_path}")
        if report_path is not None:
            console.print(f"Report written to {report_path}")

    run_command(body)
