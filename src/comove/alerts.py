"""Alerts: what changed since the last look (with hysteresis), and the channels that say so.

Detection compares the latest session of an analysis with the state the previous run saved
(:func:`detect_alerts`); it never computes analytics itself, it reads the analysis table
and the signals. Four kinds of change speak up:

``signal_change``
    A signal's state changed (on / off / cannot be confirmed). Off ↔ unknown is not an
    alert: it only says data came or went while nothing was on.
``correlation_cross``
    A rolling correlation window crossed ``[alerts] correlation_threshold`` upwards or fell
    back below ``correlation_exit`` — two levels, so a value hovering around the threshold
    does not alert every session.
``stance_change``
    The suggested ETH exposure changed (bullish / neutral / reduce).
``stale_data``
    A source chain has been failing for longer than ``[watch] stale_after``.

Each :class:`Alert` carries a stable ``key`` (kind, name, new state, session date): a key
delivered once is recorded in the store and never sent again, across restarts.

Channels (:func:`build_notifier`): console/log, webhook (Slack ``{"text"}``, Discord
``{"content"}`` or the generic JSON of every field), email over SMTP (STARTTLS by default)
and a command hook that gets the alert as JSON on standard input. :func:`deliver` retries
each channel with exponential backoff (tenacity), records every outcome, and keeps going
when one channel fails. Secrets (webhook URLs, SMTP passwords) are redacted from every
message it records or logs.
"""

from __future__ import annotations

import json
import logging
import math
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

import pandas as pd

from comove._secrets import protect, redact
from comove._time import utc_aware
from comove.config import ChannelConfig, Settings
from comove.signals.regime import regime_word
from comove.signals.rules import SIGNAL_LABELS, SIGNALS, STANCE_WORDS, STATE_WORDS

if TYPE_CHECKING:
    from comove.pipeline import Analysis
    from comove.signals.rules import SignalCheck

log = logging.getLogger("comove.alerts")

AlertKind = Literal["signal_change", "correlation_cross", "stance_change", "stale_data", "test"]
DISCORD_LIMIT = 2000


@dataclass(frozen=True)
class Alert:
    """One thing to tell the user.

    ``key`` is stable for the same change (kind, name, new state, session date), so it is
    delivered exactly once; ``as_of`` is the session the data runs to; ``details`` holds
    the machine-readable parts (from, to, values, the checklist).
    """

    kind: AlertKind
    name: str
    subject: str
    body: str
    key: str
    as_of: str | None
    created_at: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "subject": self.subject,
            "body": self.body,
            "key": self.key,
            "as_of": self.as_of,
            "created_at": self.created_at,
            "details": self.details,
        }

    def text(self) -> str:
        return f"{self.subject}\n{self.body}"


@dataclass(frozen=True)
class ChainHealth:
    """How the refreshes of one source chain went: the latest attempt of each member."""

    sources: tuple[str, ...]
    failing: bool
    last_ok: pd.Timestamp | None
    message: str = ""


# -- detection --------------------------------------------------------------------------


def _word(value: float, words: Mapping[float, str]) -> str:
    return "unknown" if not math.isfinite(value) else words.get(float(value), "unknown")


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:+.3f}"


def _check_lines(check: SignalCheck) -> list[str]:
    lines = [check.summary]
    for c in check.conditions:
        value = "n/a" if not math.isfinite(c.value) else f"{c.value:.4g}"
        since = f", since {c.since.date()}" if c.since is not None else ""
        optional = "" if c.required else " (optional)"
        lines.append(f"  {c.mark} {c.label}: {value} ({c.threshold_text}){optional}{since}")
    return lines


def _as_of_line(as_of: str | None) -> str:
    return f"Data as of the {as_of} session." if as_of else "No analysis: nothing usable stored."


def _correlation_states(regimes: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Per window: (regime at the previous session, regime now), from the analysis."""
    out: dict[str, tuple[str, str]] = {}
    for column in regimes.columns:
        values = regimes[column].to_numpy(dtype="float64")
        before = regime_word(float(values[-2])) if len(values) > 1 else "unknown"
        out[column] = (before, regime_word(float(values[-1])))
    return out


def detect_alerts(
    previous_state: Mapping[str, Any] | None,
    analysis: Analysis | None,
    settings: Settings,
    *,
    health: Mapping[str, ChainHealth] | None = None,
    now: Any = None,
) -> tuple[list[Alert], dict[str, Any]]:
    """The alerts since ``previous_state`` and the state to remember for next time.

    Parameters
    ----------
    previous_state
        What the last call returned (JSON-compatible); ``None`` on the very first run,
        when the previous session of the analysis is the baseline, so only changes that
        happened on the latest session alert.
    analysis
        The current analysis; ``None`` when it could not be built (only stale-data alerts).
    health
        Per source chain, how its refreshes went (``comove.watch.chain_health``).
    now
        The clock (UTC); defaults to the current time.
    """
    prev = dict(previous_state or {})
    current = utc_aware(pd.Timestamp.now(tz="UTC") if now is None else now)
    created = current.isoformat()
    alerts: list[Alert] = []
    state: dict[str, Any] = {
        "signals": dict(prev.get("signals", {})),
        "stance": prev.get("stance"),
        "correlation": dict(prev.get("correlation", {})),
        "failing": {},
        "as_of": prev.get("as_of"),
    }
    as_of: str | None = prev.get("as_of")
    if analysis is not None and len(analysis.table) > 0:
        as_of = str(pd.Timestamp(analysis.table.index[-1]).date())
        state["as_of"] = as_of
        alerts += _signal_alerts(prev, analysis, state, as_of, created)
        alerts += _correlation_alerts(prev, analysis, settings, state, as_of, created)
    alerts += _stale_alerts(prev, health or {}, settings, state, as_of, current)
    return alerts, state


def _signal_alerts(
    prev: Mapping[str, Any],
    analysis: Analysis,
    state: dict[str, Any],
    as_of: str,
    created: str,
) -> list[Alert]:
    columns = analysis.signals.columns
    if len(columns) == 0:
        return []
    checks = {c.name: c for c in analysis.signals.checklist()}
    alerts: list[Alert] = []
    first_run = "signals" not in prev
    for name in SIGNALS:
        values = columns[f"signal_{name}"].to_numpy(dtype="float64")
        now_word = _word(float(values[-1]), STATE_WORDS)
        if first_run:
            before = _word(float(values[-2]), STATE_WORDS) if len(values) > 1 else now_word
        else:
            before = str(prev["signals"].get(name, now_word))
        state["signals"][name] = now_word
        if before == now_word or {before, now_word} == {"off", "unknown"}:
            continue
        label = SIGNAL_LABELS[name]
        shown = "cannot be confirmed" if now_word == "unknown" else now_word
        check = checks[name]
        body = "\n".join(
            [f"{label}: {before} → {now_word}.", *_check_lines(check), _as_of_line(as_of)]
        )
        alerts.append(
            Alert(
                kind="signal_change",
                name=name,
                subject=f"comove: {label} is {shown} ({as_of})",
                body=body,
                key=f"signal_change:{name}:{now_word}:{as_of}",
                as_of=as_of,
                created_at=created,
                details={"from": before, "to": now_word, "checklist": check.to_dict()},
            )
        )
    stance_values = columns["stance"].to_numpy(dtype="float64")
    stance_now = _word(float(stance_values[-1]), STANCE_WORDS)
    if first_run:
        stance_before = (
            _word(float(stance_values[-2]), STANCE_WORDS) if len(stance_values) > 1 else stance_now
        )
    else:
        stance_before = str(prev.get("stance") or stance_now)
    state["stance"] = stance_now
    # The stance is unknown only while the windows warm up: nothing to tell then.
    if stance_before != stance_now and "unknown" not in (stance_before, stance_now):
        check = checks["stance"]
        lines = [
            f"Stance for ETH exposure: {stance_before} → {stance_now}.",
            *_check_lines(check),
        ]
        lines += [checks[name].summary for name in SIGNALS]
        lines.append(_as_of_line(as_of))
        alerts.append(
            Alert(
                kind="stance_change",
                name="stance",
                subject=f"comove: stance for ETH exposure is {stance_now} ({as_of})",
                body="\n".join(lines),
                key=f"stance_change:{stance_now}:{as_of}",
                as_of=as_of,
                created_at=created,
                details={
                    "from": stance_before,
                    "to": stance_now,
                    "checklist": [checks[n].to_dict() for n in (*SIGNALS, "stance")],
                },
            )
        )
    return alerts


def _correlation_alerts(
    prev: Mapping[str, Any],
    analysis: Analysis,
    settings: Settings,
    state: dict[str, Any],
    as_of: str,
    created: str,
) -> list[Alert]:
    enter = settings.alerts.correlation_threshold
    exit_ = settings.alerts.correlation_exit
    table = analysis.table
    first_run = "correlation" not in prev
    alerts: list[Alert] = []
    for column, (before_table, now_word) in _correlation_states(analysis.regimes).items():
        value = float(table[column].iloc[-1])
        before = before_table if first_run else str(prev["correlation"].get(column, now_word))
        state["correlation"][column] = now_word
        if before == now_word or "unknown" in (before, now_word):
            continue
        window = column.removeprefix("corr_")
        row = table.iloc[-1]
        lo = float(row.get(f"{column}_lo", float("nan")))
        hi = float(row.get(f"{column}_hi", float("nan")))
        beta = float(row.get(f"beta_{window}", float("nan")))
        if now_word == "above":
            what = f"rose to {_fmt(value)}, at or above {enter:g}"
            passed = "✓"
        else:
            what = f"fell to {_fmt(value)}, below the exit level {exit_:g}"
            passed = "✗"
        body = "\n".join(
            [
                f"The {window}-session correlation of daily log returns {what}.",
                f"  {passed} correlation {_fmt(value)} (enters ≥ {enter:g}, exits < {exit_:g})",
                f"  95% band [{_fmt(lo)}, {_fmt(hi)}]; beta {_fmt(beta)}",
                _as_of_line(as_of),
            ]
        )
        alerts.append(
            Alert(
                kind="correlation_cross",
                name=column,
                subject=f"comove: {window}-session correlation {now_word} {enter:g} "
                f"({_fmt(value)}, {as_of})",
                body=body,
                key=f"correlation_cross:{column}:{now_word}:{as_of}",
                as_of=as_of,
                created_at=created,
                details={
                    "from": before,
                    "to": now_word,
                    "value": value if math.isfinite(value) else None,
                    "lo": lo if math.isfinite(lo) else None,
                    "hi": hi if math.isfinite(hi) else None,
                    "enter": enter,
                    "exit": exit_,
                },
            )
        )
    return alerts


def _stale_alerts(
    prev: Mapping[str, Any],
    health: Mapping[str, ChainHealth],
    settings: Settings,
    state: dict[str, Any],
    as_of: str | None,
    now: pd.Timestamp,
) -> list[Alert]:
    limit = pd.Timedelta(seconds=settings.watch.stale_after)
    failing_before: Mapping[str, Any] = prev.get("failing", {})
    alerts: list[Alert] = []
    for name, chain in health.items():
        if not chain.failing:
            continue
        if chain.last_ok is not None:
            since = utc_aware(chain.last_ok)
        elif name in failing_before:
            since = utc_aware(failing_before[name])
        else:
            since = now
        state["failing"][name] = since.isoformat()
        if now - since < limit:
            continue
        hours = (now - since).total_seconds() / 3600
        last_ok = (
            "never" if chain.last_ok is None else f"{utc_aware(chain.last_ok):%Y-%m-%d %H:%M} UTC"
        )
        body = "\n".join(
            [
                f"Refreshing {name} ({', '.join(chain.sources)}) has failed for "
                f"{hours:.1f} hours (stale after {limit.total_seconds() / 3600:g} h).",
                f"  last success: {last_ok}",
                f"  last error: {chain.message or 'n/a'}",
                "The analysis keeps using what the store holds. " + _as_of_line(as_of),
            ]
        )
        alerts.append(
            Alert(
                kind="stale_data",
                name=name,
                subject=f"comove: {name} data is stale (refresh failing for {hours:.0f} h)",
                body=body,
                key=f"stale_data:{name}:{since.strftime('%Y-%m-%dT%H:%M')}",
                as_of=as_of,
                created_at=now.isoformat(),
                details={
                    "sources": list(chain.sources),
                    "failing_since": since.isoformat(),
                    "last_ok": None
                    if chain.last_ok is None
                    else utc_aware(chain.last_ok).isoformat(),
                    "error": chain.message,
                },
            )
        )
    return alerts


def make_test_alert(now: Any = None) -> Alert:
    """The message ``comove alerts test`` sends."""
    current = utc_aware(pd.Timestamp.now(tz="UTC") if now is None else now)
    return Alert(
        kind="test",
        name="test",
        subject="comove: test alert",
        body="This is a test message from `comove alerts test`: this channel works.",
        key=f"test:{current.isoformat()}",
        as_of=None,
        created_at=current.isoformat(),
    )


# -- channels ---------------------------------------------------------------------------


class Notifier(Protocol):
    """A channel: ``send`` delivers one alert or raises."""

    @property
    def name(self) -> str: ...

    def send(self, alert: Alert) -> None: ...

    def secrets(self) -> list[str]: ...


class ChannelError(Exception):
    """A delivery failed; the message is already redacted."""


@dataclass
class ConsoleNotifier:
    """Prints the alert (and logs it on ``comove.alerts``)."""

    name: str = "console"
    stream: TextIO | None = None

    def send(self, alert: Alert) -> None:
        log.info("alert %s: %s", alert.key, alert.subject)
        out = self.stream if self.stream is not None else sys.stdout
        out.write(f"\n== {alert.subject}\n{alert.body}\n")
        out.flush()

    def secrets(self) -> list[str]:
        return []


def webhook_payload(alert: Alert, fmt: str) -> dict[str, Any]:
    """The JSON body: Slack ``{"text"}``, Discord ``{"content"}``, or every field (``json``)."""
    if fmt == "slack":
        return {"text": f"*{alert.subject}*\n```\n{alert.body}\n```"}
    if fmt == "discord":
        text = f"**{alert.subject}**\n```\n{alert.body}\n```"
        if len(text) > DISCORD_LIMIT:
            text = text[: DISCORD_LIMIT - 5] + "…\n```"
        return {"content": text}
    return alert.to_dict()


@dataclass
class WebhookNotifier:
    """POSTs the alert as JSON (Slack / Discord incoming webhooks, or generic)."""

    channel: ChannelConfig

    @property
    def name(self) -> str:
        return self.channel.name

    def secrets(self) -> list[str]:
        url = self.channel.secret("url")
        return [url] if url else []

    def send(self, alert: Alert) -> None:
        import httpx

        url = self.channel.secret("url")
        if not url:
            raise ChannelError(
                f"no webhook URL: set the environment variable {self.channel.url_env}"
                if self.channel.url_env
                else "no webhook URL configured"
            )
        protect([url])
        try:
            reply = httpx.post(
                url, json=webhook_payload(alert, self.channel.format), timeout=self.channel.timeout
            )
        except httpx.HTTPError as exc:
            raise ChannelError(redact(f"webhook: {type(exc).__name__}: {exc}", [url])) from None
        if reply.status_code >= 300:
            # The receiver may echo the URL (whose path is the secret) in its reply.
            body = redact(reply.text[:200], [url])
            raise ChannelError(f"webhook: HTTP {reply.status_code}: {body}")


@dataclass
class EmailNotifier:
    """Sends a plain-text email over SMTP: STARTTLS by default, implicit TLS with ``ssl``."""

    channel: ChannelConfig

    @property
    def name(self) -> str:
        return self.channel.name

    def secrets(self) -> list[str]:
        password = self.channel.secret("password")
        return [password] if password else []

    def send(self, alert: Alert) -> None:
        c = self.channel
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = c.sender or ""
        message["To"] = ", ".join(c.to)
        message["X-Comove-Alert-Key"] = alert.key
        message.set_content(alert.body + "\n")
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if c.ssl:
                smtp = smtplib.SMTP_SSL(c.host or "", c.port, timeout=c.timeout, context=context)
            else:
                smtp = smtplib.SMTP(c.host or "", c.port, timeout=c.timeout)
            with smtp:
                if c.starttls and not c.ssl:
                    smtp.starttls(context=context)
                if c.username:
                    password = c.secret("password")
                    if not password:
                        raise ChannelError(
                            f"no SMTP password: set the environment variable {c.password_env}"
                            if c.password_env
                            else "no SMTP password configured"
                        )
                    smtp.login(c.username, password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(
                f"email via {c.host}:{c.port}: {type(exc).__name__}: {exc}"
            ) from None


@dataclass
class CommandNotifier:
    """Runs a user command with the alert as JSON on standard input, within a timeout."""

    channel: ChannelConfig

    @property
    def name(self) -> str:
        return self.channel.name

    def secrets(self) -> list[str]:
        return []

    def send(self, alert: Alert) -> None:
        run = list(self.channel.run)
        try:
            done = subprocess.run(
                run,
                input=json.dumps(alert.to_dict()),
                capture_output=True,
                text=True,
                timeout=self.channel.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ChannelError(
                f"command {run[0]} timed out after {self.channel.timeout:g} s"
            ) from None
        except OSError as exc:
            raise ChannelError(f"command {run[0]} cannot run: {exc.strerror or exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or "").strip().splitlines()[-1:] or [""]
            raise ChannelError(f"command {run[0]} exited with {done.returncode}: {tail[0][:200]}")


def build_notifier(channel: ChannelConfig, *, stream: TextIO | None = None) -> Notifier:
    """The notifier of one configured channel."""
    if channel.type == "webhook":
        return WebhookNotifier(channel)
    if channel.type == "email":
        return EmailNotifier(channel)
    if channel.type == "command":
        return CommandNotifier(channel)
    return ConsoleNotifier(channel.name, stream)


def build_notifiers(settings: Settings, *, stream: TextIO | None = None) -> list[Notifier]:
    """Every configured channel; the console alone when none is configured."""
    if not settings.alerts.channels:
        return [ConsoleNotifier("console", stream)]
    return [build_notifier(c, stream=stream) for c in settings.alerts.channels]


# -- delivery ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One alert to one channel: sent, skipped (already sent before) or failed."""

    key: str
    channel: str
    status: Literal["sent", "skipped", "failed"]
    attempts: int = 0
    error: str | None = None


def _secrets(notifiers: Iterable[Notifier]) -> list[str]:
    found: list[str] = []
    for notifier in notifiers:
        found += [s for s in notifier.secrets() if s]
    return found


def deliver(
    alerts: Sequence[Alert],
    notifiers: Sequence[Notifier],
    store_path: Path | None,
    *,
    retries: int = 3,
    backoff: float = 2.0,
    skip_sent: bool = True,
    sleep: Callable[[float], None] | None = None,
) -> list[Delivery]:
    """Send every alert to every channel, each retried with backoff; record every outcome.

    An alert already delivered to a channel (recorded in the store) is skipped there. A
    failing channel is retried ``retries`` times in all, waiting ``backoff`` seconds and
    doubling, then recorded as failed; the other channels go on regardless. Error messages
    are redacted of every channel's secrets before they are logged or stored.
    """
    from tenacity import Retrying, stop_after_attempt, wait_exponential

    from comove.data.store import Store

    secrets = _secrets(notifiers)
    results: list[Delivery] = []
    for alert in alerts:
        for notifier in notifiers:
            if skip_sent and store_path is not None:
                with Store(store_path, read_only=True) as store:
                    if store.alert_sent(alert.key, notifier.name):
                        results.append(Delivery(alert.key, notifier.name, "skipped"))
                        continue
            attempts = 0

            def attempt(notifier: Notifier = notifier, alert: Alert = alert) -> None:
                nonlocal attempts
                attempts += 1
                notifier.send(alert)

            options: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
            retrying = Retrying(
                stop=stop_after_attempt(max(1, retries)),
                wait=wait_exponential(multiplier=backoff, min=0, max=300),
                reraise=True,
                **options,
            )
            error: str | None = None
            try:
                retrying(attempt)
            except Exception as exc:  # any failure of one channel is contained
                error = redact(str(exc) or type(exc).__name__, secrets)
                log.warning(
                    "alert %s: channel %s failed after %d attempts: %s",
                    alert.key,
                    notifier.name,
                    attempts,
                    error,
                )
            results.append(
                Delivery(alert.key, notifier.name, "failed" if error else "sent", attempts, error)
            )
            if store_path is not None:
                with Store(store_path) as store:
                    store.record_alert(
                        alert.key,
                        notifier.name,
                        kind=alert.kind,
                        subject=alert.subject,
                        body=alert.body,
                        ok=error is None,
                        error=error,
                        attempts=attempts,
                    )
    return results
