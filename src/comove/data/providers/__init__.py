"""Data providers behind one protocol: ``yahoo``, ``exchange``, ``fred``, ``csv``, ``store``.

:func:`parse_source` reads a source string; :func:`get_provider` builds the provider for
it (base URLs from ``COMOVE_YAHOO_URL``, ``COMOVE_FRED_URL``, ``COMOVE_EXCHANGE_URL_<VENUE>``
when set, the FRED key from the settings). Provider modules import their libraries lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from comove.data.providers.base import (
    Provider,
    RateLimiter,
    RetryPolicy,
    SeriesProvider,
    SourceSpec,
    parse_source,
    redact,
)

if TYPE_CHECKING:
    from comove.config import Settings

__all__ = [
    "Provider",
    "RateLimiter",
    "RetryPolicy",
    "SeriesProvider",
    "SourceSpec",
    "fetch_source",
    "get_provider",
    "parse_source",
    "redact",
]


def get_provider(
    spec: SourceSpec | str,
    *,
    settings: Settings | None = None,
    store: Any = None,
    policy: RetryPolicy | None = None,
    min_interval: float | None = None,
) -> Any:
    """The provider object for a source (a new one each call; close it when done).

    ``policy`` and ``min_interval`` override the retry policy and request spacing (tests).
    """
    from comove.errors import ConfigError

    if isinstance(spec, str):
        spec = parse_source(spec)
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
    if spec.provider == "store":
        if store is None:
            raise ConfigError(f"source {spec.text!r}: store: sources need an open store")
        from comove.data.providers.csv import StoreProvider

        return StoreProvider(store)
    raise ConfigError(f"source {spec.text!r}: unknown provider {spec.provider!r}")


def fetch_source(
    source: SourceSpec | str,
    *,
    interval: str = "1d",
    start: object | None = None,
    end: object | None = None,
    settings: Settings | None = None,
    store: Any = None,
) -> Any:
    """Fetch a source once, without the store: bars for prices, a Series for ``fred:``.

    The provider is closed afterwards. Errors: ``ConfigError`` for a bad source string,
    ``ProviderError`` (``RateLimited``, ``SymbolNotFound``) from the provider.
    """
    spec = parse_source(source) if isinstance(source, str) else source
    provider = get_provider(spec, settings=settings, store=store)
    try:
        if spec.is_macro:
            return provider.fetch_series(spec.symbol, start=start, end=end)
        return provider.fetch_bars(spec.symbol, interval, start=start, end=end)
    finally:
        closer = getattr(provider, "close", None)
        if callable(closer):
            closer()
