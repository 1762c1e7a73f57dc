"""Data providers behind one protocol: ``yahoo``, ``exchange``, ``fred``, ``csv``.

:func:`get_provider` builds the provider for a source (base URLs from ``COMOVE_YAHOO_URL``,
``COMOVE_FRED_URL``, ``COMOVE_EXCHANGE_URL_<VENUE>`` when set, the FRED key from the
settings). Provider modules import their libraries lazily. ``store:`` sources are not
fetched: they name what the store already holds (:mod:`comove.pipeline.sources`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from comove.data.providers.base import (
    NetworkState,
    Provider,
    RateLimiter,
    RetryPolicy,
    SeriesProvider,
)
from comove.data.sources import SourceSpec, parse_source
from comove.errors import ConfigError

if TYPE_CHECKING:
    from comove.config import Settings

__all__ = [
    "NetworkState",
    "Provider",
    "RateLimiter",
    "RetryPolicy",
    "SeriesProvider",
    "get_provider",
]


def get_provider(
    spec: SourceSpec | str,
    *,
    settings: Settings | None = None,
    network: NetworkState | None = None,
    policy: RetryPolicy | None = None,
    min_interval: float | None = None,
) -> Any:
    """The provider object for a source (a new one each call; close it when done).

    ``network`` is the run's record of unreachable hosts, shared by the providers of one
    run. ``policy`` and ``min_interval`` override the retry policy and request spacing
    (tests).
    """
    if isinstance(spec, str):
        spec = parse_source(spec)
    shared = network if network is not None else NetworkState()
    policy = RetryPolicy(network=shared) if policy is None else replace(policy, network=shared)
    spacing: dict[str, Any] = {} if min_interval is None else {"min_interval": min_interval}
    if spec.provider == "yahoo":
        from comove.data.providers.yahoo import YahooProvider

        return YahooProvider(policy=policy, **spacing)
    if spec.provider == "exchange":
        from comove.data.providers.exchanges import ExchangeProvider

        assert spec.venue is not None
        return ExchangeProvider(spec.venue, policy=policy, **spacing)
    if spec.provider == "fred":
        import os

        from comove.data.providers.fred import FredProvider

        key = settings.fred_api_key if settings is not None else os.environ.get("FRED_API_KEY")
        return FredProvider(key, policy=policy, **spacing)
    if spec.provider == "csv":
        from comove.data.providers.csv import CsvProvider

        return CsvProvider()
    raise ConfigError(f"source {spec.text!r}: {spec.provider}: sources are not fetched")
