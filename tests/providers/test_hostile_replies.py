"""Mutated replies of every provider's real format, through the real parsing code.

Hypothesis takes a valid recorded-format reply (Yahoo's chart JSON, FRED's observations
JSON and CSV export, Binance's klines through ccxt) and changes it: values of the wrong
type, nulls, huge or non-finite numbers, repeated, reordered or missing timestamps,
deleted keys. Each reply is served on loopback and fetched by the real provider; the
result is either bars or a series that keep every invariant (sorted unique times in
range, finite positive prices) or a comove error, never any other exception.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comove.data.bars import LATEST, OLDEST
from comove.data.providers.base import RetryPolicy
from comove.data.providers.exchanges import ExchangeProvider
from comove.data.providers.fred import FredProvider
from comove.data.providers.yahoo import YahooProvider
from comove.errors import ComoveError, ProviderError

from .fakes import (
    CRYPTO_DAILY,
    FRED_DATA,
    FRED_KEY,
    FakeServer,
    Reply,
    equity_stamps,
    price_path,
    yahoo_chart,
)

# A mutated reply may well be readable with a warning (a missing day, ...): that is fine.
pytestmark = pytest.mark.filterwarnings("ignore::comove.errors.DataWarning")

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e309, -0.0, 1e15, 1e18, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:8]):
            yield from _paths(value, (*prefix, i))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


@st.composite
def mutated(draw: st.DrawFn, original: Any) -> Any:
    """``original`` (a JSON tree) with one to three changes."""
    tree = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p in _paths(tree) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _get(tree, path[:-1]), path[-1]
        target = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "repeat", "reverse", "flatten"]))
        if action == "replace":
            parent[key] = draw(ODD_VALUES)
        elif action == "delete":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif action == "repeat" and isinstance(target, list) and target:
            parent[key] = [target[0]] * len(target)
        elif action == "reverse" and isinstance(target, list):
            parent[key] = target[::-1]
        elif action == "flatten" and isinstance(target, list) and target:
            parent[key] = target[: max(1, len(target) // 2)]
    return tree


def _json_body(tree: Any) -> str:
    return json.dumps(tree, allow_nan=True)  # Infinity and NaN tokens, as a bad server sends


def _check_bars(bars: pd.DataFrame) -> None:
    index = pd.DatetimeIndex(bars.index)
    assert index.is_monotonic_increasing
    assert index.is_unique
    if len(index):
        assert index[0] >= OLDEST
        assert index[-1] < LATEST
    values = bars[["open", "high", "low", "close", "volume"]].to_numpy(dtype="float64")
    assert not np.isinf(values).any()
    close = bars["close"].to_numpy(dtype="float64")
    assert (close > 0).all()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    served = FakeServer().start()
    yield served
    served.stop()


def _serve(server: FakeServer, prefix: str, body: str, content_type: str) -> None:
    server.routes.clear()
    server.scripts.clear()
    server.route(prefix, lambda _request: Reply(200, body, content_type=content_type))


T = TypeVar("T")


def _fetched(provider: Any, fetch: Callable[[], T]) -> T | None:
    """What a provider gives for a mutated reply, or ``None`` when it refuses it with a
    ComoveError (any other exception fails the test); the provider is closed either way."""
    try:
        return fetch()
    except ComoveError:
        return None
    finally:
        provider.close()


def _policy() -> RetryPolicy:
    return RetryPolicy.fast(attempts=1)


YAHOO = yahoo_chart(
    "^RUT", equity_stamps()[:30], "America/New_York", price_path(equity_stamps()[:30])
)


@SETTINGS
@given(reply=mutated(YAHOO))
def test_yahoo_chart(server: FakeServer, reply: Any) -> None:
    _serve(server, "/v8/finance/chart", _json_body(reply), "application/json")
    provider = YahooProvider(base_url=server.url, policy=_policy(), min_interval=0)
    bars = _fetched(
        provider, lambda: provider.fetch_bars("^RUT", start="2024-01-01", end="2024-03-01")
    )
    if bars is not None:
        _check_bars(bars)


def test_yahoo_all_timestamps_equal_is_refused(server: FakeServer) -> None:
    stamps = equity_stamps()[:5]
    same = yahoo_chart("^RUT", [stamps[0]] * 5, "America/New_York", price_path(stamps))
    _serve(server, "/v8/finance/chart", json.dumps(same), "application/json")
    provider = YahooProvider(base_url=server.url, policy=_policy(), min_interval=0)
    with pytest.raises(ProviderError, match="repeat or go backwards"):
        provider.fetch_bars("^RUT", start="2024-01-01")
    provider.close()


FRED_ROWS = FRED_DATA["WALCL"][:40]
FRED_JSON = {
    "observations": [
        {"realtime_start": "2024-02-01", "realtime_end": "2024-02-01", "date": d, "value": v}
        for d, v in FRED_ROWS
    ]
}


def _check_series(series: pd.Series) -> None:
    index = pd.DatetimeIndex(series.index)
    assert index.is_monotonic_increasing
    assert index.is_unique
    assert not np.isinf(series.to_numpy(dtype="float64")).any()
    if len(index):
        assert index[0] >= OLDEST
        assert index[-1] < LATEST


@SETTINGS
@given(reply=mutated(FRED_JSON))
def test_fred_observations(server: FakeServer, reply: Any) -> None:
    _serve(server, "/fred/series", _json_body(reply), "application/json")
    provider = FredProvider(api_key=FRED_KEY, base_url=server.url, policy=_policy(), min_interval=0)
    series = _fetched(provider, lambda: provider.fetch_series("WALCL"))
    if series is not None:
        _check_series(series)


@SETTINGS
@given(rows=mutated([[d, v] for d, v in FRED_ROWS]))
def test_fred_csv(server: FakeServer, rows: Any) -> None:
    lines = ["observation_date,WALCL"]
    lines += [
        ",".join(str(cell) for cell in row) if isinstance(row, list) else str(row) for row in rows
    ]
    _serve(server, "/graph/fredgraph.csv", "\n".join(lines) + "\n", "text/csv")
    provider = FredProvider(api_key=None, base_url=server.url, policy=_policy(), min_interval=0)
    series = _fetched(provider, lambda: provider.fetch_series("WALCL"))
    if series is not None:
        _check_series(series)


def test_fred_maintenance_page_is_not_an_unknown_series(server: FakeServer) -> None:
    page = "<!DOCTYPE html><html><body>FRED is down for scheduled maintenance.</body></html>"
    _serve(server, "/graph/fredgraph.csv", page, "text/html")
    provider = FredProvider(api_key=None, base_url=server.url, policy=_policy(), min_interval=0)
    with pytest.raises(ProviderError, match="maintenance") as caught:
        provider.fetch_series("WALCL")
    provider.close()
    assert "unknown series" not in str(caught.value)


KLINES = [
    [r["time"] * 1000, f"{r['open']:.8f}", f"{r['high']:.8f}", f"{r['low']:.8f}",
     f"{r['close']:.8f}", f"{r['volume']:.8f}", (r["time"] + 86400) * 1000 - 1,
     "0", 100, "0", "0", "0"]
    for r in price_path(CRYPTO_DAILY[:20])
]  # fmt: skip


@pytest.fixture(scope="module")
def binance_server(server: FakeServer) -> FakeServer:
    from .fakes import install_all

    install_all(server)
    return server


@SETTINGS
@given(reply=mutated(KLINES))
def test_binance_klines(binance_server: FakeServer, reply: Any) -> None:
    binance_server.scripts.clear()
    binance_server.script("/api/v3/klines", Reply(200, _json_body(reply)), Reply(200, "[]"))
    provider = ExchangeProvider(
        "binance", base_url=binance_server.url, policy=_policy(), min_interval=0
    )
    bars = _fetched(
        provider, lambda: provider.fetch_bars("ETH/USDT", start="2024-01-01", end="2024-01-20")
    )
    if bars is not None:
        _check_bars(bars)
