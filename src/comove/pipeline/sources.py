"""Resolving sources: the configured chains, ``store:`` symbols, files and aliases.

What the store holds is a source like any other. A chain member is satisfied by stored
bars filed under its own provider and symbol first; failing that, by bars of any provider
or file stored under any of its names (``[aliases]``: ``^RUT`` and ``RUT``, ``ETH-USD``
and ``ETH/USD``, ...), the latest-ending first. So ``comove import csv:ETH-USD.csv --as
ETH-USD`` satisfies the default crypto chain offline, and a ``store:ETH-USD`` member never
reaches out to any provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from comove.config import Settings
from comove.data.sources import SourceSpec, parse_source

if TYPE_CHECKING:
    from comove.data.refresh import ProviderFactory


def provider_options() -> dict[str, Any]:
    """Extra options for a run's providers (a seam: tests pass fast retry policies)."""
    return {}


class _RunProviders:
    """The providers of one run, made on first use: a run that reads only files and the
    store never imports the provider modules."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._factory: ProviderFactory | None = None

    def __call__(self, spec: SourceSpec) -> Any:
        if self._factory is None:
            from comove.data.refresh import default_factory

            self._factory = default_factory(settings=self.settings, **provider_options())
        return self._factory(spec)


def run_providers(settings: Settings) -> ProviderFactory:
    """The providers of one run: one shared record of unreachable hosts, the settings' key."""
    return _RunProviders(settings)


def parse_chain(chain: Sequence[str]) -> list[SourceSpec]:
    """Parse every member of a chain first, so a typo stops before any request."""
    return [parse_source(text) for text in chain]


@dataclass(frozen=True)
class Stored:
    """Where a source's bars are in the store."""

    source: str
    symbol: str
    interval: str
    first: pd.Timestamp
    last: pd.Timestamp
    is_24_7: bool


def _rows(summary: pd.DataFrame) -> list[Stored]:
    return [
        Stored(
            str(r.source),
            str(r.symbol),
            str(r.interval),
            pd.Timestamp(r.first),  # type: ignore[arg-type]
            pd.Timestamp(r.last),  # type: ignore[arg-type]
            bool(r.is_24_7),
        )
        for r in summary.itertuples(index=False)
    ]


def stored_for(spec: SourceSpec, summary: pd.DataFrame, settings: Settings) -> Stored | None:
    """The stored bars that satisfy ``spec`` (see the module docstring), or ``None``.

    ``summary`` is :meth:`comove.data.store.Store.bar_summary` for the wanted interval.
    """
    if summary.empty:
        return None
    rows = _rows(summary)
    for row in rows:
        # The spec's own bars first: its provider's, or for store: the symbol as named.
        if row.symbol == spec.name and (spec.provider == "store" or row.source == spec.source_id):
            return row
    names = {name.upper() for name in settings.alias_names(spec.name)}
    matches = [row for row in rows if row.symbol.upper() in names]
    return matches[0] if matches else None


def stored_for_chain(
    chain: Sequence[SourceSpec], summary: pd.DataFrame, settings: Settings
) -> tuple[SourceSpec, Stored] | None:
    """The first member of ``chain`` with stored bars, and where they are."""
    for spec in chain:
        found = stored_for(spec, summary, settings)
        if found is not None:
            return spec, found
    return None


def stored_series_id(spec: SourceSpec, series_ids: Sequence[str], settings: Settings) -> str | None:
    """The stored macro series for ``fred:ID`` (or an alias of ``ID``), or ``None``."""
    names = [name.upper() for name in settings.alias_names(spec.name)]
    stored = {sid.upper(): sid for sid in series_ids}
    return next((stored[name] for name in names if name in stored), None)
