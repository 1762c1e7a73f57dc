"""``comove signals``: the checklist of the latest session and, with ``--history``, every change."""

from __future__ import annotations

import sys
import warnings
from enum import StrEnum
from typing import Annotated

import typer

from comove.cli.common import progress_on, run_command, stderr_console
from comove.cli.options import PairOptions, pair_command

app = typer.Typer()


class SignalsFormat(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[
    SignalsFormat,
    typer.Option("--format", "-f", help="table: for reading; json: for programs."),
]


@app.command()
@pair_command
def signals(
    pair: PairOptions,
    history: Annotated[
        bool, typer.Option("--history", help="Also list every change of state.")
    ] = False,
    output_format: FormatOpt = SignalsFormat.table,
) -> None:
    """The signal checklist of the latest session: every condition, its value and since when."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove._json import dumps
        from comove.cli.render import checklist_text, history_text
        from comove.pipeline import run

        analysis = run(
            pair.request(), pair.settings(), pair.analysis(), progress=progress_on(console)
        )
        result = analysis.signals
        synthetic = bool(analysis.meta.get("synthetic"))
        verdict = analysis.verdict()
        if output_format is SignalsFormat.json:
            payload = {"synthetic": synthetic, **result.to_dict(), "verdict": verdict}
            if not history:
                payload.pop("history")
            sys.stdout.write(dumps(payload, indent=1) + "\n")
            return
        text = checklist_text(result.checklist(), synthetic)
        stance = verdict["stance"]
        if stance["caveat"]:
            text += (
                f"Stance for {stance['crypto']} exposure: {stance['word']} ({stance['caveat']})\n"
            )
        text += "".join(f"Missing: {gap['sentence']}\n" for gap in verdict["gaps"])
        if history:
            text += "\n" + history_text(result.history_records())
        sys.stdout.write(text)

    run_command(body)
