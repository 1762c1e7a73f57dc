"""Seeded fixtures shared by the core suite: small synthetic bars, never the network."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

from comove.data.calendar import sessions

# CI replays the same examples every run (HYPOTHESIS_PROFILE=ci in .ci/run), so a red build
# is about the change, not a new draw; locally each run explores new examples.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def make_bars(
    index: pd.DatetimeIndex,
    returns: np.ndarray,
    *,
    start: float = 100.0,
    volume: float = 1e6,
    seed: int = 0,
    name: str = "series",
) -> pd.DataFrame:
    """OHLCV bars whose closes follow ``returns`` (log), with consistent highs and lows."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(returns))
    open_ = np.concatenate(([start], close[:-1]))
    spread = np.abs(rng.normal(0, 0.005, len(close))) * close
    bars = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": volume * np.exp(rng.normal(0, 0.3, len(close))),
        },
        index=pd.DatetimeIndex(index, name="date"),
    )
    bars.attrs = {
        "name": name,
        "source": f"test:{name}",
        "price_column": "close",
        "interval": "1d",
        "is_24_7": bool((index.day_of_week >= 5).any()),
        "dropped_incomplete": None,
    }
    return bars


def correlated_pair(
    start: str = "2022-01-03", end: str = "2023-12-29", rho: float = 0.6, seed: int = 42
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A crypto series on every calendar day and an equity series on XNYS sessions.

    On session days the crypto return loads on the equity shock with weight ``rho``.
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, end, freq="D")
    session_days = sessions(days[0], days[-1])
    equity_ret = rng.normal(0.0003, 0.012, len(session_days))
    shock = pd.Series(equity_ret / 0.012, index=session_days).reindex(days)
    idio = rng.normal(0, 1, len(days))
    loading = np.where(shock.notna(), rho, 0.0)
    crypto_ret = 0.04 * (loading * shock.fillna(0).to_numpy() + np.sqrt(1 - loading**2) * idio)
    crypto = make_bars(days, crypto_ret, start=2000.0, volume=1e10, seed=seed + 1, name="CRYPTO")
    equity = make_bars(
        session_days, equity_ret, start=1800.0, volume=1e9, seed=seed + 2, name="EQUITY"
    )
    return crypto, equity


@pytest.fixture
def pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    return correlated_pair()


@pytest.fixture(scope="session")
def _shared_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One cache folder for the whole run: it only holds what comove can rebuild."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, _shared_cache: str
) -> None:
    """Keep every test away from the user's real store, config and cache."""
    home = tmp_path_factory.mktemp("home")
    # A comove.toml in the checkout (or written by a test) must never be picked up.
    monkeypatch.chdir(home)
    monkeypatch.setenv("COMOVE_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", _shared_cache)
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    # Tests never touch the network: live providers point at a closed loopback port
    # unless a test serves them itself.
    closed = "http://127.0.0.1:9"
    monkeypatch.setenv("COMOVE_YAHOO_URL", closed)
    monkeypatch.setenv("COMOVE_FRED_URL", closed)
    for venue in ("COINBASE", "KRAKEN", "BINANCE"):
        monkeypatch.setenv(f"COMOVE_EXCHANGE_URL_{venue}", closed)
