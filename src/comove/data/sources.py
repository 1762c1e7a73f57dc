"""Source strings: ``PROVIDER:SYMBOL`` parsed into a :class:`SourceSpec`.

``yahoo:^RUT``, ``exchange:coinbase:ETH/USD``, ``fred:WALCL``, ``csv:path/to/file.csv`` (a
bare path to a data file works too) and ``store:ETH-USD`` (what the local store holds,
whichever provider or file put it there). A spec's ``source_id`` is the key the store
files bars under; its ``name`` is what a person sees and, for files, the symbol they are
stored as (the file's stem: a path is never stored as a symbol).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from comove.errors import ConfigError

PROVIDERS = ("yahoo", "exchange", "fred", "csv", "store")
#: Providers fetched over the network into the store (``fred`` gives macro series).
LIVE_PROVIDERS = ("yahoo", "exchange", "fred")
KNOWN_EXCHANGES = ("coinbase", "kraken", "binance")
PATH_SUFFIXES = (".csv", ".parquet", ".pq", ".txt")
EXAMPLES = "yahoo:^RUT, exchange:coinbase:ETH/USD, fred:WALCL, csv:FILE, store:ETH-USD"


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source string.

    ``provider`` is one of :data:`PROVIDERS`; ``venue`` the exchange id of an ``exchange``
    source; ``symbol`` the provider's own symbol (the path, for ``csv``).
    """

    provider: str
    symbol: str
    venue: str | None = None

    @property
    def source_id(self) -> str:
        """The store's ``source`` key: ``yahoo``, ``exchange:coinbase``, ``fred``, ``csv``."""
        return f"exchange:{self.venue}" if self.provider == "exchange" else self.provider

    @property
    def text(self) -> str:
        return f"{self.source_id}:{self.symbol}"

    @property
    def is_macro(self) -> bool:
        return self.provider == "fred"

    @property
    def is_file(self) -> bool:
        return self.provider == "csv"

    @property
    def is_live(self) -> bool:
        return self.provider in LIVE_PROVIDERS

    @property
    def name(self) -> str:
        """The label shown and, for a file, the symbol it is stored under (its stem)."""
        return Path(self.symbol).stem if self.is_file else self.symbol

    def __str__(self) -> str:
        return self.text


def _is_path(text: str) -> bool:
    path = Path(text).expanduser()
    return path.suffix.lower() in PATH_SUFFIXES or path.exists()


def parse_source(text: str) -> SourceSpec:
    """Parse ``PROVIDER:SYMBOL`` (``exchange:VENUE:BASE/QUOTE`` for exchanges) or a file path.

    Raises
    ------
    ConfigError
        Unknown provider, missing symbol, or an exchange source without a venue.
    """
    if not isinstance(text, str):
        raise ConfigError(f"source {text!r}: expected text like {EXAMPLES}")
    raw = text.strip()
    provider, sep, rest = raw.partition(":")
    provider = provider.lower()
    if provider not in PROVIDERS and raw and _is_path(raw):
        return SourceSpec("csv", raw)
    if not sep or not rest.strip():
        raise ConfigError(f"source {text!r}: expected PROVIDER:SYMBOL, e.g. {EXAMPLES}")
    rest = rest.strip()
    if provider not in PROVIDERS:
        raise ConfigError(
            f"source {text!r}: unknown provider {provider!r} (known: {', '.join(PROVIDERS)})"
        )
    if provider == "exchange":
        venue, sep2, symbol = rest.partition(":")
        venue = venue.strip().lower()
        symbol = symbol.strip().upper()
        if not sep2 or not venue or not symbol:
            raise ConfigError(
                f"source {text!r}: expected exchange:VENUE:BASE/QUOTE, e.g. exchange:kraken:ETH/USD"
            )
        if "/" not in symbol:
            raise ConfigError(
                f"source {text!r}: the market must be written BASE/QUOTE, e.g. ETH/USD"
            )
        return SourceSpec("exchange", symbol, venue)
    if provider == "fred":
        return SourceSpec("fred", rest.upper())
    return SourceSpec(provider, rest)
