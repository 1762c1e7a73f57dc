"""Alert channels: console/log, webhook (Slack, Discord, JSON), email over SMTP, a command.

Every channel is a :class:`Notifier`; ``send`` delivers one alert or raises. Messages of a
failure never carry a secret: a webhook URL (whose path is the secret) is redacted from
them, and registered so the HTTP libraries' logs drop it too.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import subprocess
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol, TextIO

from comove._secrets import protect, redact
from comove._text import clip
from comove.alerts.detect import Alert
from comove.config import ChannelConfig, Settings

log = logging.getLogger("comove.alerts")
DISCORD_LIMIT = 2000


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
            body = redact(clip(reply.text, 200), [url])
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
            raise ChannelError(
                f"command {run[0]} exited with {done.returncode}: {clip(tail[0], 200)}"
            )


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
