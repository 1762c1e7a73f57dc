"""``comove fetch``: bring the local store up to date from the live providers.

With no sources it refreshes the configured crypto, equity and large-cap chains (the first
source of each that works) and every macro series. Exit code 3 when a
provider failed after its retries (everything else is still fetched and stored), 1 for a
user error (unknown symbol, bad source string).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from comove.cli.common import Stderr, run_command, say, stderr_console
from comove.cli.options import ConfigOpt, StoreOpt

if TYPE_CHECKING:
    from comove.data.refresh import RefreshResult
    from comove.data.sources import SourceSpec

VERIFY_TOLERANCE = {"crypto": 0.01, "equity": 0.005}


def _progress_factory(console: Stderr) -> Any:
    """A context manager yielding ``(label) -> callback``; a no-op off a terminal."""
    from contextlib import contextmanager

    @contextmanager
    def progress_for(label: str) -> Any:
        if not console.is_terminal:
            yield None
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[rows]} bars, through {task.fields[last]}"),
            TimeElapsedColumn(),
            console=console.rich,
            transient=True,
        ) as bar:
            task = bar.add_task(label, total=None, rows=0, last="…")

            def update(last: Any, rows: int) -> None:
                bar.update(task, rows=rows, last=str(last)[:16])

            yield update

    return progress_for


app = typer.Typer()


@app.command()
def fetch(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Sources to refresh (yahoo:^RUT, exchange:kraken:ETH/USD, fred:WALCL, "
            "csv:FILE). Default: the configured crypto chain, equity chain and macro series.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Fetch from this date (YYYY-MM-DD) even if later data is stored (backfill).",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[str, typer.Option("--interval", help="Bar interval: 1d or 1h.")] = "1d",
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Compare the same asset from two providers and list days that disagree.",
        ),
    ] = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Fetch what the store is missing (plus the last stored bar again) and store it."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> int:
        return _run(console, sources or [], since, interval, verify, store, config)

    code = run_command(body)
    if code:
        raise typer.Exit(code)


def _run(
    console: Stderr,
    sources: list[str],
    since: str | None,
    interval: str,
    verify: bool,
    store_path: Path | None,
    config: Path | None,
) -> int:
    import pandas as pd

    from comove.config import load_settings
    from comove.data.providers.base import check_interval
    from comove.data.sources import parse_source
    from comove.data.store import ShortLivedStore
    from comove.errors import ConfigError

    check_interval("fetch", interval)
    settings = load_settings(config).with_store(store_path)
    since_ts = None
    if since is not None:
        try:
            since_ts = pd.Timestamp(since)
        except ValueError:
            raise ConfigError(f"--since {since!r}: expected a date like 2024-01-31") from None
    # Parse everything first so a typo stops the run before any request.
    groups: list[tuple[str, list[SourceSpec], bool]] = []
    if sources:
        groups.extend((text, [parse_source(text)], False) for text in sources)
    else:
        # store: members name what is stored already; there is nothing to fetch for them.
        for label, chain in (
            ("crypto", settings.crypto_sources),
            ("equity", settings.equity_sources),
            ("large caps", settings.large_cap_sources),
        ):
            specs = [s for s in map(parse_source, chain) if s.provider != "store"]
            if specs:
                groups.append((label, specs, True))
        groups.extend((s, [parse_source(s)], False) for s in settings.macro_sources)
    # Opened per call, so a fetch never holds the store's lock while it waits on the network.
    store = ShortLivedStore(settings.store_path)
    return _fetch_all(console, store, settings, groups, since_ts, interval, verify)


def _fetch_all(
    console: Stderr,
    store: Any,
    settings: Any,
    groups: list[tuple[str, list[SourceSpec], bool]],
    since: Any,
    interval: str,
    verify: bool,
) -> int:
    from comove.data.refresh import refresh
    from comove.errors import ProviderError, SymbolNotFound
    from comove.pipeline.sources import run_providers

    providers = run_providers(settings)
    progress_for = _progress_factory(console)
    provider_failed = False
    user_failed = False
    done: dict[str, list[RefreshResult]] = {}
    for label, specs, is_chain in groups:
        wanted = 2 if (verify and is_chain) else 1
        results: list[RefreshResult] = []
        # Each reason already names its source ("yahoo:^RUT: ...").
        skipped: list[str] = []
        for spec in specs:
            if len(results) >= wanted:
                break
            the_interval = "1d" if spec.is_macro else interval
            try:
                with progress_for(f"{spec.text} {the_interval}") as update:
                    result = refresh(
                        store, spec, since=since, interval=the_interval,
                        providers=providers, progress=update,
                    )  # fmt: skip
            except ProviderError as exc:
                skipped.append(str(exc))
                if not is_chain:
                    say(console, "error", str(exc), "red")
                    if isinstance(exc, SymbolNotFound):
                        user_failed = True
                    else:
                        provider_failed = True
                continue
            results.append(result)
            prefix = f"{label}: " if is_chain else ""
            console.print(prefix + result.summary())
            for reason in skipped:
                console.print(f"  skipped {reason}")
            skipped = []
        if is_chain and not results:
            say(console, "error", f"{label}: no source worked ({'; '.join(skipped)})", "red")
            provider_failed = True
        elif is_chain and skipped:
            for reason in skipped:
                console.print(f"  skipped {reason}")
        done[label] = results
    if verify:
        _verify(console, store, groups, done)
    if provider_failed:
        return 3
    return 1 if user_failed else 0


def _verify(
    console: Stderr,
    store: Any,
    groups: list[tuple[str, list[SourceSpec], bool]],
    done: dict[str, list[RefreshResult]],
) -> None:
    from comove.data.refresh import verify as compare

    pairs: list[tuple[str, SourceSpec, SourceSpec]] = []
    for label, _, is_chain in groups:
        results = done.get(label, [])
        if is_chain and len(results) >= 2:
            pairs.append((label, results[0].spec, results[1].spec))
    if not pairs:
        bars = [
            r.spec for _, specs, chain in groups if not chain for r in done.get(specs[0].text, [])
        ]
        bars = [s for s in bars if not s.is_macro]
        if len(bars) >= 2:
            pairs.append(("sources", bars[0], bars[1]))
    if not pairs:
        console.print("verify: needs two bar sources that fetched")
        return
    for label, a, b in pairs:
        tolerance = VERIFY_TOLERANCE.get(label, 0.01)
        diff = compare(store, a, b, tolerance)
        console.print(
            f"verify {a.text} vs {b.text}: {diff.attrs['compared']} common days, "
            f"{len(diff)} beyond {tolerance:.2%} (largest {diff.attrs['max_abs_diff']:.4f})",
        )
        for date, row in diff.head(10).iterrows():
            console.print(f"  {date:%Y-%m-%d}: {row['ret_a']:+.4f} vs {row['ret_b']:+.4f}")
