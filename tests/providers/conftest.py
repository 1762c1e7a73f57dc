"""Fixtures: the fake provider server on 127.0.0.1, fast retry policies, a store in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from comove.data.providers.base import RetryPolicy
from tests.providers.fakes import FakeServer, install_all


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer().start()
    install_all(server)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def policy() -> RetryPolicy:
    """The real policy's shape with tiny waits, recorded in ``policy.waits``, never slept."""
    return RetryPolicy.fast()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[object]:
    from comove.data.store import Store

    with Store(tmp_path / "store.duckdb") as opened:
        yield opened


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
