"""``comove store info|export``: what the local store holds, and a symbol written out.

Every command opens the store only for as long as it needs it, so a concurrent
``comove fetch`` waits at most for one short write.
"""

from __future__ import annotations

import io
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from comove.cli.common import OutputFormat, check_output_path, run_command, stderr_console
from comove.cli.options import ConfigOpt, StoreOpt
from comove.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


app = typer.Typer()
store_app = typer.Typer(
    name="store",
    help="Look inside the local store: what is stored, how fresh; export a symbol.",
    no_args_is_help=True,
)


def _store_path(store: Path | None) -> Path:
    from comove.config import load_settings

    return load_settings().with_store(store).store_path


def _words(delta: pd.Timedelta | None) -> str:
    import pandas as pd

    if delta is None or pd.isna(delta):
        return "-"
    seconds = max(delta.total_seconds(), 0.0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "just now"


def _stamp(value: Any, interval: str = "1d") -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return ""
    ts = pd.Timestamp(value)
    if interval == "1d" and ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M")


def _fetch_words(row: Any) -> str:
    import pandas as pd

    if pd.isna(row.last_fetch):
        return "never"
    state = "ok" if row.last_fetch_ok is True else "failed"
    return f"{_stamp(row.last_fetch, '1h')} {state}"


@store_app.command("info")
def info(
    store: StoreOpt = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="table for people; csv/json for scripts."),
    ] = OutputFormat.table,
) -> None:
    """What is stored: symbol, source, interval, span, rows, last fetch and staleness."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove.data.store import Store

        path = _store_path(store)
        with Store(path, read_only=True) as db:
            frame = db.info()
        if output_format is OutputFormat.table:
            console.print(f"store: {path}")
            if frame.empty:
                console.print("the store is empty (comove fetch or comove import fill it)")
                return
            sys.stdout.write(_info_table(frame))
            return
        shown = _info_records(frame)
        if output_format is OutputFormat.csv:
            import pandas as pd

            sys.stdout.write(pd.DataFrame(shown).to_csv(index=False, lineterminator="\n"))
        else:
            import json

            sys.stdout.write(json.dumps(shown, indent=1) + "\n")

    run_command(body)


def _info_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import pandas as pd

    records: list[dict[str, Any]] = []
    rows: list[Any] = list(frame.itertuples(index=False))
    for row in rows:
        records.append(
            {
                "kind": row.kind,
                "source": row.source,
                "symbol": row.symbol,
                "interval": row.interval,
                "first": pd.Timestamp(row.first).isoformat(),
                "last": pd.Timestamp(row.last).isoformat(),
                "rows": int(row.rows),
                "last_fetch": None
                if pd.isna(row.last_fetch)
                else pd.Timestamp(row.last_fetch).isoformat(),
                "last_fetch_ok": None if pd.isna(row.last_fetch_ok) else bool(row.last_fetch_ok),
                "staleness_seconds": round(pd.Timedelta(row.staleness).total_seconds()),
                "staleness": _words(row.staleness),
            }
        )
    return records


def _info_table(frame: pd.DataFrame) -> str:
    from rich.console import Console
    from rich.table import Table

    grid = Table(show_edge=False, header_style="bold")
    for column, justify in (
        ("symbol", "left"),
        ("source", "left"),
        ("interval", "left"),
        ("span", "left"),
        ("rows", "right"),
        ("last fetch", "left"),
        ("staleness", "right"),
    ):
        grid.add_column(column, justify=justify)  # type: ignore[arg-type]
    rows: list[Any] = list(frame.itertuples(index=False))
    for row in rows:
        grid.add_row(
            str(row.symbol) + (" (series)" if row.kind == "series" else ""),
            str(row.source),
            str(row.interval),
            f"{_stamp(row.first, row.interval)} to {_stamp(row.last, row.interval)}",
            f"{int(row.rows):,}",
            _fetch_words(row),
            _words(row.staleness),
        )
    console = Console(record=True, width=140, file=io.StringIO())
    console.print(grid)
    return console.export_text()


@store_app.command("export")
def export(
    symbol: Annotated[str, typer.Argument(help="The stored symbol, e.g. ETH-USD.")],
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Which stored source [default: the one whose data ends latest].",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bar interval.")] = "1d",
    export_format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="csv or parquet.")
    ] = ExportFormat.csv,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="File to write [default: CSV to standard output].",
            show_default=False,
        ),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Write a stored symbol's bars as CSV or Parquet (readable again by comove)."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        import pandas as pd

        from comove.data.store import Store
        from comove.files import replace_atomically, write_text_atomic

        target = check_output_path(out) if out is not None else None
        if export_format is ExportFormat.parquet and target is None:
            raise ConfigError("--format parquet needs --out FILE")
        with Store(_store_path(store), read_only=True) as db:
            bars = db.read_bars(symbol, source=source, interval=interval)
        frame = bars.copy()
        fmt = "%Y-%m-%d" if interval == "1d" else "%Y-%m-%d %H:%M:%S"
        if export_format is ExportFormat.csv:
            frame.index = pd.DatetimeIndex(frame.index).strftime(fmt)
            # pandas writes each float's shortest repr: it reads back to the same number.
            text = frame.to_csv(index_label="date", lineterminator="\n")
            if target is None:
                sys.stdout.write(text)
                return
            write_text_atomic(target, text)
        else:
            assert target is not None
            replace_atomically(
                target, lambda path: frame.reset_index().to_parquet(path, index=False)
            )
        console.print(
            f"Wrote {len(frame)} {interval} bars of {symbol} ({bars.attrs['origin']}) to {target}"
        )

    run_command(body)


@store_app.command("aliases")
def aliases(store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """The names each instrument goes by ([aliases]), and which of them the store holds."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> None:
        from comove.config import load_settings
        from comove.data.store import Store

        settings = load_settings(config).with_store(store)
        with Store(settings.store_path, read_only=True) as db:
            held = set(db.bar_summary(None)["symbol"].astype(str)) | set(db.series_ids())
        lines = []
        for group in settings.aliases:
            names = [f"{name} (stored)" if name in held else name for name in group]
            lines.append("  " + " = ".join(names))
        sys.stdout.write(
            "Names of one instrument (set more with [aliases] in comove.toml):\n"
            + "\n".join(lines)
            + "\n"
        )
        console.print(f"store: {settings.store_path}")

    run_command(body)


app.add_typer(store_app, name="store")
