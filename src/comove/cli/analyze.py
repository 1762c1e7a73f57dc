"""``comove analyze``: the analysis table, to the terminal, CSV or JSON."""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

import typer

from comove.cli.common import (
    OutputFormat,
    check_output_path,
    progress_on,
    run_command,
    stderr_console,
)
from comove.cli.options import OutOpt, PairOptions, pair_command

app = typer.Typer()


@app.command()
@pair_command
def analyze(
    pair: PairOptions,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="table: latest rows and a summary; csv/json: the whole analysis table.",
        ),
    ] = OutputFormat.table,
    out: OutOpt = None,
    rows: Annotated[int, typer.Option("--rows", help="Rows shown by --format table.", min=1)] = 10,
) -> None:
    """Print or write the analysis table (one row per aligned session) and the latest reading."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove.cli.render import summary_lines, table_csv, table_json, table_text
        from comove.files import write_text_atomic
        from comove.pipeline import run

        path = check_output_path(out) if out is not None else None
        analysis = run(
            pair.request(), pair.settings(), pair.analysis(), progress=progress_on(console)
        )
        table = analysis.table
        summary = summary_lines(analysis)
        if output_format is OutputFormat.table:
            text = table_text(table.tail(rows), summary)
        elif output_format is OutputFormat.csv:
            text = table_csv(table)
        else:
            text = table_json(table)
        if path is not None:
            write_text_atomic(path, text)
            for line in summary:
                console.print(line)
            console.print(f"Wrote {len(table)} rows to {path}")
            return
        sys.stdout.write(text)
        if output_format is not OutputFormat.table:
            for line in summary:
                console.print(line)

    run_command(body)
