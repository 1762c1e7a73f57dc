"""Alerts: detect what changed, tell every configured channel, remember what was sent.

:mod:`~comove.alerts.detect` compares an analysis with the previous run's state,
:mod:`~comove.alerts.channels` builds the channels, :mod:`~comove.alerts.deliver` sends
with retries and records every outcome in the store.
"""

from __future__ import annotations

from comove.alerts.channels import (
    ChannelError,
    CommandNotifier,
    ConsoleNotifier,
    EmailNotifier,
    Notifier,
    WebhookNotifier,
    build_notifier,
    build_notifiers,
    webhook_payload,
)
from comove.alerts.deliver import Delivery, deliver
from comove.alerts.detect import Alert, ChainHealth, detect_alerts, make_test_alert

__all__ = [
    "Alert",
    "ChainHealth",
    "ChannelError",
    "CommandNotifier",
    "ConsoleNotifier",
    "Delivery",
    "EmailNotifier",
    "Notifier",
    "WebhookNotifier",
    "build_notifier",
    "build_notifiers",
    "deliver",
    "detect_alerts",
    "make_test_alert",
    "webhook_payload",
]
