"""Loading every input of an analysis: the pair, hourly bars, macro series, the large caps.

One place decides where each comes from, for every view (CLI, ``watch``, the dashboard,
scans): a file is read as it is; a ``store:`` source, or a chain member whose live refresh
is off or failed, is read from the store (:mod:`comove.pipeline.sources`); live chain
members are refreshed into the store first, then read back, so an outage only makes the
data older (a :class:`~comove.errors.DataWarning` says how old and why).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from comove.config import Settings
from comove.data.bars import PriceChoice, drop_unfinished_bar, read_bars
from comove.data.sources import SourceSpec, parse_source
from comove.errors import ConfigError, DataError, DataWarning, ProviderError
from comove.pipeline.sources import (
    Stored,
    parse_chain,
    run_providers,
    stored_for,
    stored_for_chain,
    stored_series_id,
)

if TYPE_CHECKING:
    from comove.data.refresh import ProviderFactory
    from comove.data.store import Store

Progress = Callable[[str], AbstractContextManager[Any]]


@contextmanager
def _quiet(message: str) -> Iterator[None]:
    yield


@dataclass(frozen=True)
class PairRequest:
    """What to analyse and how to read it (the CLI's pair options, a dashboard query, ...).

    A side left ``None`` comes from the configured chain. ``store:SYMBOL`` reads the store;
    ``csv:FILE`` (or a bare path) a file. ``offline`` skips every refresh. ``demo`` swaps
    every source for the labelled synthetic set. ``price`` and ``drop_last`` apply to
    files and stored bars (``None``: drop a last bar only when it is unfinished);
    ``date_format`` and ``earliest`` to files (:func:`comove.data.bars.read_bars`).
    """

    crypto: str | None = None
    equity: str | None = None
    crypto_hourly: str | None = None
    demo: bool = False
    price: PriceChoice = "auto"
    drop_last: bool | None = None
    offline: bool = False
    date_format: str | None = None
    earliest: str | None = None


@dataclass(frozen=True)
class MissingInput:
    """An optional input that is absent: what, which parts, and the one command that adds it."""

    what: str
    detail: str
    command: str

    def to_dict(self) -> dict[str, str]:
        return {"what": self.what, "detail": self.detail, "command": self.command}


@dataclass(frozen=True)
class PairInputs:
    """Everything an analysis reads."""

    crypto: pd.DataFrame
    equity: pd.DataFrame
    hourly: pd.DataFrame | None = None
    macro: dict[str, pd.Series] = field(default_factory=dict)
    large_caps: pd.DataFrame | None = None
    missing: tuple[MissingInput, ...] = ()


def _finish(bars: pd.DataFrame, label: str, drop_last: bool | None) -> pd.DataFrame:
    kept, dropped = drop_unfinished_bar(bars, str(bars.attrs["interval"]), drop_last, source=label)
    if kept.empty:
        raise DataError(f"{label}: the store holds no complete bars")
    kept.attrs = {**bars.attrs, "source": label, "dropped_incomplete": dropped}
    return kept


def read_stored(
    store: Store, found: Stored, label: str, drop_last: bool | None = None
) -> pd.DataFrame:
    """Bars stored under ``found`` (without an unfinished last bar), labelled ``label``."""
    bars = store.read_bars(found.symbol, source=found.source, interval=found.interval)
    return _finish(bars, label, drop_last)


def _open(settings: Settings) -> Store:
    from comove.data.store import Store

    return Store(settings.store_path, read_only=True)


def _nothing_stored(what: str, chain: Sequence[SourceSpec], symbols: Sequence[str]) -> str:
    """What is missing, what the store does hold (closest names first), how to add it."""
    names = ", ".join(spec.text for spec in chain)
    stored = sorted(set(symbols))
    if not stored:
        held = "the store holds no bars yet"
    else:
        close = difflib.get_close_matches(chain[0].name, stored, n=len(stored), cutoff=0.3)
        ordered = close + [name for name in stored if name not in close]
        held = "stored symbols: " + ", ".join(ordered[:12]) + (", ..." if len(ordered) > 12 else "")
    return (
        f"{what}: nothing stored for {names} ({held}); add it with comove fetch (needs the "
        "network) or comove import csv:FILE --as SYMBOL"
    )


def _chain_failure(what: str, failure: ProviderError) -> ProviderError:
    return ProviderError(
        f"{what}: {failure}; nothing is stored to fall back on "
        "(offline? try --demo, or your own files: --crypto csv:FILE --equity csv:FILE)"
    )


def load_chain(
    chain: Sequence[SourceSpec],
    settings: Settings,
    *,
    what: str,
    refresh_live: bool = True,
    drop_last: bool | None = None,
    price: PriceChoice = "auto",
    providers: ProviderFactory | None = None,
    interval: str = "1d",
) -> pd.DataFrame:
    """Bars of the first member of ``chain`` that works (see the module docstring).

    Raises
    ------
    ProviderError
        The refresh failed and nothing is stored to fall back on.
    DataError
        Nothing is stored and nothing was refreshed.
    """
    files = [spec for spec in chain if spec.is_file]
    if files:
        return load_bars(files[0].text, settings, price=price, drop_last=drop_last)
    live = [spec for spec in chain if spec.provider in ("yahoo", "exchange")]
    failure: ProviderError | None = None
    used: SourceSpec | None = None
    if refresh_live and live:
        from comove.data.refresh import refresh_first_available
        from comove.data.store import ShortLivedStore

        try:
            used, _ = refresh_first_available(
                ShortLivedStore(settings.store_path),
                live,
                interval=interval,
                providers=providers or run_providers(settings),
            )
        except ProviderError as exc:
            failure = exc
    if not settings.store_path.exists():
        # Nothing was ever stored (nor refreshed now): no need to open a store to say so.
        if failure is not None:
            raise _chain_failure(what, failure)
        raise DataError(_nothing_stored(what, chain, ()))
    with _open(settings) as store:
        summary = store.bar_summary(interval)
        found = None
        if used is not None:
            own = stored_for(used, summary, settings)
            found = (used, own) if own is not None else None
        if found is None:
            found = stored_for_chain(chain, summary, settings)
        if found is None:
            if failure is not None:
                raise _chain_failure(what, failure)
            raise DataError(_nothing_stored(what, chain, list(summary["symbol"].astype(str))))
        spec, stored = found
        label = spec.text if spec.provider != "store" else f"store:{stored.symbol}"
        bars = read_stored(store, stored, label, drop_last)
    if failure is not None:
        warnings.warn(
            f"{label}: data as of {bars.index[-1].date()}, refresh failed: {failure}",
            DataWarning,
            stacklevel=2,
        )
    return bars


def load_bars(
    source: str,
    settings: Settings,
    *,
    price: PriceChoice = "auto",
    drop_last: bool | None = None,
    refresh_live: bool = True,
    providers: ProviderFactory | None = None,
    interval: str = "1d",
    date_format: str | None = None,
    earliest: str | None = None,
) -> pd.DataFrame:
    """Bars for one source string ``PROVIDER:SYMBOL`` (or a file path)."""
    spec = parse_source(source)
    if spec.is_file:
        bars = read_bars(
            spec.symbol,
            price=price,
            drop_incomplete=drop_last,
            date_format=date_format,
            earliest=earliest,
        )
        bars.attrs["name"] = spec.name
        return bars
    if spec.is_macro:
        raise ConfigError(
            f"source {source!r} is a macro series, not prices; list it under [pair] macro"
        )
    return load_chain(
        [spec],
        settings,
        what=spec.text,
        refresh_live=refresh_live,
        drop_last=drop_last,
        price=price,
        providers=providers,
        interval=interval,
    )


def load_macro(
    settings: Settings,
    *,
    refresh_live: bool = True,
    providers: ProviderFactory | None = None,
) -> dict[str, pd.Series]:
    """The configured macro series from the store, refreshed first; failures become a warning."""
    specs = parse_chain(settings.macro_sources)
    failed: list[str] = []
    live = [spec for spec in specs if spec.is_live]
    if refresh_live and live:
        from comove.data.refresh import refresh
        from comove.data.store import ShortLivedStore

        writer = ShortLivedStore(settings.store_path)
        build = providers or run_providers(settings)
        for spec in live:
            try:
                refresh(writer, spec, providers=build)
            except ProviderError as exc:
                failed.append(str(exc))
    series: dict[str, pd.Series] = {}
    if settings.store_path.exists():
        with _open(settings) as store:
            stored = store.series_ids()
            for spec in specs:
                sid = stored_series_id(spec, stored, settings)
                if sid is not None:
                    series[spec.name] = store.read_series(sid)
    if failed:
        warnings.warn(
            f"macro refresh failed for {len(failed)} series, using what is stored: "
            + "; ".join(failed[:2])
            + ("; ..." if len(failed) > 2 else ""),
            DataWarning,
            stacklevel=2,
        )
    return series


def load_large_caps(
    settings: Settings,
    *,
    refresh_live: bool = True,
    providers: ProviderFactory | None = None,
    price: PriceChoice = "auto",
) -> pd.DataFrame | None:
    """The large-cap index for breadth, or ``None`` when it can be neither fetched nor read."""
    try:
        return load_chain(
            parse_chain(settings.large_cap_sources),
            settings,
            what="large caps",
            refresh_live=refresh_live,
            price=price,
            providers=providers,
        )
    except (DataError, ProviderError):
        return None


def _hourly(crypto: pd.DataFrame, settings: Settings) -> pd.DataFrame | None:
    """Stored hourly bars of the crypto (any provider or file, any of its names)."""
    name = str(crypto.attrs.get("name") or "")
    if not name or not settings.store_path.exists():
        return None
    with _open(settings) as store:
        found = stored_for(SourceSpec("store", name), store.bar_summary("1h"), settings)
        if found is None:
            return None
        return read_stored(store, found, f"store:{found.symbol} (1h)")


def _missing(
    settings: Settings, macro: Mapping[str, pd.Series], large_caps: pd.DataFrame | None
) -> tuple[MissingInput, ...]:
    missing: list[MissingInput] = []
    absent = [spec.name for spec in parse_chain(settings.macro_sources) if spec.name not in macro]
    if absent:
        missing.append(
            MissingInput(
                "macro",
                ", ".join(absent),
                f"comove fetch {' '.join('fred:' + a for a in absent[:3])}"
                + (" ..." if len(absent) > 3 else "")
                + f" (or comove import csv:{absent[0]}.csv --as fred:{absent[0]})",
            )
        )
    if large_caps is None:
        first = parse_source(settings.large_cap_sources[0])
        missing.append(
            MissingInput(
                "large_caps",
                ", ".join(settings.large_cap_sources),
                f"comove fetch {first.text} (or comove import csv:SPY.csv --as SPY)",
            )
        )
    return tuple(missing)


def load_inputs(
    request: PairRequest,
    settings: Settings,
    *,
    mode: str = "daily",
    progress: Progress | None = None,
) -> PairInputs:
    """Load the pair and everything around it for ``request`` (see :class:`PairRequest`)."""
    step = progress or _quiet
    if request.demo:
        if request.crypto or request.equity or request.crypto_hourly:
            raise ConfigError("--demo replaces the sources; drop --crypto/--equity/--crypto-hourly")
        from comove.data.demo import demo_macro, demo_pair

        with step("Generating the synthetic demo pair"):
            demo_crypto, demo_equity = demo_pair()
            demo_series, demo_caps = demo_macro(demo_equity)
        return PairInputs(demo_crypto, demo_equity, None, demo_series, demo_caps)
    refresh_live = not request.offline
    providers = run_providers(settings) if refresh_live else None
    sides: list[pd.DataFrame] = []
    hourly: pd.DataFrame | None = None
    for given, chain, what in (
        (request.crypto, settings.crypto_sources, "crypto"),
        (request.equity, settings.equity_sources, "the equity index"),
    ):
        if given is None:
            with step(f"Updating {what} from {chain[0]} (and fallbacks)"):
                bars = load_chain(
                    parse_chain(chain),
                    settings,
                    what=what,
                    refresh_live=refresh_live,
                    drop_last=request.drop_last,
                    price=request.price,
                    providers=providers,
                )
        else:
            with step(f"Reading {given}"):
                bars = load_bars(
                    given,
                    settings,
                    price=request.price,
                    drop_last=request.drop_last,
                    refresh_live=refresh_live,
                    providers=providers,
                    date_format=request.date_format,
                    earliest=request.earliest,
                )
        sides.append(bars)
    crypto, equity = sides
    if request.crypto_hourly is not None:
        with step(f"Reading {request.crypto_hourly}"):
            hourly = load_bars(
                request.crypto_hourly,
                settings,
                drop_last=request.drop_last,
                refresh_live=refresh_live,
                providers=providers,
                interval="1h",
                date_format=request.date_format,
                earliest=request.earliest,
            )
    elif mode == "synchronous":
        hourly = _hourly(crypto, settings)
    explicit = [s for s in (request.crypto, request.equity) if s is not None]
    live = refresh_live and (
        len(explicit) < 2
        or any(parse_source(s).provider in ("yahoo", "exchange") for s in explicit)
    )
    with step("Updating macro series and large caps" if live else "Reading macro data"):
        macro = load_macro(settings, refresh_live=live, providers=providers)
        large_caps = load_large_caps(
            settings, refresh_live=live, providers=providers, price=request.price
        )
    return PairInputs(
        crypto, equity, hourly, macro, large_caps, _missing(settings, macro, large_caps)
    )
