"""``comove watch``: refresh on a schedule, recompute, alert on changes, record every run.

One cycle (:func:`run_cycle`):

1. refresh the crypto chain (every ``[watch] crypto_every``), and the equity, large-cap and
   macro sources once per XNYS session after ``equity_after`` New York time (the close
   has been published; FRED's daily series and the H.4.1 are out by then);
2. rebuild the analysis from the store (refresh failures only make data older);
3. detect alerts against the state the previous run saved (:func:`comove.alerts.detect_alerts`)
   and deliver the ones not yet delivered (keys recorded in the store);
4. record the run (time, data as of, outcome, message, detection state) in the store.

The loop (:func:`watch_loop`) survives provider outages — a failed refresh becomes a
stale-data alert once it lasts longer than ``stale_after`` — and stops between steps on
SIGINT/SIGTERM: every store write is a transaction that finishes before the flag is read.
The clock and the wait are injectable for tests.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from comove._secrets import redact
from comove._text import clip
from comove._time import now_utc, utc_aware
from comove.alerts import (
    Alert,
    ChainHealth,
    Delivery,
    Notifier,
    build_notifiers,
    deliver,
    detect_alerts,
)
from comove.config import Settings
from comove.data.sources import parse_source
from comove.errors import ComoveError

if TYPE_CHECKING:
    from comove.data.refresh import ProviderFactory
    from comove.pipeline import Analysis

log = logging.getLogger("comove.watch")

Clock = Callable[[], pd.Timestamp]
#: Waits up to the given seconds; returns True when a stop was requested meanwhile.
Wait = Callable[[float], bool]


def utc_now() -> pd.Timestamp:
    return utc_aware(now_utc())


def published_session(
    now: pd.Timestamp, after: dt.time, *, calendar: str = "XNYS", tz: str = "America/New_York"
) -> pd.Timestamp | None:
    """The latest session whose data is out: its date at ``after`` (New York) has passed."""
    from comove.data.calendar import sessions

    local = utc_aware(now).tz_convert(tz)
    today = pd.Timestamp(local.date())
    found = sessions(today - pd.Timedelta(days=14), today, calendar)
    for day in reversed(found):
        ready = pd.Timestamp(dt.datetime.combine(day.date(), after)).tz_localize(tz)
        if ready <= local:
            return pd.Timestamp(day)
    return None


@dataclass
class CycleResult:
    """What one cycle did; ``outcome`` is ``ok``, ``partial`` (a refresh failed, the
    analysis ran on stored data), ``error`` (no analysis) or ``stopped``."""

    started_at: pd.Timestamp
    finished_at: pd.Timestamp
    outcome: str
    message: str
    data_as_of: pd.Timestamp | None
    alerts: list[Alert] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    analysis: Analysis | None = None

    def line(self) -> str:
        as_of = "n/a" if self.data_as_of is None else str(self.data_as_of.date())
        failed = sum(d.status == "failed" for d in self.deliveries)
        sent = sum(d.status == "sent" for d in self.deliveries)
        new = len({d.key for d in self.deliveries if d.status != "skipped"})
        text = (
            f"{self.started_at:%Y-%m-%d %H:%M:%S} UTC  data as of {as_of}  {self.outcome}: "
            f"{new} new alerts, {sent} deliveries"
        )
        if failed:
            text += f", {failed} failed"
        if self.message:
            text += f"  ({self.message})"
        return text


def _chains(settings: Settings) -> dict[str, tuple[str, ...]]:
    chains = {
        "crypto": settings.crypto_sources,
        "equity": settings.equity_sources,
        "large_caps": settings.large_cap_sources,
    }
    for source in settings.macro_sources:
        chains[f"macro {parse_source(source).name}"] = (source,)
    return chains


def chain_health(settings: Settings) -> dict[str, ChainHealth]:
    """Per source chain: failing when every member's latest attempt failed."""
    from comove.data.store import Store

    out: dict[str, ChainHealth] = {}
    with Store(settings.store_path, read_only=True) as store:
        for name, chain in _chains(settings).items():
            records = []
            for text in chain:
                spec = parse_source(text)
                record = store.last_fetch(spec.source_id, spec.name, "1d")
                if record is not None:
                    records.append(record)
            if not records:
                continue
            failing = not any(r["ok"] for r in records)
            oks = [r["last_ok_at"] for r in records if r["last_ok_at"] is not None]
            latest = max(records, key=lambda r: r["at"])
            out[name] = ChainHealth(
                sources=chain,
                failing=failing,
                last_ok=max(oks) if oks else None,
                message=str(latest["message"]) if failing else "",
            )
    return out


def analyze_stored(settings: Settings) -> Analysis:
    """The analysis of the configured pair from what the store holds (no fetching)."""
    from comove.pipeline import PairRequest, run

    return run(PairRequest(offline=True), settings)


def load_state(settings: Settings) -> dict[str, Any] | None:
    from comove.data.store import Store

    with Store(settings.store_path, read_only=True) as store:
        text = store.watch_state()
    if text is None:
        return None
    try:
        state = json.loads(text)
    except json.JSONDecodeError:
        return None
    return state if isinstance(state, dict) else None


def _refresh_chain(
    settings: Settings,
    chain: Sequence[str],
    providers: ProviderFactory,
    now: pd.Timestamp,
) -> str | None:
    """Refresh the first working source of ``chain``; the (redacted) reason when none works.

    ``store:`` members are what is stored already: a chain of only those has nothing to do.
    """
    from comove.data.refresh import refresh_first_available
    from comove.data.store import ShortLivedStore

    try:
        specs = [s for s in map(parse_source, chain) if s.provider != "store"]
        if specs:
            refresh_first_available(
                ShortLivedStore(settings.store_path), specs, now=now, providers=providers
            )
    except ComoveError as exc:
        return redact(str(exc))
    return None


def run_cycle(
    settings: Settings,
    *,
    now: pd.Timestamp | None = None,
    clock: Clock = utc_now,
    notifiers: Sequence[Notifier] | None = None,
    providers: ProviderFactory | None = None,
    stop: threading.Event | None = None,
    refresh: bool = True,
    retry_sleep: Callable[[float], None] | None = None,
) -> CycleResult:
    """One watch cycle: refresh what is due, analyse, detect, deliver, record."""
    from comove.data.store import Store
    from comove.pipeline.sources import run_providers

    # A new run: hosts found unreachable in an earlier cycle get their full retries again.
    run_factory = providers or run_providers(settings)
    started = utc_aware(now if now is not None else clock())
    stop = stop or threading.Event()
    previous = load_state(settings)
    schedule: dict[str, Any] = dict((previous or {}).get("schedule", {}))
    failures: list[tuple[str, str]] = []
    stopped = False
    analysis = None
    error: str | None = None
    alerts: list[Alert] = []
    deliveries: list[Delivery] = []
    new_state: dict[str, Any] = dict(previous or {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if refresh:
            session = published_session(
                started, settings.watch.equity_after, calendar=settings.calendar,
                tz=settings.watch.timezone,
            )  # fmt: skip
            session_text = None if session is None else str(session.date())
            done: dict[str, str] = dict(schedule.get("sessions", {}))
            steps = [("crypto", settings.crypto_sources)] + [
                (name, chain)
                for name, chain in _chains(settings).items()
                if name != "crypto" and session_text is not None and done.get(name) != session_text
            ]
            for name, chain in steps:
                if stop.is_set():
                    stopped = True
                    break
                reason = _refresh_chain(settings, chain, run_factory, started)
                if reason is not None:
                    # Not marked done: a failed equity or macro refresh is tried again next cycle.
                    failures.append((name, reason))
                elif name == "crypto":
                    schedule["crypto_at"] = started.isoformat()
                elif session_text is not None:
                    done[name] = session_text
            schedule["sessions"] = done
        if not stopped and not stop.is_set():
            try:
                analysis = analyze_stored(settings)
            except ComoveError as exc:
                error = redact(str(exc))
            health = chain_health(settings)
            alerts, detected = detect_alerts(previous, analysis, settings, health=health,
                                             now=started)  # fmt: skip
            new_state = detected
        else:
            stopped = True
        for item in caught:
            log.info("%s", item.message)
    new_state["schedule"] = schedule
    if not stopped and alerts:
        deliveries = deliver(
            alerts,
            list(notifiers) if notifiers is not None else build_notifiers(settings),
            settings.store_path,
            retries=settings.alerts.retries,
            backoff=settings.alerts.backoff,
            sleep=retry_sleep,
        )
    as_of = None
    if analysis is not None and len(analysis.table):
        as_of = pd.Timestamp(analysis.table.index[-1])
    if stopped:
        outcome = "stopped"
    elif error is not None:
        outcome = "error"
    elif failures:
        outcome = "partial"
    else:
        outcome = "ok"
    message = "; ".join(([error] if error else []) + _failure_summary(failures))
    finished = utc_aware(clock()) if now is None else started
    # A stopped cycle keeps the previous detection state: the next run picks up from there.
    state_text = json.dumps(
        new_state if not stopped else {**(previous or {}), "schedule": schedule}
    )
    with Store(settings.store_path) as store:
        store.record_run(
            started, finished, data_as_of=as_of, outcome=outcome, message=clip(message, 2000),
            state=state_text,
        )  # fmt: skip
    return CycleResult(started, finished, outcome, message, as_of, alerts, deliveries, analysis)


def _failure_summary(failures: Sequence[tuple[str, str]]) -> list[str]:
    if not failures:
        return []
    names = ", ".join(name for name, _ in failures)
    return [f"refresh failed for {names} ({clip(failures[0][1], 300)})"]


def next_wait(settings: Settings, result: CycleResult, now: pd.Timestamp) -> float:
    """Seconds until the next crypto refresh is due."""
    due = result.started_at + pd.Timedelta(seconds=settings.watch.crypto_every)
    return max(0.0, (due - utc_aware(now)).total_seconds())


def watch_loop(
    settings: Settings,
    *,
    once: bool = False,
    clock: Clock = utc_now,
    wait: Wait | None = None,
    stop: threading.Event | None = None,
    notifiers: Sequence[Notifier] | None = None,
    providers: ProviderFactory | None = None,
    out: TextIO | None = None,
    max_cycles: int | None = None,
) -> list[CycleResult]:
    """Run cycles until stopped (or one with ``once``); returns what each did.

    ``wait(seconds)`` sleeps and returns True when a stop was requested meanwhile; the
    default waits on ``stop``. Unexpected errors of a cycle are logged and the loop goes on.
    """
    stop = stop or threading.Event()
    waiter: Wait = wait if wait is not None else stop.wait
    results: list[CycleResult] = []
    while not stop.is_set():
        try:
            result = run_cycle(
                settings, clock=clock, notifiers=notifiers, providers=providers, stop=stop
            )
        except ComoveError as exc:
            # The store itself failed (busy, corrupt): say so and try again next time.
            now = utc_aware(clock())
            result = CycleResult(now, now, "error", str(exc), None)
            log.error("watch cycle failed: %s", exc)
        except Exception as exc:  # a monitor must outlive one bad cycle
            now = utc_aware(clock())
            result = CycleResult(now, now, "error", f"{type(exc).__name__}: {exc}", None)
            log.exception("watch cycle failed unexpectedly")
        results.append(result)
        if out is not None:
            out.write(result.line() + "\n")
            out.flush()
        if once or (max_cycles is not None and len(results) >= max_cycles):
            break
        seconds = next_wait(settings, result, clock())
        if out is not None and not stop.is_set():
            out.write(f"next check in {seconds / 60:.1f} min\n")
            out.flush()
        if waiter(seconds):
            break
    return results
