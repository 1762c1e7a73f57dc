"""What every command shares: one-line errors and exit codes, progress, safe output files.

Text a user or a file supplied (exception messages, paths, symbols) is printed with Rich
markup off, so ``bad[/x].csv`` prints as written and cannot break the output.
"""

from __future__ import annotations

import gc
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from comove._secrets import redact
from comove.errors import ComoveError, ConfigError, exit_code

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

_collection_paused = False


def pause_collection() -> None:
    """Turn the cyclic garbage collector off while a command starts (the console entry).

    Start-up only loads modules, classes and functions, which live as long as the process:
    the collections they trigger find nothing, yet cost about a sixth of a short command
    (``benchmarks/bench_cli.py``). :func:`run_command` turns it back on.
    """
    global _collection_paused
    if gc.isenabled():
        gc.disable()
        _collection_paused = True


def resume_collection() -> None:
    """Collect again after :func:`pause_collection`, leaving out everything loaded so far."""
    global _collection_paused
    if _collection_paused:
        gc.freeze()
        gc.enable()
        _collection_paused = False


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Stderr:
    """Where progress, summaries, warnings and errors go; markup is never interpreted.

    Off a terminal, text is written as it is; Rich (about 70 ms to import) is loaded only
    for a terminal (colours, spinners, progress bars) or for a table.
    """

    def __init__(self, rich: Console | None = None) -> None:
        self._rich = rich
        self.is_terminal = rich.is_terminal if rich is not None else sys.stderr.isatty()

    @property
    def rich(self) -> Console:
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
        return self._rich

    def print(self, *objects: Any) -> None:
        if not self.is_terminal and all(isinstance(o, str) for o in objects):
            sys.stderr.write(" ".join(objects) + "\n")
            sys.stderr.flush()
        else:
            self.rich.print(*objects)


def stderr_console() -> Stderr:
    """The console for progress, summaries, warnings and errors (see :class:`Stderr`)."""
    return Stderr()


def say(console: Stderr, label: str, message: str, style: str) -> None:
    """``label: message`` on one line, the label coloured, the message printed verbatim."""
    if not console.is_terminal:
        console.print(f"{label}: {redact(message)}")
        return
    from rich.text import Text

    console.print(Text(f"{label}:", style=style) + Text(" " + redact(message)))


def run_command(action: Callable[[list[warnings.WarningMessage]], T]) -> T:
    """Run a command body: data warnings to stderr, comove errors to one line and an exit code.

    The body receives the live list of warnings caught so far (the report shows them too).
    Exit codes come from :func:`comove.errors.exit_code`. The garbage collector paused for
    start-up runs again from here.
    """
    resume_collection()
    console = stderr_console()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return action(caught)
        except ComoveError as exc:
            say(console, "error", str(exc), "red")
            raise typer.Exit(exit_code(exc)) from None
        finally:
            for item in caught:
                say(console, "warning", str(item.message), "yellow")


@contextmanager
def step(console: Stderr, message: str) -> Iterator[None]:
    """A spinner with ``message`` while the block runs (terminals only)."""
    if console.is_terminal:
        from rich.text import Text

        with console.rich.status(Text(message)):
            yield
    else:
        yield


def progress_on(console: Stderr) -> Callable[[str], AbstractContextManager[None]]:
    """The pipeline's progress hook: a spinner per step on ``console``."""
    return lambda message: step(console, message)


def check_output_path(path: Path) -> Path:
    """The resolved output path, after checking that its folder exists and it is no folder."""
    target = path.expanduser().resolve()
    if not target.parent.is_dir():
        raise ConfigError(f"cannot write {path}: folder {target.parent} does not exist")
    if target.is_dir():
        raise ConfigError(f"cannot write {path}: it is a folder; give a file name")
    return target
