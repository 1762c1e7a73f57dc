"""One contract every provider meets, run against the fake server in each provider's format.

Each subclass names a provider, two symbols it knows, one it does not, and the dates its
fake data covers; the base class checks parsing, date ranges, empty ranges, unknown
symbols and the bars contract. Provider-specific behaviour (pagination, units, local
dates) is tested in the subclasses.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from comove.data.bars import BAR_COLUMNS
from comove.data.providers import get_provider
from comove.data.providers.base import RetryPolicy
from comove.data.providers.csv import CsvProvider
from comove.data.providers.exchanges import ExchangeProvider
from comove.data.providers.fred import FredProvider
from comove.data.providers.yahoo import YahooProvider
from comove.data.sources import parse_source
from comove.errors import ConfigError, SymbolNotFound
from tests.providers.fakes import (
    CRYPTO_DAILY,
    FRED_KEY,
    FakeServer,
    price_path,
)


def expected_closes(first: str, last: str) -> pd.Series:
    """Closes of the fake crypto path, computed from the generator, not the provider."""
    stamps = [int(t.timestamp()) for t in pd.date_range(first, last, freq="D")]
    rows = price_path(stamps, 0.0)
    return pd.Series(
        [r["close"] for r in rows],
        index=pd.DatetimeIndex(pd.to_datetime(stamps, unit="s"), name="date"),
    )


class ProviderContract:
    """Subclasses set ``source`` and build the provider pointed at ``fake``."""

    source: ClassVar[str]
    unknown: ClassVar[str]
    first: ClassVar[str] = "2024-03-01"
    last: ClassVar[str] = "2024-03-10"
    empty_from: ClassVar[str] = "2030-01-01"
    is_macro: ClassVar[bool] = False

    @pytest.fixture(autouse=True)
    def _close_providers(self) -> Any:
        self._made: list[Any] = []
        yield
        for provider in self._made:
            closer = getattr(provider, "close", None)
            if closer is not None:
                closer()

    def make(self, fake: FakeServer, policy: RetryPolicy, **options: Any) -> Any:
        provider = self._make(fake, policy, **options)
        self._made.append(provider)
        return provider

    def _make(self, fake: FakeServer, policy: RetryPolicy, **options: Any) -> Any:
        raise NotImplementedError

    def fetch(self, provider: Any, symbol: str, start: Any = None, end: Any = None) -> Any:
        if self.is_macro:
            return provider.fetch_series(symbol, start=start, end=end)
        return provider.fetch_bars(symbol, "1d", start=start, end=end)

    @property
    def spec(self) -> Any:
        return parse_source(self.source)

    def test_source_parses(self) -> None:
        spec = self.spec
        assert spec.text == self.source
        assert parse_source(spec.text) == spec

    def test_range_is_honoured(self, fake: FakeServer, policy: RetryPolicy) -> None:
        provider = self.make(fake, policy)
        got = self.fetch(provider, self.spec.symbol, self.first, self.last)
        assert len(got) > 0
        assert got.index.min() >= pd.Timestamp(self.first)
        assert got.index.max() <= pd.Timestamp(self.last)
        assert got.index.is_monotonic_increasing
        assert not got.index.has_duplicates
        assert got.index.tz is None

    def test_bars_contract(self, fake: FakeServer, policy: RetryPolicy) -> None:
        provider = self.make(fake, policy)
        got = self.fetch(provider, self.spec.symbol, self.first, self.last)
        if self.is_macro:
            assert got.dtype == np.float64
            assert got.attrs["units"]
            return
        assert list(got.columns) == list(BAR_COLUMNS)
        assert all(got[c].dtype == np.float64 for c in BAR_COLUMNS)
        assert got.index.name == "date"
        assert (got["close"] > 0).all()
        assert (got["high"] >= got["low"]).all()
        assert got.attrs["interval"] == "1d"
        # Daily bars are stamped at midnight of their date.
        assert (got.index == got.index.normalize()).all()

    def test_empty_range(self, fake: FakeServer, policy: RetryPolicy) -> None:
        provider = self.make(fake, policy)
        got = self.fetch(provider, self.spec.symbol, self.empty_from, None)
        assert len(got) == 0

    def test_unknown_symbol(self, fake: FakeServer, policy: RetryPolicy) -> None:
        provider = self.make(fake, policy)
        with pytest.raises(SymbolNotFound, match="unknown"):
            self.fetch(provider, self.unknown, self.first, self.last)
        assert policy.waits == [], "an unknown symbol is a definite answer: no retries"


class TestYahooIndex(ProviderContract):
    source = "yahoo:^RUT"
    unknown = "^NOPE"

    def _make(self, fake: FakeServer, policy: RetryPolicy, **options: Any) -> YahooProvider:
        return YahooProvider(base_url=fake.url, policy=policy, min_interval=0)

    def test_exchange_local_dates(self, fake: FakeServer, policy: RetryPolicy) -> None:
        got = self.make(fake, policy).fetch_bars("^RUT", start="2024-03-01", end="2024-03-31")
        # Sessions only, dated by the New York date (stamps are 14:30/13:30 UTC opens).
        expected = pd.bdate_range("2024-03-01", "2024-03-29")
        assert list(got.index) == list(expected)

    def test_symbol_is_url_encoded(self, fake: FakeServer, policy: RetryPolicy) -> None:
        self.make(fake, policy).fetch_bars("^RUT", start=self.first, end=self.last)
        assert fake.hits("/v8/finance/chart/")[0].path.endswith("/%5ERUT")
        query = fake.hits("/v8/finance/chart/")[0].query
        assert query["interval"] == "1d"
        assert int(query["period1"]) == int(pd.Timestamp(self.first).timestamp())

    def test_etf_uses_adjusted_close(self, fake: FakeServer, policy: RetryPolicy) -> None:
        provider = self.make(fake, policy)
        iwm = provider.fetch_bars("IWM", start=self.first, end=self.last)
        rut = provider.fetch_bars("^RUT", start=self.first, end=self.last)
        assert iwm.attrs["price_column"] == "Adj Close"
        np.testing.assert_allclose(iwm["close"] * 10, rut["close"], rtol=1e-5)


class TestYahooCrypto(ProviderContract):
    source = "yahoo:ETH-USD"
    unknown = "NOPE-USD"

    def _make(self, fake: FakeServer, policy: RetryPolicy, **options: Any) -> YahooProvider:
        return YahooProvider(base_url=fake.url, policy=policy, min_interval=0)

    def test_utc_dates_every_day(self, fake: FakeServer, policy: RetryPolicy) -> None:
        got = self.make(fake, policy).fetch_bars("ETH-USD", start=self.first, end=self.last)
        expected = expected_closes(self.first, self.last)
        pd.testing.assert_series_equal(
            got["close"], expected, check_names=False, check_index_type=False, check_freq=False
        )
        assert got.attrs["is_24_7"]

    def test_hourly(self, fake: FakeServer, policy: RetryPolicy) -> None:
        provider = self.make(fake, policy)
        now = pd.Timestamp.now()
        # The fake's hourly data is older than Yahoo's 730-day window: nothing comes back,
        # and the request asked only for that window.
        got = provider.fetch_bars("ETH-USD", "1h", start="2024-06-02", end="2024-06-03")
        query = fake.hits("/v8/finance/chart/")[-1].query if fake.hits("/v8/") else {}
        if query:
            assert int(query["period1"]) >= int((now - pd.Timedelta(days=731)).timestamp())
        assert len(got) == 0 or got.attrs["interval"] == "1h"


class ExchangeContract(ProviderContract):
    venue: ClassVar[str]

    def _make(self, fake: FakeServer, policy: RetryPolicy, **options: Any) -> ExchangeProvider:
        return ExchangeProvider(
            self.venue, base_url=fake.url, policy=policy, min_interval=0, **options
        )

    def test_closes_match_the_payload(self, fake: FakeServer, policy: RetryPolicy) -> None:
        got = self.make(fake, policy).fetch_bars(self.spec.symbol, start=self.first, end=self.last)
        expected = expected_closes(self.first, self.last)
        np.testing.assert_allclose(got["close"].to_numpy(), expected.to_numpy(), rtol=1e-6)
        assert list(got.index) == list(expected.index)

    def test_pagination_covers_the_whole_history(
        self, fake: FakeServer, policy: RetryPolicy
    ) -> None:
        provider = self.make(fake, policy, page_limit=50)
        pages: list[tuple[pd.Timestamp, int]] = []
        got = provider.fetch_bars(
            self.spec.symbol, start="2024-01-01", end="2024-12-31",
            progress=lambda last, rows: pages.append((last, rows)),
        )  # fmt: skip
        assert len(got) == len(CRYPTO_DAILY) == 366
        assert got.index[0] == pd.Timestamp("2024-01-01")
        assert got.index[-1] == pd.Timestamp("2024-12-31")
        assert len(pages) >= 366 // 50
        assert [rows for _, rows in pages] == sorted(rows for _, rows in pages)

    def test_hourly(self, fake: FakeServer, policy: RetryPolicy) -> None:
        got = self.make(fake, policy).fetch_bars(
            self.spec.symbol, "1h", start="2024-06-02", end="2024-06-03"
        )
        assert got.attrs["interval"] == "1h"
        assert got.index[0] == pd.Timestamp("2024-06-02 00:00")
        assert got.index[-1] == pd.Timestamp("2024-06-03 00:00")
        assert (got.index.to_series().diff().dropna() == pd.Timedelta(hours=1)).all()

    def test_unknown_venue_is_a_config_error(self) -> None:
        with pytest.raises(ConfigError, match="not known to ccxt"):
            ExchangeProvider("nosuchexchange")


class TestBinance(ExchangeContract):
    source = "exchange:binance:ETH/USDT"
    unknown = "DOGE/EUR"
    venue = "binance"

    def test_request_shape(self, fake: FakeServer, policy: RetryPolicy) -> None:
        self.make(fake, policy).fetch_bars("ETH/USDT", start=self.first, end=self.last)
        query = fake.hits("/api/v3/klines")[0].query
        assert query["symbol"] == "ETHUSDT"
        assert query["interval"] == "1d"
        assert int(query["startTime"]) == int(pd.Timestamp(self.first).timestamp() * 1000)


class TestKraken(ExchangeContract):
    source = "exchange:kraken:ETH/USD"
    unknown = "DOGE/EUR"
    venue = "kraken"


class TestCoinbase(ExchangeContract):
    source = "exchange:coinbase:ETH/USD"
    unknown = "DOGE/EUR"
    venue = "coinbase"

    def test_windows_before_listing_are_skipped(
        self, fake: FakeServer, policy: RetryPolicy
    ) -> None:
        # Coinbase answers windows [start, end); empty ones before the data are not the end.
        got = self.make(fake, policy).fetch_bars("ETH/USD", start="2023-01-01", end="2024-01-10")
        assert got.index[0] == pd.Timestamp("2024-01-01")
        assert got.index[-1] == pd.Timestamp("2024-01-10")


class TestFredKeyless(ProviderContract):
    source = "fred:DGS2"
    unknown = "NOPE"
    first = "2024-01-02"
    last = "2024-01-04"
    is_macro = True

    def _make(self, fake: FakeServer, policy: RetryPolicy, **options: Any) -> FredProvider:
        return FredProvider(None, base_url=fake.url, policy=policy, min_interval=0)

    def test_missing_values_dropped_and_units(self, fake: FakeServer, policy: RetryPolicy) -> None:
        got = self.make(fake, policy).fetch_series("DGS2")
        assert list(got.index.strftime("%Y-%m-%d")) == [
            "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
        ]  # fmt: skip
        assert got.tolist() == [4.33, 4.33, 4.38, 4.40]
        assert got.attrs["units"] == "Percent"
        assert fake.hits("/graph/fredgraph.csv")[0].query["id"] == "DGS2"

    def test_known_units_table(self) -> None:
        from comove.data.providers.fred import KNOWN_UNITS

        assert KNOWN_UNITS["WALCL"] == "Millions of U.S. Dollars"
        assert KNOWN_UNITS["RRPONTSYD"] == "Billions of U.S. Dollars"
        assert KNOWN_UNITS["DTWEXBGS"] == "Index Jan 2006=100"

    def test_bars_are_refused(self, fake: FakeServer, policy: RetryPolicy) -> None:
        with pytest.raises(ConfigError, match="macro series"):
            self.make(fake, policy).fetch_bars("DGS2")


class TestFredApi(ProviderContract):
    source = "fred:WALCL"
    unknown = "NOPE"
    first = "2024-01-10"
    last = "2024-01-24"
    is_macro = True

    def _make(self, fake: FakeServer, policy: RetryPolicy, **options: Any) -> FredProvider:
        return FredProvider(FRED_KEY, base_url=fake.url, policy=policy, min_interval=0)

    def test_units_from_the_api(self, fake: FakeServer, policy: RetryPolicy) -> None:
        got = self.make(fake, policy).fetch_series("WALCL")
        assert got.attrs["units"] == "Millions of U.S. Dollars"
        assert got.iloc[0] == 7713622.0
        assert fake.hits("/fred/series")[0].query["file_type"] == "json"
        assert fake.hits("/graph/") == []


class TestCsv(ProviderContract):
    source = "csv:eth.csv"
    unknown = "missing.csv"

    @pytest.fixture(autouse=True)
    def _files(self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        rows = expected_closes("2024-02-01", "2024-03-31")
        frame = pd.DataFrame(
            {"Date": pd.DatetimeIndex(rows.index).strftime("%Y-%m-%d"), "Close": rows.to_numpy()}
        )
        frame.to_csv(tmp_path / "eth.csv", index=False)
        monkeypatch.chdir(tmp_path)

    def _make(self, fake: FakeServer, policy: RetryPolicy, **options: Any) -> CsvProvider:
        return CsvProvider()

    def test_unknown_symbol(self, fake: FakeServer, policy: RetryPolicy) -> None:
        from comove.errors import DataError

        with pytest.raises(DataError, match="no such file"):
            self.make(fake, policy).fetch_bars("missing.csv")

    def test_bars_contract(self, fake: FakeServer, policy: RetryPolicy) -> None:
        got = self.make(fake, policy).fetch_bars("eth.csv", start=self.first, end=self.last)
        assert list(got.columns) == list(BAR_COLUMNS)
        assert len(got) == 10


@pytest.mark.parametrize(
    ("text", "provider", "venue", "symbol", "source_id"),
    [
        ("exchange:coinbase:ETH/USD", "exchange", "coinbase", "ETH/USD", "exchange:coinbase"),
        ("exchange:Kraken:eth/usd", "exchange", "kraken", "ETH/USD", "exchange:kraken"),
        ("yahoo:^RUT", "yahoo", None, "^RUT", "yahoo"),
        ("yahoo:ETH-USD", "yahoo", None, "ETH-USD", "yahoo"),
        ("fred:walcl", "fred", None, "WALCL", "fred"),
        ("csv:data/eth.csv", "csv", None, "data/eth.csv", "csv"),
        ("store:ETH-USD", "store", None, "ETH-USD", "store"),
    ],
)
def test_parse_source(
    text: str, provider: str, venue: str | None, symbol: str, source_id: str
) -> None:
    spec = parse_source(text)
    assert (spec.provider, spec.venue, spec.symbol, spec.source_id) == (
        provider, venue, symbol, source_id,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bloomberg:SPX", "unknown provider 'bloomberg'"),
        ("yahoo:", "expected PROVIDER:SYMBOL"),
        ("exchange:coinbase", "expected exchange:VENUE:BASE/QUOTE"),
        ("exchange:coinbase:ETHUSD", "BASE/QUOTE"),
    ],
)
def test_parse_source_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_source(text)
    assert "\n" not in str(caught.value)


def test_get_provider_reads_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMOVE_YAHOO_URL", "http://127.0.0.1:1/")
    monkeypatch.setenv("COMOVE_FRED_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("COMOVE_EXCHANGE_URL_KRAKEN", "http://127.0.0.1:3")
    yahoo = get_provider("yahoo:^RUT")
    fred = get_provider("fred:WALCL")
    kraken = get_provider("exchange:kraken:ETH/USD")
    try:
        assert yahoo.base_url == "http://127.0.0.1:1"
        assert fred.api_url == "http://127.0.0.1:2"
        assert kraken.host == "127.0.0.1:3"
    finally:
        for provider in (yahoo, fred, kraken):
            provider.close()
    with pytest.raises(ConfigError, match="are not fetched"):
        get_provider("store:ETH-USD")
