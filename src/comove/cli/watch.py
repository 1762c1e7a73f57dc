"""``comove watch``: the monitor loop, ``--once`` for cron, ``--status`` for what happened."""

from __future__ import annotations

import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from comove.cli.common import run_command, stderr_console
from comove.cli.options import ConfigOpt, StoreOpt

if TYPE_CHECKING:
    from comove.config import Settings


@contextmanager
def graceful_stop(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the current step finishes); a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write(
            f"comove watch: {signal.Signals(signum).name} received, stopping after this step\n"
        )
        sys.stderr.flush()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _settings(config: Path | None, store: Path | None) -> Settings:
    from comove.config import load_settings

    return load_settings(config).with_store(store)


def status_text(settings: Settings, limit: int = 10) -> str:
    """Recent runs, recent alerts and channel failures, as plain text."""
    import pandas as pd

    from comove.data.store import Store

    def stamp(value: Any) -> str:
        return "-" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"

    with Store(settings.store_path, read_only=True) as store:
        runs = store.watch_runs(limit)
        alerts = store.recent_alerts(max(limit, 50))
    lines = [f"store: {settings.store_path}", "", f"Recent runs (newest first, up to {limit}):"]
    if runs.empty:
        lines.append("  none yet: start comove watch (or comove watch --once)")
    for row in runs.itertuples(index=False):
        as_of = stamp(row.data_as_of)[:10]
        lines.append(
            f"  {stamp(row.started_at)} UTC  data as of {as_of}  {row.outcome!s}"
            + (f"  {row.message!s}" if row.message else "")
        )
    lines += ["", "Recent alerts:"]
    if alerts.empty:
        lines.append("  none yet")
    for row in alerts.head(limit).itertuples(index=False):
        mark = "sent" if row.ok else "FAILED"
        lines.append(f"  {stamp(row.sent_at)} UTC  [{row.channel}] {mark}: {row.subject}")
    failures = alerts[~alerts["ok"]] if not alerts.empty else alerts
    lines += ["", "Channel failures:"]
    if failures.empty:
        lines.append("  none")
    for row in failures.head(limit).itertuples(index=False):
        lines.append(f"  {stamp(row.sent_at)} UTC  [{row.channel}] {row.kind}: {row.error}")
    configured = ", ".join(f"{c.name} ({c.type})" for c in settings.alerts.channels)
    lines += ["", f"Channels: {configured or 'console only (none configured)'}"]
    return "\n".join(lines) + "\n"


app = typer.Typer()


@app.command()
def watch(
    once: Annotated[
        bool, typer.Option("--once", help="Run one cycle and exit (for cron).")
    ] = False,
    status: Annotated[
        bool,
        typer.Option("--status", help="Print recent runs, alerts and channel failures."),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="Rows shown by --status.", min=1)] = 10,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Watch the pair: refresh on schedule, recompute, alert on changes (Ctrl-C stops)."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> int:
        settings = _settings(config, store)
        if status:
            sys.stdout.write(status_text(settings, limit))
            return 0
        from comove.watch import watch_loop

        stop = threading.Event()
        if not once:
            every = settings.watch.crypto_every / 60
            console.print(
                f"comove watch: crypto every {every:g} min, equity and macro after "
                f"{settings.watch.equity_after:%H:%M} New York; store {settings.store_path}",
            )
        with graceful_stop(stop):
            try:
                results = watch_loop(settings, once=once, stop=stop, out=sys.stdout)
            except KeyboardInterrupt:
                console.print("comove watch: interrupted")
                return 130
        if stop.is_set():
            console.print("comove watch: stopped")
            return 0
        if once and results and results[-1].outcome == "error":
            return 1
        return 0

    code = run_command(body)
    if code:
        raise typer.Exit(code)
