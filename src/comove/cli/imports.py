"""``comove import``: put a file into the local store (daily or hourly bars, or a macro series).

What a file is, is detected from its columns or said with ``--as``: ``--as fred:WALCL``
stores a macro series, ``--as ETH-USD`` bars (a FRED-shaped file named so is a series
too). Bars are stored under source ``csv`` and the given name, at the interval the file
shows (``1d``, ``1h``, ...), so they satisfy the configured chains through the store.
When a file disagrees with a stored, finished bar or value, ``--revisions`` decides:
``keep`` (the default) leaves the stored data and reports the disagreements; ``take``
replaces them. Differences within floating-point noise, or only beyond the precision the
file writes, are not disagreements.
"""

from __future__ import annotations

import warnings
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from comove.cli.common import Stderr, run_command, stderr_console, step
from comove.cli.options import DateFormatOpt, EarliestOpt, LastBarOpt, StoreOpt
from comove.errors import ConfigError

if TYPE_CHECKING:
    from comove.data.store import WriteReport

app = typer.Typer()
SHOWN = 5


class Revisions(StrEnum):
    keep = "keep"
    take = "take"


def _disagreements(
    console: Stderr, report: WriteReport, taken: bool, verbose: bool, what: str
) -> None:
    found = report.revisions if taken else report.kept
    if not found:
        return
    largest = max(found, key=lambda r: abs(r[2] / r[1] - 1.0) if r[1] else 0.0)
    change = abs(largest[2] / largest[1] - 1.0) if largest[1] else float("nan")
    verb = "replaced (--revisions take)" if taken else "kept (--revisions take replaces them)"
    console.print(
        f"  {len(found)} stored {what} differ from the file and were {verb}; "
        f"largest {change:.2%} on {largest[0].date()}"
    )
    for stamp, old, new in found if verbose else found[:SHOWN]:
        console.print(f"  {stamp.date()}: stored {old!r}, file {new!r}")
    if not verbose and len(found) > SHOWN:
        console.print(f"  ... and {len(found) - SHOWN} more (--verbose lists all)")


@app.command("import")
def import_file(
    source: Annotated[
        str,
        typer.Argument(
            help="The file to import: csv:FILE (CSV or Parquet; a bare path works), price bars "
            "or a FRED CSV export."
        ),
    ],
    as_: Annotated[
        str,
        typer.Option(
            "--as",
            help="The name to store it under: a symbol (ETH-USD, RUT, SPY) for bars, "
            "fred:ID (fred:WALCL) for a macro series.",
            show_default=False,
        ),
    ],
    interval: Annotated[
        str,
        typer.Option("--interval", help="Bar interval (1d, 1h, ...); auto detects it."),
    ] = "auto",
    units: Annotated[
        str | None,
        typer.Option(
            "--units",
            help="Units of a macro series [default: FRED's, for the series comove knows].",
            show_default=False,
        ),
    ] = None,
    revisions: Annotated[
        Revisions,
        typer.Option(
            "--revisions",
            help="When the file disagrees with stored finished data: keep the stored, or take "
            "the file's.",
        ),
    ] = Revisions.keep,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="List every disagreement with the store.")
    ] = False,
    drop_last: LastBarOpt = None,
    date_format: DateFormatOpt = None,
    earliest: EarliestOpt = None,
    store: StoreOpt = None,
) -> None:
    """Import a file into the store (source "csv"); re-importing is idempotent."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove.config import load_settings
        from comove.data.bars import read_bars
        from comove.data.series import looks_like_series, read_series, units_for
        from comove.data.sources import parse_source
        from comove.data.store import writing

        spec = parse_source(source)
        if not spec.is_file:
            raise ConfigError(f"import reads files: write csv:FILE, got {source!r}")
        path = spec.symbol
        name = as_.strip()
        if not name:
            raise ConfigError("--as needs a name, e.g. --as ETH-USD or --as fred:WALCL")
        target = parse_source(name) if name.lower().startswith("fred:") else None
        is_series = target is not None
        if not is_series and path.lower().endswith(".csv"):
            import pandas as pd

            try:
                header = list(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns)
            except (OSError, ValueError, UnicodeDecodeError):
                header = []
            is_series = looks_like_series(header)
        settings = load_settings().with_store(store)
        taken = revisions is Revisions.take
        if is_series:
            series_id = target.name if target is not None else name.upper()
            with step(console, f"Reading {path}"):
                values = read_series(path, series_id)
            label_units = units_for(series_id, units)
            with (
                step(console, f"Writing {series_id} to the store"),
                writing(settings.store_path) as db,
            ):
                report = db.write_series(
                    series_id, values, units=label_units, source="csv", revisions=revisions.value
                )
            console.print(
                f"{series_id} (macro series, {label_units}) from {path} into "
                f"{settings.store_path}: {report.inserted} inserted, {report.updated} updated, "
                f"{report.unchanged} unchanged; {values.index[0].date()} to "
                f"{values.index[-1].date()}"
            )
            _disagreements(console, report, taken, verbose, "values")
            return
        with step(console, f"Reading {path}"):
            bars = read_bars(
                path, drop_incomplete=drop_last, date_format=date_format, earliest=earliest
            )
        detected = str(bars.attrs["interval"])
        if interval not in ("auto", detected):
            raise ConfigError(
                f"{path}: --interval {interval} does not match the file's bars ({detected})"
            )
        with step(console, f"Writing {name} to the store"), writing(settings.store_path) as db:
            report = db.write_bars("csv", name, detected, bars, revisions=revisions.value)
        console.print(
            f"{name} ({detected} bars) from {path} into {settings.store_path}: "
            f"{report.inserted} inserted, {report.updated} updated, {report.unchanged} unchanged"
        )
        _disagreements(console, report, taken, verbose, "bars")
        if report.gaps:
            shown = ", ".join(str(t.date()) for t in report.gaps[:5])
            console.print(f"  missing days in the stored span: {shown}")

    run_command(body)
