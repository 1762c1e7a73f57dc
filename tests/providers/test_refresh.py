"""Incremental refresh into the real DuckDB store: only what is missing, idempotent, atomic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from comove.data.providers import get_provider
from comove.data.providers.base import RetryPolicy
from comove.data.refresh import refresh, refresh_first_available, verify
from comove.data.sources import SourceSpec, parse_source
from comove.errors import ConfigError, ProviderError
from tests.providers.fakes import FakeServer, Reply

KLINES = "/api/v3/klines"
NOW = pd.Timestamp("2025-01-01 12:00")


def factory(
    fake: FakeServer, policy: RetryPolicy, store: Any = None
) -> Callable[[SourceSpec], Any]:
    """Providers pointed at the fake server, fast retries, no request spacing."""

    def build(spec: SourceSpec) -> Any:
        if spec.provider == "yahoo":
            from comove.data.providers.yahoo import YahooProvider

            return YahooProvider(base_url=fake.url, policy=policy, min_interval=0)
        if spec.provider == "exchange":
            from comove.data.providers.exchanges import ExchangeProvider

            assert spec.venue is not None
            return ExchangeProvider(
                spec.venue, base_url=fake.url, policy=policy, min_interval=0, page_limit=100
            )
        if spec.provider == "fred":
            from comove.data.providers.fred import FredProvider

            return FredProvider(None, base_url=fake.url, policy=policy, min_interval=0)
        return get_provider(spec)

    return build


def test_backfill_then_incremental(fake: FakeServer, policy: RetryPolicy, store: Any) -> None:
    providers = factory(fake, policy)
    first = refresh(
        store, "exchange:binance:ETH/USDT", since="2024-01-01", providers=providers, now=NOW
    )
    assert first.rows == 366
    assert first.report.inserted == 366
    assert first.last == pd.Timestamp("2024-12-31")
    stored = store.read_bars("ETH/USDT", source="exchange:binance")
    assert len(stored) == 366

    fake.requests.clear()
    again = refresh(store, "exchange:binance:ETH/USDT", providers=providers, now=NOW)
    # Only from the last stored bar: it is fetched again (it may have been live).
    assert again.start == pd.Timestamp("2024-12-31")
    starts = [int(r.query["startTime"]) for r in fake.hits(KLINES)]
    assert starts[0] == int(pd.Timestamp("2024-12-31").timestamp() * 1000)
    assert again.rows == 1
    assert (again.report.inserted, again.report.updated) == (0, 0)
    assert again.report.unchanged == 1
    pd.testing.assert_frame_equal(
        store.read_bars("ETH/USDT", source="exchange:binance"), stored, check_like=True
    )


def test_refresh_records_each_fetch(fake: FakeServer, policy: RetryPolicy, store: Any) -> None:
    providers = factory(fake, policy)
    refresh(store, "yahoo:^RUT", since="2024-06-01", providers=providers)
    record = store.last_fetch("yahoo", "^RUT", "1d")
    assert record is not None
    assert record["ok"] is True or record["ok"] == 1


def test_failure_stores_nothing_and_is_recorded(fake: FakeServer, store: Any) -> None:
    policy = RetryPolicy.fast(attempts=2)
    providers = factory(fake, policy)
    # The first pages succeed, a later one fails after retries: nothing may be stored.
    calls = {"n": 0}
    original = fake.routes[KLINES]

    def flaky(request: Any) -> Reply:
        calls["n"] += 1
        return original(request) if calls["n"] <= 2 else Reply(500, "oops")

    fake.route(KLINES, flaky)
    with pytest.raises(ProviderError, match="HTTP 500 after 2 attempts"):
        refresh(store, "exchange:binance:ETH/USDT", since="2024-01-01", providers=providers)
    assert calls["n"] >= 3
    assert store.last_bar_time("exchange:binance", "ETH/USDT", "1d") is None
    record = store.last_fetch("exchange:binance", "ETH/USDT", "1d")
    assert record is not None
    assert not record["ok"]
    assert "HTTP 500" in record["message"]


def test_macro_refresh_stores_units(fake: FakeServer, policy: RetryPolicy, store: Any) -> None:
    result = refresh(store, "fred:DGS2", providers=factory(fake, policy))
    assert result.rows == 4
    stored = store.read_series("DGS2")
    assert stored.attrs["units"] == "Percent"
    assert stored.tolist() == [4.33, 4.33, 4.38, 4.40]
    fake.requests.clear()
    refresh(store, "fred:DGS2", providers=factory(fake, policy))
    assert fake.hits("/graph/fredgraph.csv")[0].query["cosd"] == "2024-01-05"


def test_chain_falls_back_and_says_why(fake: FakeServer, policy: RetryPolicy, store: Any) -> None:
    fake.script(
        "/api/v3/exchangeInfo",
        Reply(451, '{"code":0,"msg":"Service unavailable from a restricted location"}'),
    )
    spec, result = refresh_first_available(
        store,
        ["exchange:binance:ETH/USDT", "exchange:kraken:ETH/USD", "yahoo:ETH-USD"],
        since="2024-03-01",
        providers=factory(fake, policy),
    )
    assert spec == parse_source("exchange:kraken:ETH/USD")
    assert [text for text, _ in result.fallbacks] == ["exchange:binance:ETH/USDT"]
    assert "HTTP 451" in result.fallbacks[0][1]
    assert fake.hits("/v8/") == []  # the chain stopped at the first source that worked
    failed = store.last_fetch("exchange:binance", "ETH/USDT", "1d")
    assert failed is not None
    assert not failed["ok"]


def test_chain_all_fail(fake: FakeServer, closed_port: int, store: Any) -> None:
    policy = RetryPolicy.fast()

    def providers(spec: SourceSpec) -> Any:
        from comove.data.providers.yahoo import YahooProvider

        return YahooProvider(
            base_url=f"http://127.0.0.1:{closed_port}", policy=policy, min_interval=0
        )

    with pytest.raises(
        ProviderError,
        match=r"no source worked \(yahoo:ETH-USD: cannot reach .*; yahoo:IWM: cannot reach",
    ):
        refresh_first_available(store, ["yahoo:ETH-USD", "yahoo:IWM"], providers=providers)


def test_store_source_is_not_fetched(store: Any) -> None:
    with pytest.raises(ConfigError, match="already stored"):
        refresh(store, "store:ETH-USD")


def test_verify_two_exchanges_agree(fake: FakeServer, policy: RetryPolicy, store: Any) -> None:
    providers = factory(fake, policy)
    for source in ("exchange:binance:ETH/USDT", "exchange:kraken:ETH/USD"):
        refresh(store, source, since="2024-01-01", providers=providers)
    diff = verify(store, "exchange:binance:ETH/USDT", "exchange:kraken:ETH/USD", 0.001)
    assert diff.empty
    assert diff.attrs["compared"] == 365
    # Kraken's payload rounds to cents: the largest return difference is tiny, not zero.
    assert 0 < diff.attrs["max_abs_diff"] < 1e-4


def test_verify_finds_a_bad_day(fake: FakeServer, policy: RetryPolicy, store: Any) -> None:
    providers = factory(fake, policy)
    refresh(store, "yahoo:^RUT", since="2024-01-01", providers=providers)
    refresh(store, "yahoo:IWM", since="2024-01-01", providers=providers)
    # Corrupt one IWM close by 3%: two returns (into and out of that day) disagree.
    iwm = store.read_bars("IWM", source="yahoo")
    day = iwm.index[100]
    bad = iwm.copy()
    bad.loc[day, ["close", "high"]] *= 1.03
    store.write_bars("yahoo", "IWM", "1d", bad)
    diff = verify(store, "yahoo:^RUT", "yahoo:IWM", 0.005)
    assert list(diff.index) == [day, iwm.index[101]]
    expected = np.log(iwm["close"].iloc[100] / iwm["close"].iloc[99]) - np.log(
        bad["close"].iloc[100] / bad["close"].iloc[99]
    )
    assert diff["diff"].iloc[0] == pytest.approx(expected, abs=1e-5)


def test_verify_from_providers(fake: FakeServer, policy: RetryPolicy) -> None:
    diff = verify(
        factory(fake, policy),
        "yahoo:ETH-USD",
        "exchange:coinbase:ETH/USD",
        0.001,
        start="2024-03-01",
        end="2024-03-31",
    )
    assert diff.empty
    assert diff.attrs["compared"] == 30


def test_csv_source_is_stored(store: Any, tmp_path: Any) -> None:
    days = pd.date_range("2024-01-01", "2024-01-10", freq="D")
    closes = np.linspace(100.0, 109.0, len(days))
    path = tmp_path / "eth.csv"
    pd.DataFrame({"Date": days.strftime("%Y-%m-%d"), "Close": closes}).to_csv(path, index=False)
    result = refresh(store, f"csv:{path}")
    assert result.report.inserted == 10
    # Stored under the file's stem: a path is never a symbol.
    back = store.read_bars("eth", source="csv")
    np.testing.assert_allclose(back["close"].to_numpy(), closes)
    assert store.symbols() == [("csv", "eth", "1d")]
