"""``comove report``: the self-contained HTML report of a pair."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from comove.cli.common import check_output_path, progress_on, run_command, stderr_console, step
from comove.cli.options import PairOptions, pair_command

app = typer.Typer()

OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="HTML file to write [default: comove-report.html, or comove-demo-report.html with --demo].",
        show_default=False,
    ),
]


@app.command()
@pair_command
def report(pair: PairOptions, out: OutOpt = None) -> None:
    """Write a self-contained HTML report (opens offline) and print where it is."""
    # Loaded before run_command, while start-up has the garbage collector paused.
    from comove.cli.render import summary_lines
    from comove.pipeline import run
    from comove.report.html import write_report

    console = stderr_console()
    target = out or Path("comove-demo-report.html" if pair.demo else "comove-report.html")

    def body(caught: list[warnings.WarningMessage]) -> Path:
        path = check_output_path(target)
        analysis = run(
            pair.request(), pair.settings(), pair.analysis(), progress=progress_on(console)
        )
        with step(console, "Rendering the report"):
            written = write_report(analysis, path, data_warnings=[str(w.message) for w in caught])
        for line in summary_lines(analysis):
            console.print(line)
        return written

    written = run_command(body)
    typer.echo(f"Report written to {written}")
