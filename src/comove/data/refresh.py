"""Incremental refresh: fetch only what the store is missing, plus the last stored bar again.

The last stored bar is fetched again because it may have been stored while still trading
(today's bar changes until the close); the store's upsert makes a re-run idempotent and
logs a changed close of a finished bar as a revision. Everything a refresh fetches is
validated, then written in one store transaction: a failure half-way stores nothing. Every
attempt, good or bad, is recorded with ``Store.record_fetch``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from comove._secrets import redact
from comove._time import utc_naive_or_none
from comove.data.providers.base import NetworkState, ProgressCallback
from comove.data.sources import SourceSpec, parse_source
from comove.errors import ConfigError, DataError, ProviderError

if TYPE_CHECKING:
    import pandas as pd

ProviderFactory = Callable[[SourceSpec], Any]


@dataclass
class RefreshResult:
    """What one refresh did.

    ``rows`` is how many bars (or observations) the provider returned; ``report`` the
    store's ``WriteReport`` (``None`` when nothing was written); ``start`` the first time
    asked for (``None``: the whole history); ``last`` the last stored time afterwards.
    ``fallbacks`` lists ``(source, reason)`` for chain members that were skipped.
    """

    spec: SourceSpec
    interval: str
    rows: int
    report: Any
    start: pd.Timestamp | None
    last: pd.Timestamp | None
    units: str | None = None
    fallbacks: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        what = "observations" if self.spec.is_macro else f"{self.interval} bars"
        line = f"{self.spec.text}: {self.rows} {what} fetched"
        report = self.report
        if report is not None:
            line += (
                f" ({report.inserted} new, {report.updated} updated, {report.unchanged} unchanged"
                + (f", {len(report.revisions)} revised" if report.revisions else "")
                + ")"
            )
        if self.last is not None:
            stamp = self.last.strftime("%Y-%m-%d" if self.interval == "1d" else "%Y-%m-%d %H:%M")
            line += f"; stored through {stamp}"
        if self.units:
            line += f" [{self.units}]"
        return line


def default_factory(settings: Any = None, **options: Any) -> ProviderFactory:
    """Providers for one run, from :func:`~comove.data.providers.get_provider`.

    They share one :class:`~comove.data.providers.base.NetworkState`, so once a host proves
    unreachable the run's other sources give up quickly; ``options`` are passed on.
    """
    from comove.data.providers import get_provider

    network = options.pop("network", None) or NetworkState()

    def build(spec: SourceSpec) -> Any:
        return get_provider(spec, settings=settings, network=network, **options)

    return build


def _as_spec(spec: SourceSpec | str) -> SourceSpec:
    return parse_source(spec) if isinstance(spec, str) else spec


def _close(provider: Any) -> None:
    closer = getattr(provider, "close", None)
    if callable(closer):
        closer()


def refresh(
    store: Any,
    spec: SourceSpec | str,
    *,
    since: object | None = None,
    now: object | None = None,
    interval: str = "1d",
    providers: ProviderFactory | None = None,
    progress: ProgressCallback | None = None,
) -> RefreshResult:
    """Bring one source up to date in ``store``.

    Parameters
    ----------
    store
        An open, writable ``comove.data.store.Store``.
    spec
        The source (``exchange:kraken:ETH/USD``, ``yahoo:^RUT``, ``fred:WALCL``, ``csv:F``).
    since
        Fetch from this date even when later data is stored (a backfill); by default from
        the last stored bar, or the whole history when nothing is stored.
    now
        The clock, for tests; passed to the store as ``fetched_at``.
    providers
        Builds the provider for a spec (tests inject base URLs and fast retry policies).

    Raises
    ------
    ProviderError
        The provider failed after its retries (recorded in the store first).
    """
    spec = _as_spec(spec)
    if spec.provider == "store":
        raise ConfigError(
            f"source {spec.text!r}: store: sources are already stored; nothing to fetch"
        )
    build = providers or default_factory()
    fetched_at = utc_naive_or_none(now)
    start = utc_naive_or_none(since)
    symbol_key = spec.name
    record_interval = "1d" if spec.is_macro else interval
    provider = build(spec)
    try:
        if spec.is_macro:
            if start is None:
                start = _last_series_date(store, spec.symbol)
            values = provider.fetch_series(spec.symbol, start=start)
            report = store.write_series(
                spec.symbol,
                values,
                units=str(values.attrs.get("units", "")),
                source=spec.source_id,
                fetched_at=fetched_at,
            )
            rows = len(values)
            last = _last_series_date(store, spec.symbol)
            units: str | None = str(values.attrs.get("units", "")) or None
        else:
            if start is None:
                start = store.last_bar_time(spec.source_id, symbol_key, interval)
            bars = provider.fetch_bars(spec.symbol, interval, start=start, progress=progress)
            report = store.write_bars(
                spec.source_id, symbol_key, interval, bars, fetched_at=fetched_at
            )
            rows = len(bars)
            last = store.last_bar_time(spec.source_id, symbol_key, interval)
            units = None
    except ProviderError as exc:
        store.record_fetch(
            spec.source_id, symbol_key, record_interval, ok=False, message=str(exc), at=fetched_at
        )
        raise type(exc)(_naming_source(spec, str(exc))) from exc
    except DataError as exc:
        # A reply that parses but fails validation is the provider's fault, not the user's.
        message = redact(f"{spec.text}: bad data from the provider: {exc}")
        store.record_fetch(
            spec.source_id, symbol_key, record_interval, ok=False, message=message, at=fetched_at
        )
        raise ProviderError(message) from exc
    finally:
        _close(provider)
    result = RefreshResult(spec, record_interval, rows, report, start, last, units)
    store.record_fetch(
        spec.source_id,
        symbol_key,
        record_interval,
        ok=True,
        message=result.summary(),
        at=fetched_at,
    )
    return result


def _naming_source(spec: SourceSpec, message: str) -> str:
    """``SOURCE: message``: several sources can fail the same way against one host."""
    if message.startswith(f"{spec.text}: "):
        return message
    for prefix in {spec.source_id, spec.provider, spec.venue or spec.provider}:
        message = message.removeprefix(f"{prefix}: ")
    return f"{spec.text}: {message}"


def _last_series_date(store: Any, series_id: str) -> pd.Timestamp | None:
    try:
        stored = store.read_series(series_id)
    except DataError:
        return None
    return None if len(stored) == 0 else stored.index[-1]


def refresh_first_available(
    store: Any,
    specs: Sequence[SourceSpec | str],
    **options: Any,
) -> tuple[SourceSpec, RefreshResult]:
    """Refresh the first source of a chain that works; later ones only when earlier fail.

    A source that refuses (geo-block 451/403, outage, unknown market there) is skipped and
    the reason kept in ``result.fallbacks``; options are passed to :func:`refresh`.

    Raises
    ------
    ProviderError
        Every source failed; the message names each one and why.
    """
    if not specs:
        raise ConfigError("no sources to try")
    skipped: list[tuple[str, str]] = []
    for item in specs:
        spec = _as_spec(item)
        try:
            result = refresh(store, spec, **options)
        except ProviderError as exc:
            skipped.append((spec.text, str(exc).removeprefix(f"{spec.text}: ")))
            continue
        result.fallbacks = skipped
        return spec, result
    reasons = "; ".join(f"{text}: {why}" for text, why in skipped)
    raise ProviderError(f"no source worked ({reasons})")


def verify(
    source: Any,
    spec_a: SourceSpec | str,
    spec_b: SourceSpec | str,
    tolerance: float = 0.01,
    *,
    interval: str = "1d",
    start: object | None = None,
    end: object | None = None,
) -> pd.DataFrame:
    """Days where two providers of the same asset disagree on the close-to-close return.

    Parameters
    ----------
    source
        A store (bars read with ``read_bars(symbol, source=...)``) or a provider factory
        ``spec -> provider`` (bars fetched live).
    tolerance
        Largest accepted absolute difference of daily log returns (0.01 = 1 point).

    Returns
    -------
    DataFrame
        Index ``date``; columns ``close_a, close_b, ret_a, ret_b, diff`` for the days
        beyond the tolerance. ``attrs``: ``compared`` (common days with both returns),
        ``max_abs_diff``, ``a``, ``b``, ``tolerance``.
    """
    import numpy as np
    import pandas as pd

    a = _as_spec(spec_a)
    b = _as_spec(spec_b)
    first = _bars_for(source, a, interval, start, end)["close"]
    second = _bars_for(source, b, interval, start, end)["close"]
    both = pd.concat({"close_a": first, "close_b": second}, axis=1, join="inner").dropna()
    # Returns between consecutive *common* dates, so a day one side lacks is not a jump.
    both["ret_a"] = np.log(both["close_a"]).diff()
    both["ret_b"] = np.log(both["close_b"]).diff()
    both = both.iloc[1:]
    both["diff"] = both["ret_a"] - both["ret_b"]
    beyond = both[both["diff"].abs() > tolerance].copy()
    beyond.attrs = {
        "a": a.text,
        "b": b.text,
        "tolerance": tolerance,
        "compared": len(both),
        "max_abs_diff": float(both["diff"].abs().max()) if len(both) else float("nan"),
    }
    return beyond


def _bars_for(
    source: Any, spec: SourceSpec, interval: str, start: object | None, end: object | None
) -> pd.DataFrame:
    if callable(source) and not hasattr(source, "read_bars"):
        provider = source(spec)
        try:
            bars: pd.DataFrame = provider.fetch_bars(
                spec.symbol, interval, start=utc_naive_or_none(start), end=utc_naive_or_none(end)
            )
        finally:
            _close(provider)
        return bars
    return source.read_bars(
        spec.name, source=spec.source_id, interval=interval, start=start, end=end
    )
