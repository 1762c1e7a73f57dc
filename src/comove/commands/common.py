"""Helpers every command shares: one-line errors and exit codes, progress, safe output files."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from comove.errors import ComoveError, ConfigError, ProviderError, SymbolNotFound
from comove.files import write_text_atomic

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def run_command(action: Callable[[list[warnings.WarningMessage]], T]) -> T:
    """Run a command body: data warnings to stderr, comove errors to one line and an exit code.

    The body receives the live list of warnings caught so far (the report shows them too).
    """
    console = stderr_console()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return action(caught)
        except ComoveError as exc:
            code = (
                3 if isinstance(exc, ProviderError) and not isinstance(exc, SymbolNotFound) else 1
            )
            console.print(f"[red]error:[/] {exc}", markup=True)
            raise typer.Exit(code) from None
        finally:
            for item in caught:
                console.print(f"[yellow]warning:[/] {item.message}", markup=True)


@contextmanager
def step(console: Console, message: str) -> Iterator[None]:
    if console.is_terminal:
        with console.status(message):
            yield
    else:
        yield


def check_output_path(path: Path) -> Path:
    folder = path.expanduser().resolve().parent
    if not folder.is_dir():
        raise ConfigError(f"cannot write {path}: folder {folder} does not exist")
    return path.expanduser().resolve()


write_atomic = write_text_atomic
