"""Alert detection by hand (state changes, hysteresis, staleness) and the channels."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from comove.alerts import (
    Alert,
    ChainHealth,
    ChannelError,
    CommandNotifier,
    ConsoleNotifier,
    WebhookNotifier,
    deliver,
    detect_alerts,
    make_test_alert,
    webhook_payload,
)
from comove.config import ChannelConfig, Settings, load_settings
from comove.data.store import Store
from comove.errors import ConfigError
from comove.pipeline import Analysis, build_analysis
from comove.signals.regime import correlation_regimes
from tests.conftest import correlated_pair

LAST = "2023-11-07"


# -- local receivers (127.0.0.1 only) ---------------------------------------------------


class WebhookReceiver:
    """An http.server thread on 127.0.0.1 recording every POSTed JSON body and path; with
    ``echo``, it refuses every post with a 404 that quotes the path (as Express does)."""

    def __init__(self, echo: bool = False) -> None:
        received: list[tuple[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append((self.path, json.loads(self.rfile.read(length))))
                body = f"Cannot POST {self.path}".encode() if echo else b"ok"
                self.send_response(404 if echo else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 (plain, no TLS) recording every message."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        messages: list[Message] = []
        self.messages = messages

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    crypto, equity = correlated_pair()
    return build_analysis(crypto.loc[:LAST], equity.loc[:LAST], n_boot=50)


def _with_signals(analysis: Analysis, **last: list[float]) -> Analysis:
    """The analysis with the last values of some signal columns replaced."""
    columns = analysis.signals.columns.copy()
    for name, values in last.items():
        columns.loc[columns.index[-len(values) :], name] = values
    return replace(analysis, signals=replace(analysis.signals, columns=columns))


def _kinds(alerts: list[Alert], kind: str, name: str | None = None) -> list[Alert]:
    return [a for a in alerts if a.kind == kind and (name is None or a.name == name)]


# -- signals and stance -----------------------------------------------------------------


def test_a_signal_switching_on_alerts_exactly_once(analysis: Analysis) -> None:
    settings = Settings()
    off = _with_signals(analysis, signal_synchronized_breakout=[0.0, 0.0])
    first, state = detect_alerts(None, off, settings, now="2023-11-07 22:00")
    assert _kinds(first, "signal_change", "synchronized_breakout") == []
    assert state["signals"]["synchronized_breakout"] == "off"

    on = _with_signals(analysis, signal_synchronized_breakout=[0.0, 1.0])
    alerts, state = detect_alerts(state, on, settings, now="2023-11-07 22:15")
    assert [a.kind for a in alerts] == ["signal_change"]
    alert = alerts[0]
    assert alert.name == "synchronized_breakout"
    assert alert.key == f"signal_change:synchronized_breakout:on:{LAST}"
    assert alert.details["from"] == "off"
    assert alert.details["to"] == "on"
    # What changed, the checklist behind it (values, thresholds, pass/fail), the as-of date.
    assert "Synchronized breakout: off → on" in alert.body
    assert "60-session correlation" in alert.body
    assert ">= 0.50 (exit < 0.45)" in alert.body
    assert any(mark in alert.body for mark in ("✓", "✗", "?"))
    assert f"Data as of the {LAST} session" in alert.body
    assert alert.details["checklist"]["conditions"][0]["name"] == "corr"

    again, _ = detect_alerts(state, on, settings, now="2023-11-07 22:30")
    assert again == []


def test_off_to_unknown_is_quiet_but_on_to_unknown_is_not(analysis: Analysis) -> None:
    settings = Settings()
    base = _with_signals(analysis, signal_decoupling=[0.0, 0.0])
    _, state = detect_alerts(None, base, settings)
    unknown = _with_signals(analysis, signal_decoupling=[0.0, np.nan])
    assert _kinds(detect_alerts(state, unknown, settings)[0], "signal_change", "decoupling") == []
    on = _with_signals(analysis, signal_decoupling=[0.0, 1.0])
    _, state_on = detect_alerts(state, on, settings)
    lost = detect_alerts(state_on, unknown, settings)[0]
    assert [a.key for a in lost] == [f"signal_change:decoupling:unknown:{LAST}"]
    assert "cannot be confirmed" in lost[0].subject


def test_the_first_run_alerts_only_on_the_latest_session(analysis: Analysis) -> None:
    # On the fixture's last session risk-off alignment turned on and the stance to reduce.
    alerts, state = detect_alerts(None, analysis, Settings())
    keys = {a.key for a in alerts}
    assert f"signal_change:risk_off_alignment:on:{LAST}" in keys
    assert f"stance_change:reduce:{LAST}" in keys
    stance = _kinds(alerts, "stance_change")[0]
    assert "neutral → reduce" in stance.body
    assert "Risk-off alignment is on" in stance.body
    assert state["stance"] == "reduce"
    assert detect_alerts(state, analysis, Settings())[0] == []


# -- correlation with hysteresis --------------------------------------------------------


def test_correlation_crossings_do_not_flap(analysis: Analysis) -> None:
    path = [0.40, 0.52, 0.48, 0.46, 0.51, 0.44, 0.47, 0.50]
    table = analysis.table.copy()
    corr = np.full(len(table), 0.3)
    corr[-len(path) :] = path
    table["corr_60"] = corr
    settings = Settings()
    state = None
    crossings: list[Alert] = []
    # The pipeline computes the regimes (signals/regime.py); alerts only compare them.
    regimes = correlation_regimes(table, 0.5, 0.45)
    for k in range(len(path)):
        rows = len(table) - len(path) + k + 1
        day = replace(analysis, history=table.iloc[:rows], regimes_history=regimes.iloc[:rows])
        alerts, state = detect_alerts(state, day, settings)
        crossings += _kinds(alerts, "correlation_cross", "corr_60")
    # A single 0.5 line would flip six times; enter 0.5 / exit 0.45 crosses three times.
    assert [a.details["to"] for a in crossings] == ["above", "below", "above"]
    assert [a.details["value"] for a in crossings] == [0.52, 0.44, 0.50]
    assert len({a.key for a in crossings}) == 3
    assert "enters ≥ 0.5, exits < 0.45" in crossings[0].body


def test_correlation_levels_are_configurable(analysis: Analysis, tmp_path: Path) -> None:
    (tmp_path / "comove.toml").write_text(
        "[alerts]\ncorrelation_threshold = 0.6\ncorrelation_exit = 0.55\n"
    )
    settings = load_settings(cwd=tmp_path, environ={})
    levels = (settings.alerts.correlation_threshold, settings.alerts.correlation_exit)
    table = analysis.table.copy()
    table["corr_60"] = 0.3
    table.loc[table.index[-1], "corr_60"] = 0.58
    shown = replace(analysis, history=table, regimes_history=correlation_regimes(table, *levels))
    alerts, _ = detect_alerts(None, shown, settings)
    assert _kinds(alerts, "correlation_cross", "corr_60") == []
    table.loc[table.index[-1], "corr_60"] = 0.61
    shown = replace(analysis, history=table, regimes_history=correlation_regimes(table, *levels))
    alerts, _ = detect_alerts(None, shown, settings)
    assert len(_kinds(alerts, "correlation_cross", "corr_60")) == 1


# -- stale data -------------------------------------------------------------------------


def test_stale_data_after_the_limit_only(analysis: Analysis) -> None:
    settings = Settings()
    now = pd.Timestamp("2026-11-23 12:00", tz="UTC")
    fresh = {"crypto": ChainHealth(("yahoo:ETH-USD",), True, now - pd.Timedelta(hours=5), "x")}
    assert _kinds(detect_alerts(None, None, settings, health=fresh, now=now)[0], "stale_data") == []
    old = {"crypto": ChainHealth(("yahoo:ETH-USD",), True, now - pd.Timedelta(hours=7), "boom")}
    alerts, state = detect_alerts(None, analysis, settings, health=old, now=now)
    stale = _kinds(alerts, "stale_data")
    assert len(stale) == 1
    assert "boom" in stale[0].body
    assert "failed for 7.0 hours" in stale[0].body
    assert f"Data as of the {LAST} session" in stale[0].body
    later, _ = detect_alerts(state, analysis, settings, health=old, now=now + pd.Timedelta(hours=1))
    assert _kinds(later, "stale_data")[0].key == stale[0].key  # the same outage, the same key
    healthy = {"crypto": ChainHealth(("yahoo:ETH-USD",), False, now, "")}
    assert detect_alerts(state, analysis, settings, health=healthy, now=now)[1]["failing"] == {}


def test_a_source_that_never_worked_is_stale_after_the_limit_from_first_failure() -> None:
    settings = Settings()
    now = pd.Timestamp("2026-11-23 12:00", tz="UTC")
    never = {"equity": ChainHealth(("yahoo:^RUT",), True, None, "refused")}
    alerts, state = detect_alerts(None, None, settings, health=never, now=now)
    assert alerts == []
    alerts, _ = detect_alerts(state, None, settings, health=never, now=now + pd.Timedelta(hours=6))
    assert [a.kind for a in alerts] == ["stale_data"]
    assert "last success: never" in alerts[0].body


# -- channels ---------------------------------------------------------------------------


def test_webhook_payloads_for_slack_discord_and_json() -> None:
    alert = make_test_alert(now="2026-11-23 12:00")
    assert set(webhook_payload(alert, "slack")) == {"text"}
    assert alert.subject in webhook_payload(alert, "slack")["text"]
    assert set(webhook_payload(alert, "discord")) == {"content"}
    long = replace(alert, body="x" * 5000)
    assert len(webhook_payload(long, "discord")["content"]) <= 2000
    generic = webhook_payload(alert, "json")
    assert generic["kind"] == "test"
    assert generic["key"] == alert.key
    assert json.loads(json.dumps(generic)) == generic


def test_webhook_posts_json_and_never_logs_its_url(
    webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "services/T0/B0/xoxb-secret-path"
    monkeypatch.setenv("COMOVE_SLACK_WEBHOOK", webhook.url(f"/{secret}"))
    notifier = WebhookNotifier(
        ChannelConfig("webhook", "slack", format="slack", url_env="COMOVE_SLACK_WEBHOOK")
    )
    alert = make_test_alert()
    with caplog.at_level(logging.DEBUG):
        notifier.send(alert)
    assert webhook.received == [(f"/{secret}", webhook_payload(alert, "slack"))]
    assert "HTTP Request" in caplog.text  # httpx did log the request ...
    assert secret not in caplog.text  # ... without the URL's secret path


def test_email_over_smtp(smtp: SmtpReceiver) -> None:
    from comove.alerts import EmailNotifier

    channel = ChannelConfig(
        "email", "mail", host="127.0.0.1", port=smtp.port, starttls=False,
        sender="comove@example.com", to=("me@example.com",),
    )  # fmt: skip
    alert = make_test_alert()
    EmailNotifier(channel).send(alert)
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["Subject"] == alert.subject
    assert message["To"] == "me@example.com"
    assert message["X-Comove-Alert-Key"] == alert.key
    assert "this channel works" in str(message.get_payload())


def test_command_hook_gets_the_alert_as_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = f"import sys, pathlib; pathlib.Path({str(out)!r}).write_text(sys.stdin.read())"
    hook = CommandNotifier(ChannelConfig("command", "hook", run=(sys.executable, "-c", script)))
    alert = make_test_alert()
    hook.send(alert)
    received = json.loads(out.read_text())
    assert received["key"] == alert.key
    assert received["subject"] == alert.subject
    failing = CommandNotifier(
        ChannelConfig("command", "bad", run=(sys.executable, "-c", "import sys; sys.exit('nope')"))
    )
    with pytest.raises(ChannelError, match="exited with 1: nope"):
        failing.send(alert)
    slow = CommandNotifier(
        ChannelConfig(
            "command", "slow", run=(sys.executable, "-c", "import time; time.sleep(5)"), timeout=0.2
        )
    )
    with pytest.raises(ChannelError, match="timed out"):
        slow.send(alert)


def test_a_failing_channel_is_retried_recorded_and_does_not_block_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "T000/B000/very-secret-token"
    monkeypatch.setenv("HOOK_URL", f"http://127.0.0.1:9/services/{secret}")
    store_path = tmp_path / "store.duckdb"
    out = tmp_path / "hook.json"
    script = f"import sys, pathlib; pathlib.Path({str(out)!r}).write_text(sys.stdin.read())"
    broken = WebhookNotifier(ChannelConfig("webhook", "slack", format="slack", url_env="HOOK_URL"))
    hook = CommandNotifier(ChannelConfig("command", "hook", run=(sys.executable, "-c", script)))
    alert = make_test_alert()
    waits: list[float] = []
    with caplog.at_level(logging.DEBUG):
        results = deliver([alert], [broken, hook], store_path, retries=3, backoff=0.5,
                          sleep=waits.append)  # fmt: skip
    assert [(r.channel, r.status) for r in results] == [("slack", "failed"), ("hook", "sent")]
    assert results[0].attempts == 3
    assert waits == [0.5, 1.0]
    assert out.exists()
    assert "Connection refused" in (results[0].error or "")
    assert secret not in (results[0].error or "")
    assert secret not in caplog.text
    with Store(store_path, read_only=True) as store:
        recent = store.recent_alerts()
        assert store.alert_sent(alert.key, "hook")
        assert not store.alert_sent(alert.key, "slack")
        assert store.alert_sent(alert.key)
    assert list(recent.columns) == ["sent_at", "kind", "subject", "body", "channel", "ok", "error"]
    failed = recent[~recent["ok"]]
    assert list(failed["channel"]) == ["slack"]
    assert secret not in " ".join(recent["error"].fillna(""))
    # Delivered once: a second delivery skips the channel that worked, retries the other.
    again = deliver([alert], [broken, hook], store_path, retries=1, backoff=0)
    assert [(r.channel, r.status) for r in again] == [("slack", "failed"), ("hook", "skipped")]


def test_console_channel_prints_the_alert(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleNotifier().send(make_test_alert())
    assert "comove: test alert" in capsys.readouterr().out


# -- configuration ----------------------------------------------------------------------


def test_alert_and_watch_settings(tmp_path: Path) -> None:
    (tmp_path / "comove.toml").write_text(
        """
[watch]
crypto_every = "5m"
equity_after = "17:00"
stale_after = "2h"
[alerts]
correlation_threshold = 0.55
correlation_exit = 0.5
[[alerts.channels]]
type = "webhook"
format = "discord"
url = "https://discord.example/api/webhooks/SECRET-IN-FILE"
[[alerts.channels]]
type = "email"
host = "smtp.example.com"
port = 587
username = "me"
password = "hunter2-secret"
from = "comove@example.com"
to = ["me@example.com"]
[[alerts.channels]]
type = "command"
name = "notify"
run = ["/usr/local/bin/notify.sh"]
"""
    )
    settings = load_settings(cwd=tmp_path, environ={})
    assert settings.watch.crypto_every == 300
    assert settings.watch.stale_after == 7200
    assert settings.watch.equity_after.hour == 17
    assert settings.alerts.correlation_threshold == 0.55
    webhook, email, command = settings.alerts.channels
    assert (webhook.type, webhook.format, webhook.name) == ("webhook", "discord", "webhook-1")
    assert email.starttls
    assert email.port == 587
    assert email.to == ("me@example.com",)
    assert command.name == "notify"
    assert command.run == ("/usr/local/bin/notify.sh",)
    shown = repr(settings) + repr(settings.redacted())
    assert "SECRET-IN-FILE" not in shown
    assert "hunter2" not in shown
    assert email.secret("password", {}) == "hunter2-secret"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[alerts.channels]]\ntype = "pager"\n', "type must be one of"),
        ('[[alerts.channels]]\ntype = "webhook"\n', "needs url_env"),
        ('[[alerts.channels]]\ntype = "email"\nhost = "h"\n', "needs host, from and to"),
        ('[[alerts.channels]]\ntype = "command"\nrun = []\n', "run must be a command"),
        ('[[alerts.channels]]\ntype = "console"\nurl = "x"\n', "unknown setting 'url'"),
        ("[alerts]\ncorrelation_threshold = 0.4\n", "correlation_exit"),
        ('[watch]\ncrypto_every = "soon"\n', "expected a duration"),
        ('[watch]\nequity_after = "25:99"\n', "equity_after"),
    ],
)
def test_bad_alert_settings_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "comove.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"comove\.toml") as caught:
        load_settings(cwd=tmp_path, environ={})
    assert message in str(caught.value)


def test_a_receiver_echoing_the_secret_path_never_shows_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "services/T0001/B0001/XyZsecretXyZsecret"
    store = tmp_path / "comove.duckdb"
    with WebhookReceiver(echo=True) as echoing:
        monkeypatch.setenv("COMOVE_SLACK_WEBHOOK", echoing.url(f"/{secret}"))
        notifier = WebhookNotifier(
            ChannelConfig("webhook", "slack", format="slack", url_env="COMOVE_SLACK_WEBHOOK")
        )
        with caplog.at_level(logging.DEBUG):
            (delivery,) = deliver([make_test_alert()], [notifier], store, retries=1)
    assert delivery.status == "failed"
    assert delivery.error is not None
    assert "404" in delivery.error
    shown = [delivery.error, caplog.text]
    with Store(store, read_only=True) as db:
        shown.append(db.recent_alerts(limit=5).to_string())
    for text in shown:
        for part in ("XyZsecretXyZsecret", "B0001", "T0001"):
            assert part not in text
