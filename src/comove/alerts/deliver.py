"""Delivering alerts: every alert to every channel, retried, recorded, exactly once.

An alert already delivered to a channel (recorded in the store) is skipped there. A failing
channel is retried with exponential backoff (tenacity), recorded as failed, and the other
channels go on regardless. Errors are redacted of every secret before they are logged or
stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from comove._secrets import redact
from comove.alerts.channels import Notifier
from comove.alerts.detect import Alert

log = logging.getLogger("comove.alerts")


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
