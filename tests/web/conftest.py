"""A store prepared in a temporary folder, the app over it, and a client through the real app."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from comove.config import Settings
from comove.data.demo import demo_macro
from comove.data.store import Store

from ..conftest import correlated_pair

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

# Hosts the test clients address the app as (TestClient says "testserver").
TEST_HOSTS = ("127.0.0.1", "localhost", "testserver")


def make_client(app: FastAPI, **kwargs: object) -> TestClient:
    # Starlette warns that its TestClient will move to httpx2; not ours to fix.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from fastapi.testclient import TestClient

    return TestClient(app, **kwargs)  # type: ignore[arg-type]


def write_store(path: Path) -> Path:
    """The seeded pair (ETH-USD vs ^RUT), S&P 500 bars and the demo macro series."""
    crypto, equity = correlated_pair()
    series, large_caps = demo_macro(equity)
    with Store(path) as store:
        store.write_bars("yahoo", "ETH-USD", "1d", crypto)
        store.write_bars("yahoo", "^RUT", "1d", equity)
        store.write_bars("yahoo", "^GSPC", "1d", large_caps)
        for name, values in series.items():
            store.write_series(name, values, units=str(values.attrs["units"]))
    return path


def settings_for(path: Path) -> Settings:
    return Settings(
        store_path=path,
        crypto_sources=("yahoo:ETH-USD",),
        equity_sources=("yahoo:^RUT",),
        large_cap_sources=("yahoo:^GSPC",),
    )


@pytest.fixture(scope="session")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store(tmp_path_factory.mktemp("web") / "comove.duckdb")


@pytest.fixture(scope="session")
def app(stored: Path) -> FastAPI:
    from comove.web.app import create_app

    return create_app(settings_for(stored), allowed_hosts=TEST_HOSTS)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with make_client(app) as made:
        yield made
