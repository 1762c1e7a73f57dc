"""The ``comove`` command line: every command registered here, in one place.

Each command lives in its own module with its own Typer app (merged into this one), parses
its options, calls the pipeline and prints. Exit codes come from
:func:`comove.errors.exit_code`: 0 ok, 1 a user error with a one-line message, 2 a usage
error, 3 a provider/network failure after retries. Heavy modules (pandas, plotly, DuckDB)
are imported inside the commands, so ``comove --help`` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from comove.cli import (
    alerts,
    analyze,
    backtest,
    compare,
    fetch,
    imports,
    report,
    scan,
    serve,
    signals,
    store,
    watch,
)

COMMANDS = (
    report,
    analyze,
    compare,
    signals,
    backtest,
    fetch,
    imports,
    store,
    watch,
    alerts,
    serve,
    scan,
)

app = typer.Typer(
    name="comove",
    help="How a crypto asset and an equity index move together (default: ETH vs Russell 2000).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help text is printed as written: "[default: ...]" and "[section] key" must survive.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"comove {version('comove')}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """How a crypto asset and an equity index move together (default: ETH vs Russell 2000)."""


for command in COMMANDS:
    app.add_typer(command.app)


def main() -> None:
    """Console-script entry point."""
    app()
