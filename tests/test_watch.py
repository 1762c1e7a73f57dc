"""`comove watch` end to end: schedule, exactly-once delivery across restarts, failures, stop."""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from comove.cli import app as cli_app
from comove.config import load_settings
from comove.data.sources import SourceSpec
from comove.data.store import Store
from comove.errors import ProviderError
from comove.watch import published_session, run_cycle, watch_loop
from tests.conftest import correlated_pair

from .test_alerts import SmtpReceiver, WebhookReceiver, free_port

LAST = "2023-11-07"
EXPECTED_KEYS = {
    f"signal_change:risk_off_alignment:on:{LAST}",
    f"stance_change:reduce:{LAST}",
}
SECRET = "T0SECRET/B0/xoxb-never-print-me"

runner = CliRunner()


def _app() -> typer.Typer:
    return cli_app


def _store_path() -> Path:
    return Path(os.environ["COMOVE_HOME"]) / "comove.duckdb"


def _prepare(tmp_path: Path, channels: str = "", *, stale: bool = True) -> Path:
    """A store holding the pair up to a session where risk-off turned on, and a config.

    Every provider points at a closed port (tests/conftest.py), so refreshes fail fast; the
    crypto source last worked 10 hours ago, so it is stale (limit 6 h).
    """
    crypto, equity = correlated_pair()
    with Store(_store_path()) as store:
        store.write_bars("yahoo", "ETH-USD", "1d", crypto.loc[:LAST])
        store.write_bars("yahoo", "^RUT", "1d", equity.loc[:LAST])
        if stale:
            store.record_fetch(
                "yahoo", "ETH-USD", "1d", ok=True,
                at=pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=10),
            )  # fmt: skip
    config = tmp_path / "comove.toml"
    config.write_text(
        '[pair]\ncrypto = ["yahoo:ETH-USD"]\nequity = ["yahoo:^RUT"]\n'
        'large_caps = ["yahoo:^GSPC"]\nmacro = ["fred:WALCL"]\n'
        "[alerts]\nretries = 2\nbackoff = 0.01\n" + channels
    )
    return config


def _channels(webhook_env: str, smtp_port: int) -> str:
    return f"""
[[alerts.channels]]
type = "webhook"
name = "hook"
format = "json"
url_env = "{webhook_env}"
[[alerts.channels]]
type = "email"
name = "mail"
host = "127.0.0.1"
port = {smtp_port}
starttls = false
from = "comove@example.com"
to = ["me@example.com"]
"""


def _subprocess(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    code = "from comove.cli import main\nmain()\n"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_published_session_is_the_latest_close_past_the_hour() -> None:
    after = pd.Timestamp("16:30").time()
    # Monday 2026-11-23, 15:00 New York: Friday's session is the latest published.
    assert published_session(pd.Timestamp("2026-11-23 20:00", tz="UTC"), after) == pd.Timestamp(
        "2026-11-20"
    )
    assert published_session(pd.Timestamp("2026-11-23 21:31", tz="UTC"), after) == pd.Timestamp(
        "2026-11-23"
    )
    # Thanksgiving (Thursday 2026-11-26) is no session: Wednesday stays the latest.
    assert published_session(pd.Timestamp("2026-11-27 12:00", tz="UTC"), after) == pd.Timestamp(
        "2026-11-25"
    )


class FakeProviders:
    """Providers that serve the stored pair (and fail for macro), recording every call."""

    def __init__(self) -> None:
        crypto, equity = correlated_pair()
        self.bars = {"ETH-USD": crypto.loc[:LAST], "^RUT": equity.loc[:LAST]}
        self.calls: list[str] = []

    def __call__(self, spec: SourceSpec) -> Any:
        outer = self

        class Provider:
            def fetch_bars(self, symbol: str, interval: str, **kw: Any) -> pd.DataFrame:
                outer.calls.append(symbol)
                if symbol not in outer.bars:
                    raise ProviderError(f"no {symbol} here")
                start = kw.get("start")
                bars = outer.bars[symbol]
                return bars if start is None else bars.loc[start:]

            def fetch_series(self, symbol: str, **kw: Any) -> pd.Series:
                outer.calls.append(symbol)
                raise ProviderError(f"no {symbol} here")

        return Provider()


def test_schedule_crypto_every_cycle_equity_once_per_published_session(tmp_path: Path) -> None:
    settings = load_settings(_prepare(tmp_path, stale=False))
    fake = FakeProviders()
    clock = iter(
        pd.Timestamp(t, tz="UTC")
        for t in ("2026-11-23 20:00", "2026-11-23 20:15", "2026-11-23 21:31")
    )
    results, calls = [], []
    for _ in range(3):
        fake.calls.clear()
        results.append(run_cycle(settings, now=next(clock), providers=fake, notifiers=[]))
        calls.append(list(fake.calls))
    # Cycle 1: everything; the large caps and macro fail and are retried next cycle.
    assert calls[0] == ["ETH-USD", "^RUT", "^GSPC", "WALCL"]
    assert results[0].outcome == "partial"
    assert results[0].data_as_of == pd.Timestamp(LAST)
    assert "refresh failed for large_caps, macro WALCL" in results[0].message
    # Cycle 2 (same published session): crypto, and only what failed before.
    assert calls[1] == ["ETH-USD", "^GSPC", "WALCL"]
    # Cycle 3 (after Monday's 16:30 New York): the equity index is due again.
    assert calls[2] == ["ETH-USD", "^RUT", "^GSPC", "WALCL"]
    with Store(settings.store_path, read_only=True) as store:
        runs = store.watch_runs()
    assert list(runs.columns) == ["started_at", "finished_at", "data_as_of", "outcome", "message"]
    assert len(runs) == 3
    assert runs["started_at"].iloc[0] == pd.Timestamp("2026-11-23 21:31")


def test_the_loop_sleeps_until_the_next_crypto_refresh_and_stops(tmp_path: Path) -> None:
    settings = load_settings(_prepare(tmp_path, stale=False))
    now = [pd.Timestamp("2026-11-23 20:00", tz="UTC")]
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        now[0] += pd.Timedelta(seconds=seconds)
        return len(waits) >= 2  # a stop arrives during the second wait

    results = watch_loop(
        settings, clock=lambda: now[0], wait=wait, providers=FakeProviders(), notifiers=[]
    )
    assert len(results) == 2
    assert waits == [900.0, 900.0]
    assert results[1].started_at == pd.Timestamp("2026-11-23 20:15", tz="UTC")


def test_restart_sends_nothing_twice_to_webhook_and_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver() as webhook, SmtpReceiver() as smtp:
        config = _prepare(tmp_path, _channels("TEST_WEBHOOK_URL", smtp.port))
        env = {**os.environ, "TEST_WEBHOOK_URL": webhook.url(f"/{SECRET}")}
        outputs = []
        for _ in range(2):  # two separate processes: a restart between them
            proc = _subprocess(["watch", "--once", "--config", str(config)], env)
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            outputs.append(out + err)
            if len(outputs) == 1:
                first_hooks, first_mails = len(webhook.received), len(smtp.messages)
        keys = [body["key"] for _, body in webhook.received]
    assert first_hooks == len(webhook.received) == 3
    assert first_mails == len(smtp.messages) == 3
    assert set(keys) >= EXPECTED_KEYS
    assert len(set(keys)) == 3
    assert any(key.startswith("stale_data:crypto:") for key in keys)
    hook_subjects = sorted(body["subject"] for _, body in webhook.received)
    assert sorted(str(m["Subject"]) for m in smtp.messages) == hook_subjects
    stale = next(body for _, body in webhook.received if body["kind"] == "stale_data")
    assert "Data as of the 2023-11-07 session" in stale["body"]
    assert "1 new alerts" not in outputs[1]
    assert "0 new alerts" in outputs[1]
    assert all(SECRET not in text for text in outputs)
    with Store(_store_path(), read_only=True) as store:
        runs = store.watch_runs()
        recent = store.recent_alerts()
    assert list(runs["outcome"]) == ["partial", "partial"]
    assert (runs["data_as_of"] == pd.Timestamp(LAST)).all()
    assert len(recent) == 6
    assert recent["ok"].all()


def test_a_failing_channel_does_not_block_email_and_shows_in_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/{SECRET}"
    monkeypatch.setenv("TEST_WEBHOOK_URL", closed)
    with SmtpReceiver() as smtp:
        config = _prepare(tmp_path, _channels("TEST_WEBHOOK_URL", smtp.port))
        with caplog.at_level(logging.DEBUG):
            first = runner.invoke(_app(), ["watch", "--once", "--config", str(config)])
            status = runner.invoke(_app(), ["watch", "--status", "--config", str(config)])
        assert len(smtp.messages) == 3
    assert first.exit_code == 0, first.stderr
    assert "3 new alerts, 3 deliveries, 3 failed" in first.stdout
    assert status.exit_code == 0, status.stderr
    text = status.stdout
    assert "Recent runs" in text
    assert "partial" in text
    assert "data as of 2023-11-07" in text
    failures = text.split("Channel failures:")[1]
    assert "[hook]" in failures
    assert "Connection refused" in failures
    assert "[mail]" not in failures
    assert "Channels: hook (webhook), mail (email)" in text
    for output in (first.stdout, first.stderr, status.stdout, status.stderr, caplog.text):
        assert SECRET not in output


def test_alerts_test_sends_to_each_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    got = tmp_path / "hook.json"
    script = f"import sys, pathlib; pathlib.Path({str(got)!r}).write_text(sys.stdin.read())"
    with WebhookReceiver() as webhook, SmtpReceiver() as smtp:
        monkeypatch.setenv("TEST_WEBHOOK_URL", webhook.url(f"/{SECRET}"))
        command = (
            '[[alerts.channels]]\ntype = "command"\nname = "cmd"\n'
            f'run = [{json.dumps(sys.executable)}, "-c", {json.dumps(script)}]\n'
        )
        config = _prepare(tmp_path, _channels("TEST_WEBHOOK_URL", smtp.port) + command)
        result = runner.invoke(_app(), ["alerts", "test", "--config", str(config)])
        assert result.exit_code == 0, result.stderr
        assert len(webhook.received) == 1
        assert webhook.received[0][1]["kind"] == "test"
        assert len(smtp.messages) == 1
        assert smtp.messages[0]["Subject"] == "comove: test alert"
    assert json.loads(got.read_text())["kind"] == "test"
    assert result.stdout.splitlines() == ["hook: sent", "mail: sent", "cmd: sent"]
    assert SECRET not in result.stdout + result.stderr + "".join(capfd.readouterr())
    # A channel that cannot be reached says so, with exit code 3.
    monkeypatch.setenv("TEST_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/{SECRET}")
    failed = runner.invoke(_app(), ["alerts", "test", "--config", str(config)])
    assert failed.exit_code == 3
    assert "hook: FAILED" in failed.stdout
    assert SECRET not in failed.stdout


def _reader(stream: Any, into: queue.Queue[str]) -> threading.Thread:
    def pump() -> None:
        for line in stream:
            into.put(line)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def _wait_for(lines: queue.Queue[str], text: str, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} not seen in {seen}")


@pytest.mark.parametrize("when", ["sleeping", "mid-cycle"])
def test_sigterm_stops_cleanly_with_the_store_intact(tmp_path: Path, when: str) -> None:
    config = _prepare(tmp_path)
    proc = _subprocess(["watch", "--config", str(config)], dict(os.environ))
    out_lines: queue.Queue[str] = queue.Queue()
    err_lines: queue.Queue[str] = queue.Queue()
    readers = [_reader(proc.stdout, out_lines), _reader(proc.stderr, err_lines)]
    try:
        _wait_for(err_lines, "comove watch: crypto every", 60)
        if when == "sleeping":
            _wait_for(out_lines, "next check in", 120)
        else:
            time.sleep(0.5)  # inside the first cycle's refreshes
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for thread in readers:
        thread.join(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()
    if proc.stderr is not None:
        proc.stderr.close()
    errors = "".join(list(err_lines.queue))
    assert code == 0, errors
    assert "SIGTERM received" in errors
    assert "comove watch: stopped" in errors
    assert "Traceback" not in errors
    crypto, _ = correlated_pair()
    with Store(_store_path(), read_only=True) as store:
        assert len(store.read_bars("ETH-USD")) == len(crypto.loc[:LAST])
        runs = store.watch_runs()
    assert len(runs) == 1
    assert runs["outcome"].iloc[0] in (
        {"partial"} if when == "sleeping" else {"partial", "stopped"}
    )
