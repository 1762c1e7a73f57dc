"""``comove compare``: the crypto against several benchmarks, across periods and regimes."""

from __future__ import annotations

import sys
import warnings
from enum import StrEnum
from typing import Annotated

import typer

from comove.cli.common import progress_on, run_command, stderr_console
from comove.cli.options import PairOptions, pair_command

app = typer.Typer()


class CompareFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _period_option(values: list[str] | None) -> list[str] | None:
    from comove.errors import ConfigError
    from comove.pipeline.compare import parse_period

    for text in values or []:
        try:
            parse_period(text)
        except ConfigError as exc:
            raise typer.BadParameter(str(exc)) from None
    return values


@app.command()
@pair_command
def compare(
    pair: PairOptions,
    benchmark: Annotated[
        list[str] | None,
        typer.Option(
            "--benchmark",
            "-b",
            help=(
                "A benchmark source (repeatable). The first is the one under test (small caps),"
                " the second the reference (large caps). Default: the configured equity index"
                " and large caps, and the Nasdaq (yahoo:^IXIC, else yahoo:QQQ)."
            ),
            show_default=False,
        ),
    ] = None,
    period: Annotated[
        list[str] | None,
        typer.Option(
            "--period",
            "-p",
            help="A period START:END to compare (repeatable), e.g. 2020-01-01:2021-12-31.",
            callback=_period_option,
            show_default=False,
        ),
    ] = None,
    reps: Annotated[
        int, typer.Option("--reps", help="Bootstrap replications.", min=100, max=100_000)
    ] = 2000,
    level: Annotated[
        float,
        typer.Option("--level", help="Confidence level of every interval.", min=0.5, max=0.999),
    ] = 0.95,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    output_format: Annotated[
        CompareFormat,
        typer.Option(
            "--format",
            "-f",
            help="table: for reading; json: everything; csv: the rolling columns.",
        ),
    ] = CompareFormat.table,
) -> None:
    """Small caps or just stocks, did the link change, and intervals that survive fat tails."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove._json import dumps
        from comove.cli.render import comparison_text, table_csv
        from comove.pipeline.compare import CompareOptions, compare, parse_period

        settings = pair.settings()
        analysis_options = pair.analysis()
        options = CompareOptions(
            benchmarks=tuple(benchmark or ()),
            periods=tuple(parse_period(p) for p in period or ()),
            windows=analysis_options.windows,
            level=level,
            reps=reps,
            seed=seed,
            since=analysis_options.since,
            until=analysis_options.until,
        )
        result = compare(
            pair.request(), settings, options, calendar=analysis_options.calendar,
            progress=progress_on(console),
        )  # fmt: skip
        if output_format is CompareFormat.json:
            sys.stdout.write(dumps({"synthetic": pair.demo, **result.to_dict()}, indent=1) + "\n")
        elif output_format is CompareFormat.csv:
            sys.stdout.write(table_csv(result.rolling()))
        else:
            sys.stdout.write(comparison_text(result.to_dict(), synthetic=pair.demo))

    run_command(body)
