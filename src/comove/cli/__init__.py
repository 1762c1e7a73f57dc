"""The ``comove`` command line: every command registered here, in one place.

Each command lives in its own module with its own Typer app (merged into this one), parses
its options, calls the pipeline and prints. Exit codes come from
:func:`comove.errors.exit_code`: 0 ok, 1 a user error with a one-line message, 2 a usage
error, 3 a provider/network failure after retries. Heavy modules (pandas, plotly, DuckDB)
are imported inside the commands, so ``comove --help`` starts fast.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Annotated, Any

import typer

#: Each command's name and the module of ``comove.cli`` that defines it (its own Typer app),
#: in the order ``comove --help`` lists them.
COMMANDS: dict[str, str] = {
    "report": "report",
    "analyze": "analyze",
    "compare": "compare",
    "signals": "signals",
    "backtest": "backtest",
    "fetch": "fetch",
    "import": "imports",
    "store": "store",
    "watch": "watch",
    "alerts": "alerts",
    "serve": "serve",
    "scan": "scan",
}


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"comove {version('comove')}")
        raise typer.Exit()


def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """How a crypto asset and an equity index move together (default: ETH vs Russell 2000)."""


def build_app(only: str | None = None) -> typer.Typer:
    """The ``comove`` app with every command, or with the one named ``only``.

    Typer inspects the signature of every registered command on each run (about 40 ms for
    all of them), so the console entry registers only the command it was asked for.
    """
    built = typer.Typer(
        name="comove",
        help="How a crypto asset and an equity index move together (default: ETH vs Russell 2000).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Help text is printed as written: "[default: ...]" and "[section] key" must survive.
        rich_markup_mode=None,
    )
    built.callback()(main_options)
    for name, module in COMMANDS.items():
        if only is None or name == only:
            built.add_typer(import_module(f"comove.cli.{module}").app)
    return built


def __getattr__(name: str) -> Any:
    # ``app``, the whole command line (tests, ``python -m``-style callers), built on first use.
    if name == "app":
        value = globals()["app"] = build_app()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: builds only the command named on the command line (all of
    them for ``--help``, ``--version`` or a name that is not a command, so click can say so)."""
    from comove.cli.common import pause_collection

    pause_collection()
    asked = sys.argv[1] if len(sys.argv) > 1 else None
    build_app(asked if asked in COMMANDS else None)()
