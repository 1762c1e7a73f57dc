"""Scripted faults from the fake server: retried, then one clear line; never a key in it.

Retry waits are recorded by the fast policy instead of slept, so the tests check that
``Retry-After`` was honoured without waiting for it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from email.utils import format_datetime
from typing import Any

import pandas as pd
import pytest

from comove._secrets import redact
from comove.data.providers.base import RateLimiter, RetryPolicy, parse_retry_after
from comove.data.providers.exchanges import ExchangeProvider
from comove.data.providers.fred import FredProvider
from comove.data.providers.yahoo import YahooProvider
from comove.errors import ProviderError, RateLimited
from tests.providers.fakes import FRED_KEY, FakeServer, Reply

CHART = "/v8/finance/chart/"
KLINES = "/api/v3/klines"
START, END = "2024-03-01", "2024-03-10"


@pytest.fixture
def made() -> Iterator[list[Any]]:
    providers: list[Any] = []
    yield providers
    for provider in providers:
        provider.close()


def yahoo(fake_url: str, policy: RetryPolicy, made: list[Any], **options: Any) -> YahooProvider:
    provider = YahooProvider(base_url=fake_url, policy=policy, min_interval=0, **options)
    made.append(provider)
    return provider


def binance(
    fake_url: str, policy: RetryPolicy, made: list[Any], **options: Any
) -> ExchangeProvider:
    provider = ExchangeProvider(
        "binance", base_url=fake_url, policy=policy, min_interval=0, **options
    )
    made.append(provider)
    return provider


# --------------------------------------------------------------------------- Retry-After


def test_retry_after_parsing() -> None:
    now = pd.Timestamp("2024-03-01 12:00:00", tz="UTC").to_pydatetime()
    later = format_datetime(
        pd.Timestamp("2024-03-01 12:00:30", tz="UTC").to_pydatetime(), usegmt=True
    )
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(later, now=now) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_429_retry_after_is_honoured(
    fake: FakeServer, policy: RetryPolicy, made: list[Any]
) -> None:
    fake.script(CHART, Reply(429, "Too Many Requests", headers={"Retry-After": "7"}))
    bars = yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)
    assert len(bars) == 6
    assert len(fake.hits(CHART)) == 2
    assert policy.waits[0] >= 7.0


def test_429_http_date_retry_after(fake: FakeServer, policy: RetryPolicy, made: list[Any]) -> None:
    when = pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=20)
    header = format_datetime(when.to_pydatetime(), usegmt=True)
    fake.script(CHART, Reply(429, "slow down", headers={"Retry-After": header}))
    yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)
    assert 15.0 <= policy.waits[0] <= 21.0


def test_429_forever_is_rate_limited(fake: FakeServer, made: list[Any]) -> None:
    policy = RetryPolicy.fast(attempts=4)
    fake.script(CHART, *[Reply(429, "Too Many Requests", headers={"Retry-After": "1"})] * 4)
    with pytest.raises(RateLimited, match=r"rate limiting us \(HTTP 429\) after 4 attempts"):
        yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)
    assert len(fake.hits(CHART)) == 4


def test_retry_after_beyond_the_budget_gives_up_at_once(fake: FakeServer, made: list[Any]) -> None:
    policy = RetryPolicy.fast(budget=10.0)
    fake.script(CHART, Reply(429, "", headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited, match="asks to wait 3600s"):
        yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)
    assert len(fake.hits(CHART)) == 1


def test_backoff_grows_exponentially(fake: FakeServer, made: list[Any]) -> None:
    policy = RetryPolicy.fast(base_delay=1.0, max_delay=5.0, attempts=5)
    fake.script(CHART, *[Reply(503, "busy")] * 4)
    yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)
    # Full jitter is replaced by its upper end in the fast policy: 1, 2, 4, then the cap.
    assert policy.waits == [1.0, 2.0, 4.0, 5.0]


def test_jitter_stays_within_half_and_full_backoff() -> None:
    policy = RetryPolicy(base_delay=2.0, max_delay=60.0)

    class State:
        attempt_number = 3
        outcome = None

    delays = [policy._wait(State()) for _ in range(200)]  # type: ignore[arg-type]
    assert min(delays) >= 4.0
    assert max(delays) <= 8.0
    assert len(set(delays)) > 1


# --------------------------------------------------------------------------- 5xx, timeouts, bodies


def test_5xx_then_success(fake: FakeServer, policy: RetryPolicy, made: list[Any]) -> None:
    fake.script(CHART, Reply(502, "bad gateway"), Reply(503, "unavailable"))
    bars = yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)
    assert len(bars) == 6
    assert len(policy.waits) == 2


def test_5xx_forever_is_one_clear_line(
    fake: FakeServer, policy: RetryPolicy, made: list[Any]
) -> None:
    fake.script(CHART, *[Reply(500, "oops")] * 5)
    with pytest.raises(ProviderError) as caught:
        yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)
    message = str(caught.value)
    assert (
        message == f"yahoo: {fake.url.removeprefix('http://')} answered HTTP 500 after 5 attempts"
    )
    assert not isinstance(caught.value, RateLimited)


def test_timeout_is_retried_then_reported(fake: FakeServer, made: list[Any]) -> None:
    policy = RetryPolicy.fast(attempts=2)
    fake.script(CHART, Reply(200, "{}", delay=1.0), Reply(200, "{}", delay=1.0))
    with pytest.raises(ProviderError, match="did not answer in time after 2 attempts"):
        yahoo(fake.url, policy, made, timeout=0.2).fetch_bars("^RUT", start=START, end=END)


def test_timeout_then_success(fake: FakeServer, policy: RetryPolicy, made: list[Any]) -> None:
    fake.script(CHART, Reply(200, "{}", delay=1.0))
    bars = yahoo(fake.url, policy, made, timeout=0.2).fetch_bars("^RUT", start=START, end=END)
    assert len(bars) == 6


def test_truncated_body_is_retried(fake: FakeServer, policy: RetryPolicy, made: list[Any]) -> None:
    body = json.dumps({"chart": {"result": [{"meta": {}, "timestamp": [1, 2, 3]}]}})
    fake.script(CHART, Reply(200, body, truncate=25))
    bars = yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)
    assert len(bars) == 6
    assert len(policy.waits) == 1


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, '{"chart": {"result": [ {"meta": '),
        Reply(200, "<html>Will be right back</html>", content_type="text/html"),
        Reply(200, json.dumps({"unexpected": True})),
    ],
    ids=["cut-json", "html", "wrong-shape"],
)
def test_malformed_replies(fake: FakeServer, made: list[Any], reply: Reply) -> None:
    policy = RetryPolicy.fast(attempts=3)
    fake.script(CHART, reply, reply, reply)
    with pytest.raises(
        ProviderError, match=r"^yahoo: .*(not JSON|without a 'chart').* after 3 attempts$"
    ):
        yahoo(fake.url, policy, made).fetch_bars("^RUT", start=START, end=END)


def test_empty_result_is_not_an_error(
    fake: FakeServer, policy: RetryPolicy, made: list[Any]
) -> None:
    bars = yahoo(fake.url, policy, made).fetch_bars("^RUT", start="2023-01-01", end="2023-01-31")
    assert bars.empty
    assert list(bars.columns) == ["open", "high", "low", "close", "volume"]


# --------------------------------------------------------------------------- exchanges


def test_exchange_429_retry_after(fake: FakeServer, policy: RetryPolicy, made: list[Any]) -> None:
    fake.script(
        KLINES,
        Reply(
            429,
            json.dumps({"code": -1003, "msg": "Too many requests"}),
            headers={"Retry-After": "9"},
        ),
    )
    bars = binance(fake.url, policy, made).fetch_bars("ETH/USDT", start=START, end=END)
    assert len(bars) == 10
    assert policy.waits[0] >= 9.0


def test_exchange_geo_block_is_not_retried(
    fake: FakeServer, policy: RetryPolicy, made: list[Any]
) -> None:
    fake.script(
        "/api/v3/exchangeInfo",
        Reply(
            451, json.dumps({"code": 0, "msg": "Service unavailable from a restricted location"})
        ),
    )
    with pytest.raises(ProviderError, match=r"refused the request \(HTTP 451; geo-blocked"):
        binance(fake.url, policy, made).fetch_bars("ETH/USDT", start=START, end=END)
    assert policy.waits == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(503, "Service Unavailable", content_type="text/plain"),
        Reply(200, '[[1709251200000, "3400.1", "34', truncate=None),
        Reply(200, json.dumps([[1709251200000, "1", "2"]]), truncate=20),
    ],
    ids=["503", "cut-json", "truncated"],
)
def test_exchange_faults_retried_then_ok(
    fake: FakeServer, policy: RetryPolicy, made: list[Any], reply: Reply
) -> None:
    fake.script(KLINES, reply)
    bars = binance(fake.url, policy, made).fetch_bars("ETH/USDT", start=START, end=END)
    assert len(bars) == 10
    assert len(policy.waits) == 1


def test_exchange_timeout_reported(fake: FakeServer, made: list[Any]) -> None:
    policy = RetryPolicy.fast(attempts=2)
    provider = binance(fake.url, policy, made, timeout=0.3)
    provider.fetch_bars("ETH/USDT", start=START, end=END)  # markets loaded
    fake.script(KLINES, Reply(200, "[]", delay=1.0), Reply(200, "[]", delay=1.0))
    with pytest.raises(ProviderError, match="did not answer in time after 2 attempts"):
        provider.fetch_bars("ETH/USDT", start=START, end=END)


def test_exchange_5xx_forever(fake: FakeServer, policy: RetryPolicy, made: list[Any]) -> None:
    fake.script(KLINES, *[Reply(502, "Bad Gateway", content_type="text/plain")] * 5)
    with pytest.raises(ProviderError, match="answered HTTP 502 after 5 attempts"):
        binance(fake.url, policy, made).fetch_bars("ETH/USDT", start=START, end=END)


# --------------------------------------------------------------------------- no network


def test_closed_port_gives_up_quickly(closed_port: int, made: list[Any]) -> None:
    # The real policy, real sleeps: a couple of quick retries, then one line.
    started = time.monotonic()
    provider = yahoo(f"http://127.0.0.1:{closed_port}", RetryPolicy(), made)
    with pytest.raises(ProviderError) as caught:
        provider.fetch_bars("^RUT", start=START, end=END)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert message.startswith(f"cannot reach 127.0.0.1:{closed_port}: no network? (")
    assert "\n" not in message
    assert elapsed < 60


def test_unresolvable_host_gives_up_quickly(made: list[Any]) -> None:
    policy = RetryPolicy.fast()
    started = time.monotonic()
    provider = yahoo("http://nonexistent.invalid", policy, made)
    with pytest.raises(ProviderError, match=r"^cannot reach nonexistent.invalid: no network\? \("):
        provider.fetch_bars("^RUT", start=START, end=END)
    assert len(policy.waits) == policy.unreachable_attempts - 1
    assert time.monotonic() - started < 60


def test_a_run_gives_up_on_other_hosts_once_one_is_unreachable(made: list[Any]) -> None:
    """One run shares a NetworkState through its factory; a new run starts afresh."""
    from comove.data.refresh import default_factory
    from comove.data.sources import parse_source

    for run in range(2):
        build = default_factory(policy=RetryPolicy.fast(), min_interval=0)
        waits = []
        for symbol in ("^RUT", "IWM"):
            provider = build(parse_source(f"yahoo:{symbol}"))
            provider.base_url = "http://nonexistent.invalid"
            made.append(provider)
            before = len(provider.http.policy.waits)  # the run's providers share the list
            with pytest.raises(ProviderError, match="cannot reach"):
                provider.fetch_bars(symbol, start=START, end=END)
            waits.append(len(provider.http.policy.waits) - before)
        # First host: its quick retries; the second in the same run: no retry at all.
        assert waits == [RetryPolicy().unreachable_attempts - 1, 0], run


@pytest.mark.parametrize("venue", ["binance", "kraken", "coinbase"])
def test_exchange_unreachable(venue: str, closed_port: int, made: list[Any]) -> None:
    policy = RetryPolicy.fast()
    provider = ExchangeProvider(
        venue, base_url=f"http://127.0.0.1:{closed_port}", policy=policy, min_interval=0
    )
    made.append(provider)
    symbol = "ETH/USDT" if venue == "binance" else "ETH/USD"
    with pytest.raises(
        ProviderError, match=rf"^cannot reach 127.0.0.1:{closed_port}: no network\?"
    ):
        provider.fetch_bars(symbol, start=START, end=END)
    assert len(policy.waits) == policy.unreachable_attempts - 1


def test_exchange_unresolvable(made: list[Any]) -> None:
    policy = RetryPolicy.fast()
    provider = ExchangeProvider(
        "kraken", base_url="http://nonexistent.invalid", policy=policy, min_interval=0
    )
    made.append(provider)
    with pytest.raises(ProviderError, match=r"^cannot reach nonexistent.invalid: no network\?"):
        provider.fetch_bars("ETH/USD", start=START, end=END)


# --------------------------------------------------------------------------- secrets


def test_redact() -> None:
    url = f"https://api.stlouisfed.org/fred/series?series_id=X&api_key={FRED_KEY}&file_type=json"
    assert FRED_KEY not in redact(url)
    assert "api_key=***" in redact(url)
    assert redact(f"boom {FRED_KEY}", [FRED_KEY]) == "boom ***"


@pytest.mark.parametrize(
    "replies",
    [
        [Reply(500, f"internal error for api_key={FRED_KEY}")] * 5,
        [Reply(200, f"not json {FRED_KEY}")] * 5,
        [Reply(200, "", delay=1.0)] * 5,
    ],
    ids=["5xx", "malformed", "timeout"],
)
def test_fred_key_never_in_errors_or_logs(
    fake: FakeServer, made: list[Any], caplog: pytest.LogCaptureFixture, replies: list[Reply]
) -> None:
    caplog.set_level(logging.DEBUG)
    policy = RetryPolicy.fast(attempts=2)
    provider = FredProvider(FRED_KEY, base_url=fake.url, policy=policy, min_interval=0, timeout=0.2)
    made.append(provider)
    fake.script("/fred/series/observations", *replies)
    with pytest.raises(ProviderError) as caught:
        provider.fetch_series("WALCL")
    assert FRED_KEY not in str(caught.value)
    assert FRED_KEY not in caplog.text
    # The key did reach the (fake) server: it was used, just never shown.
    assert fake.hits("/fred/series/observations")[0].query["api_key"] == FRED_KEY


def test_fred_refused_key(
    fake: FakeServer, policy: RetryPolicy, made: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "0" * 32
    provider = FredProvider(wrong, base_url=fake.url, policy=policy, min_interval=0)
    made.append(provider)
    with pytest.raises(ProviderError, match="API key was refused") as caught:
        provider.fetch_series("WALCL")
    assert wrong not in str(caught.value)
    assert wrong not in caplog.text


def test_fred_unreachable_message_has_no_key(closed_port: int, made: list[Any]) -> None:
    policy = RetryPolicy.fast()
    provider = FredProvider(
        FRED_KEY, base_url=f"http://127.0.0.1:{closed_port}", policy=policy, min_interval=0
    )
    made.append(provider)
    with pytest.raises(ProviderError, match="cannot reach") as caught:
        provider.fetch_series("WALCL")
    assert FRED_KEY not in str(caught.value)


def test_fred_malformed_csv(fake: FakeServer, made: list[Any]) -> None:
    policy = RetryPolicy.fast(attempts=2)
    provider = FredProvider(None, base_url=fake.url, policy=policy, min_interval=0)
    made.append(provider)
    bad = Reply(
        200, "observation_date,DGS2\n2024-01-02,4.33\n2024-01-03,abc\n", content_type="text/csv"
    )
    fake.script("/graph/fredgraph.csv", bad, bad)
    with pytest.raises(ProviderError, match="DGS2 rows that cannot be read after 2 attempts"):
        provider.fetch_series("DGS2")


# --------------------------------------------------------------------------- rate limiter


def test_rate_limiter_spaces_requests() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(0.5, clock=lambda: clock[0], sleep=sleep)
    for _ in range(4):
        limiter.acquire()
    assert slept == [0.5, 0.5, 0.5]
    clock[0] += 10
    assert limiter.acquire() == 0.0


def test_provider_uses_its_rate_limit(
    fake: FakeServer, policy: RetryPolicy, made: list[Any]
) -> None:
    provider = yahoo(fake.url, policy, made)
    provider.http.limiter.min_interval = 0.05
    started = time.monotonic()
    for _ in range(3):
        provider.fetch_bars("^RUT", start=START, end=END)
    assert time.monotonic() - started >= 0.1


def _state(attempt: int, spent: float, wait: float) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(
        attempt_number=attempt, seconds_since_start=spent, upcoming_sleep=wait, outcome=None
    )


def test_a_retry_starts_only_if_a_whole_request_still_fits_the_budget() -> None:
    # The documented two minutes hold even when each attempt runs into its timeout.
    policy = RetryPolicy(budget=120.0, request_timeout=20.0, attempts=10)
    assert not policy._stop(_state(attempt=1, spent=20.0, wait=2.0))
    assert not policy._stop(_state(attempt=4, spent=98.0, wait=2.0))
    assert policy._stop(_state(attempt=4, spent=98.5, wait=2.0))
    assert policy._stop(_state(attempt=5, spent=100.0, wait=1.0))


def test_the_http_client_tells_the_policy_its_timeout() -> None:
    from comove.data.providers.base import HttpClient

    policy = RetryPolicy()
    client = HttpClient("test", policy=policy, timeout=17.0)
    client.close()
    assert policy.request_timeout == 17.0
