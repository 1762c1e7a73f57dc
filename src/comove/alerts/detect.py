"""Detecting alerts: what changed since the state the previous run saved.

Detection compares the latest session of an analysis with that state; it never computes
analytics itself: it reads the analysis table, the signals and the correlation regimes the
pipeline computed (:mod:`comove.signals.regime`). Four kinds of change speak up:

``signal_change``
    A signal's state changed (on / off / cannot be confirmed). Off ↔ unknown is not an
    alert: it only says data came or went while nothing was on.
``correlation_cross``
    A rolling correlation window's regime changed: it reached ``[alerts]
    correlation_threshold`` or fell back below ``correlation_exit``.
``stance_change``
    The suggested exposure changed (bullish / neutral / reduce).
``stale_data``
    A source chain has been failing for longer than ``[watch] stale_after``.

Each :class:`Alert` carries a stable ``key`` (kind, name, new state, session date): a key
delivered once is recorded in the store and never sent again, across restarts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from comove._time import now_utc, utc_aware
from comove.config import Settings
from comove.signals.regime import regime_word
from comove.signals.rules import SIGNAL_LABELS, SIGNALS, STANCE_WORDS, STATE_WORDS

if TYPE_CHECKING:
    from comove.pipeline import Analysis
    from comove.signals.rules import SignalCheck

AlertKind = Literal["signal_change", "correlation_cross", "stance_change", "stale_data", "test"]


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
    current = utc_aware(now_utc() if now is None else now)
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
    current = utc_aware(now_utc() if now is None else now)
    return Alert(
        kind="test",
        name="test",
        subject="comove: test alert",
        body="This is a test message from `comove alerts test`: this channel works.",
        key=f"test:{current.isoformat()}",
        as_of=None,
        created_at=current.isoformat(),
    )
