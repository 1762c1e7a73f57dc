"""The dashboard under load: only what the page shows, warmed before it asks, bounded work."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from comove.data.store import Store
from comove.web.app import create_app
from comove.web.service import WorkQueue

from ..conftest import correlated_pair
from .conftest import TEST_HOSTS, make_client, settings_for, write_store

PAGE = {"crypto": "ETH-USD", "equity": "^RUT", "windows": "30,60,90"}


def test_columns_limit_the_table(tmp_path: Path) -> None:
    app = create_app(settings_for(write_store(tmp_path / "s.duckdb")), allowed_hosts=TEST_HOSTS)
    with make_client(app) as client:
        whole = client.get("/api/analysis").json()
        none = client.get("/api/analysis", params={"columns": ""}).json()
        some = client.get("/api/analysis", params={"columns": "corr_60, rsi_crypto"}).json()
        bad = client.get("/api/analysis", params={"columns": "corr_60,nope"})
    assert none["records"] == []
    assert none["columns"] == []
    assert none["latest"] == whole["latest"]
    assert some["columns"] == ["date", "corr_60", "rsi_crypto"]
    assert [set(r) for r in some["records"][:1]] == [{"date", "corr_60", "rsi_crypto"}]
    assert [r["corr_60"] for r in some["records"]] == [r["corr_60"] for r in whole["records"]]
    assert bad.status_code == 422
    assert bad.json()["detail"]["parameter"] == "columns"
    assert "'nope'" in bad.json()["error"]


def test_the_page_default_and_no_symbols_share_one_warm_computation(tmp_path: Path) -> None:
    app = create_app(settings_for(write_store(tmp_path / "s.duckdb")), allowed_hosts=TEST_HOSTS)
    board = app.state.dashboard
    board.warm()
    assert board.computations == 1
    with make_client(app) as client:
        for path in ("/api/figures", "/api/signals"):
            assert client.get(path, params=PAGE).status_code == 200
        assert client.get("/api/analysis", params={**PAGE, "columns": ""}).status_code == 200
        assert client.get("/api/analysis", params={"columns": ""}).status_code == 200
    assert board.computations == 1


def test_keep_warm_recomputes_after_a_store_write(tmp_path: Path) -> None:
    path = write_store(tmp_path / "s.duckdb")
    app = create_app(settings_for(path), allowed_hosts=TEST_HOSTS)
    board = app.state.dashboard
    stop = threading.Event()
    worker = threading.Thread(target=board.keep_warm, args=(stop, 0.05), daemon=True)
    worker.start()
    try:
        _wait_for(lambda: board.computations == 1)
        with Store(path) as store:
            store.write_bars("yahoo", "ETH-USD", "1d", correlated_pair(end="2024-01-05")[0])
        _wait_for(lambda: board.computations == 2)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


def _wait_for(condition: object, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_a_full_queue_answers_503_with_retry_after(tmp_path: Path) -> None:
    app = create_app(settings_for(write_store(tmp_path / "s.duckdb")), allowed_hosts=TEST_HOSTS)
    board = app.state.dashboard
    board.queue = WorkQueue(running=1, waiting=0, patience=0.1)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with board.queue.slot():
            holding.set()
            release.wait(10)

    blocker = threading.Thread(target=hold, daemon=True)
    blocker.start()
    holding.wait(10)
    try:
        with make_client(app) as client:
            busy = client.get("/api/analysis")
            assert busy.status_code == 503
            assert busy.headers["retry-after"].isdigit()
            assert busy.json()["detail"] == {"retry": True}
            assert client.get("/api/health").status_code == 200  # no analysis: not queued
    finally:
        release.set()
        blocker.join(timeout=10)
    with make_client(app) as client:
        assert client.get("/api/analysis").status_code == 200


def test_a_waiting_request_gives_up_after_its_patience() -> None:
    queue = WorkQueue(running=1, waiting=5, patience=0.05)
    with queue.slot(), pytest.raises(Exception, match="busy"), queue.slot():
        pass
    with queue.slot():
        pass  # the slot is free again


def test_waiting_requests_are_served_in_arrival_order() -> None:
    queue = WorkQueue(running=1, waiting=10, patience=5.0)
    served: list[int] = []
    threads = []
    with queue.slot():
        for k in range(6):

            def wait(k: int = k) -> None:
                with queue.slot():
                    served.append(k)

            thread = threading.Thread(target=wait)
            thread.start()
            threads.append(thread)
            deadline = time.monotonic() + 10
            while len(queue._line) < k + 1:  # each in line before the next arrives
                assert time.monotonic() < deadline, "a waiter never got in line"
                time.sleep(0.001)
    for thread in threads:
        thread.join(timeout=10)
    assert served == list(range(6))
    with queue.slot():
        pass  # every slot was handed back


def test_wrong_method_is_405_with_allow(tmp_path: Path) -> None:
    app = create_app(settings_for(write_store(tmp_path / "s.duckdb")), allowed_hosts=TEST_HOSTS)
    with make_client(app) as client:
        response = client.post("/api/analysis")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["error"] == "POST is not allowed on /api/analysis"
