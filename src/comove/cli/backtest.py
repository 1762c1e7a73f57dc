"""``comove backtest``: what the signals were worth (event study, the stance as a strategy)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from comove.cli.common import check_output_path, progress_on, run_command, stderr_console, step
from comove.cli.options import PairOptions, pair_command
from comove.cli.signals import FormatOpt, SignalsFormat

app = typer.Typer()


@app.command()
@pair_command
def backtest(
    pair: PairOptions,
    cost_bps: Annotated[
        float,
        typer.Option(
            "--cost-bps", help="Cost per unit of turnover in basis points.", min=0, max=10_000
        ),
    ] = 10.0,
    output_format: FormatOpt = SignalsFormat.table,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write the HTML report with the evaluation to this file.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """What the signals were worth: event study, the stance overlay vs buy-and-hold."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove._json import dumps
        from comove.cli.render import backtest_text
        from comove.pipeline import run

        target = check_output_path(report) if report is not None else None
        analysis = run(
            pair.request(),
            pair.settings(),
            pair.analysis(cost_bps=cost_bps),
            progress=progress_on(console),
        )
        evaluation = analysis.evaluation
        synthetic = bool(analysis.meta.get("synthetic"))
        if output_format is SignalsFormat.json:
            payload = {"synthetic": synthetic, **evaluation.to_dict()}
            sys.stdout.write(dumps(payload, indent=1) + "\n")
        else:
            sys.stdout.write(backtest_text(evaluation, synthetic, analysis.crypto_name))
        if target is not None:
            from comove.report.html import write_report

            with step(console, "Rendering the report"):
                written = write_report(
                    analysis, target, data_warnings=[str(w.message) for w in caught]
                )
            console.print(f"Report written to {written}")

    run_command(body)
