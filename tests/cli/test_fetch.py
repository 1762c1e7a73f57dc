"""``comove fetch`` end to end: the real command, the real store, the fake providers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from comove.cli import app
from comove.cli import fetch as fetch_module
from comove.data.providers.base import RetryPolicy
from comove.pipeline import sources as pipeline_sources
from tests.providers.fakes import FRED_KEY, FakeServer, Reply, install_all


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer().start()
    install_all(server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def env(fake: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("YAHOO", "FRED"):
        monkeypatch.setenv(f"COMOVE_{name}_URL", fake.url)
    for venue in ("BINANCE", "KRAKEN", "COINBASE"):
        monkeypatch.setenv(f"COMOVE_EXCHANGE_URL_{venue}", fake.url)
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    monkeypatch.setenv("COMOVE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no stray comove.toml is picked up
    monkeypatch.setattr(
        pipeline_sources,
        "provider_options",
        lambda: {"policy": RetryPolicy.fast(), "min_interval": 0},
    )
    return tmp_path / "store.duckdb"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["fetch", *args])


def stored(path: Path, symbol: str, source: str) -> pd.DataFrame:
    from comove.data.store import Store

    with Store(path, read_only=True) as store:
        return store.read_bars(symbol, source=source)


def test_fetch_sources_and_rerun(env: Path) -> None:
    args = [
        "yahoo:^RUT",
        "exchange:binance:ETH/USDT",
        "fred:DGS2",
        "--since",
        "2024-01-01",
        "--store",
        str(env),
    ]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "yahoo:^RUT: 261 1d bars fetched (261 new" in result.stderr
    assert "exchange:binance:ETH/USDT: 366 1d bars fetched (366 new" in result.stderr
    assert "fred:DGS2: 4 observations fetched" in result.stderr
    assert "[Percent]" in result.stderr
    assert len(stored(env, "ETH/USDT", "exchange:binance")) == 366

    again = run(*args)
    assert again.exit_code == 0, again.output
    assert "(0 new, 0 updated, 366 unchanged)" in again.stderr


def test_one_provider_down_exit_3_others_stored(env: Path, fake: FakeServer) -> None:
    fake.route("/v8/finance/chart/", lambda request: Reply(503, "unavailable"))
    result = run(
        "yahoo:^RUT", "exchange:kraken:ETH/USD", "--since", "2024-06-01", "--store", str(env)
    )
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: yahoo:^RUT: {fake.url.removeprefix('http://')} answered HTTP 503 after 5 attempts"
    ]
    assert len(stored(env, "ETH/USD", "exchange:kraken")) == 214
    assert "Traceback" not in result.output


def test_unknown_symbol_exit_1(env: Path) -> None:
    result = run("yahoo:^NOPE", "--store", str(env))
    assert result.exit_code == 1
    assert "unknown symbol '^NOPE'" in result.stderr


def test_bad_source_exit_1_before_any_request(env: Path, fake: FakeServer) -> None:
    result = run("yahoo:^RUT", "bloomberg:SPX", "--store", str(env))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: source 'bloomberg:SPX': unknown provider 'bloomberg' "
        "(known: yahoo, exchange, fred, csv, store)"
    )
    assert fake.requests == []


def test_default_chains_from_config(env: Path, fake: FakeServer, tmp_path: Path) -> None:
    config = tmp_path / "comove.toml"
    config.write_text(
        "[pair]\n"
        'crypto = ["exchange:binance:ETH/USDT", "exchange:kraken:ETH/USD", "yahoo:ETH-USD"]\n'
        'equity = ["yahoo:^RUT", "yahoo:IWM"]\n'
        'macro = ["fred:DGS2", "fred:WALCL"]\n',
        encoding="utf-8",
    )
    fake.script("/api/v3/exchangeInfo", Reply(451, '{"code":0,"msg":"restricted location"}'))
    result = run("--store", str(env))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert any(line.startswith("crypto: exchange:kraken:ETH/USD: 366 1d bars") for line in lines)
    assert any("skipped exchange:binance:ETH/USDT" in line and "HTTP 451" in line for line in lines)
    assert any(line.startswith("equity: yahoo:^RUT:") for line in lines)
    assert not any("yahoo:IWM" in line for line in lines)  # the chain stopped at ^RUT
    assert any(line.startswith("fred:WALCL: 5 observations") for line in lines)


def test_verify(env: Path) -> None:
    result = run(
        "exchange:binance:ETH/USDT", "exchange:coinbase:ETH/USD", "--since", "2024-01-01",
        "--verify", "--store", str(env),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "verify exchange:binance:ETH/USDT vs exchange:coinbase:ETH/USD: 365 common days, 0 beyond"
        in result.stderr
    )


def test_no_network_exit_3_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("COMOVE_YAHOO_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("COMOVE_FRED_URL", "http://nonexistent.invalid")
    result = run("yahoo:^RUT", "fred:WALCL", "--store", str(env))
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert errors[0].startswith(f"error: yahoo:^RUT: cannot reach 127.0.0.1:{port}: no network? (")
    assert errors[1].startswith(
        "error: fred:WALCL: cannot reach nonexistent.invalid: no network? ("
    )


def test_offline_many_sources_give_up_fast(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry policy: a couple of quick retries for the first source, none after."""
    import time

    for name in ("YAHOO", "FRED"):
        monkeypatch.setenv(f"COMOVE_{name}_URL", "http://nonexistent.invalid")
    for venue in ("BINANCE", "KRAKEN", "COINBASE"):
        monkeypatch.setenv(f"COMOVE_EXCHANGE_URL_{venue}", "http://nonexistent.invalid")
    monkeypatch.setattr(pipeline_sources, "provider_options", lambda: {"min_interval": 0})
    started = time.monotonic()
    result = run("--store", str(env))  # the default chains and macro series: 13 sources
    elapsed = time.monotonic() - started
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    # One line per group: the crypto, equity and large-cap chains, the seven macro series.
    assert len(errors) == 10
    assert all("cannot reach nonexistent.invalid: no network?" in line for line in errors)
    assert elapsed < 60


def test_fred_key_not_shown(env: Path, fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRED_API_KEY", FRED_KEY)
    fake.route(
        "/fred/series/observations", lambda request: Reply(500, f"failed for {request.query}")
    )
    result = run("fred:WALCL", "--store", str(env))
    assert result.exit_code == 3
    assert FRED_KEY not in result.output
    assert fake.hits("/fred/series/observations")[0].query["api_key"] == FRED_KEY


def test_bad_since(env: Path) -> None:
    result = run("yahoo:^RUT", "--since", "yesterday-ish", "--store", str(env))
    assert result.exit_code == 1
    assert "--since 'yesterday-ish'" in result.stderr


def test_progress_only_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from comove.cli.common import Stderr

    quiet = fetch_module._progress_factory(Stderr(Console(file=io.StringIO())))
    with quiet("yahoo:^RUT 1d") as update:
        assert update is None
    buffer = io.StringIO()
    terminal = Console(file=buffer, force_terminal=True, width=100)
    loud = fetch_module._progress_factory(Stderr(terminal))
    with loud("exchange:kraken:ETH/USD 1d") as update:
        assert update is not None
        update(pd.Timestamp("2024-03-01"), 60)
        update(pd.Timestamp("2024-06-01"), 152)
    assert "exchange:kraken:ETH/USD 1d" in buffer.getvalue()
