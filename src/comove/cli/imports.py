"""``comove import``: put a file into the local store (bars, hourly bars or a macro series)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from comove.cli.common import run_command, stderr_console, step
from comove.cli.options import StoreOpt
from comove.errors import ConfigError

app = typer.Typer()


@app.command("import")
def import_file(
    source: Annotated[
        str,
        typer.Argument(help="The file to import: csv:FILE (CSV or Parquet; a bare path works)."),
    ],
    as_: Annotated[
        str,
        typer.Option(
            "--as", help="The symbol to store it under, e.g. ETH-USD.", show_default=False
        ),
    ],
    interval: Annotated[
        str,
        typer.Option(
            "--interval", help="Bar interval (1d, 1h, ...); auto detects it from the file."
        ),
    ] = "auto",
    store: StoreOpt = None,
) -> None:
    """Import a price file into the store (source "csv"); re-importing is idempotent."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove.config import load_settings
        from comove.data.bars import read_bars
        from comove.data.store import Store

        path = source[4:] if source.lower().startswith("csv:") else source
        if ":" in source and not source.lower().startswith("csv:") and not Path(source).exists():
            raise ConfigError(f"import reads files: write csv:FILE, got {source!r}")
        if not as_.strip():
            raise ConfigError("--as needs a symbol name, e.g. --as ETH-USD")
        with step(console, f"Reading {path}"):
            bars = read_bars(path)
        detected = str(bars.attrs["interval"])
        label = detected if interval == "auto" else interval
        if interval != "auto" and interval != detected:
            raise ConfigError(
                f"{path}: --interval {interval} does not match the file's bars ({detected})"
            )
        with (
            step(console, f"Writing {as_} to the store"),
            Store(load_settings().with_store(store).store_path) as db,
        ):
            report = db.write_bars("csv", as_, label, bars)
            target = db.path
        console.print(
            f"{as_} ({label}) from {path} into {target}: {report.inserted} inserted, "
            f"{report.updated} updated, {report.unchanged} unchanged",
            markup=False,
        )
        for ts, old, new in report.revisions:
            console.print(f"  revised {ts}: close {old:.10g} -> {new:.10g}")
        if report.gaps:
            shown = ", ".join(str(t.date()) for t in report.gaps[:5])
            console.print(f"  missing days in the stored span: {shown}")

    run_command(body)
