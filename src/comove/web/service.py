"""What the dashboard shows: the pipeline's analysis of the store, cached. No FastAPI here.

Every answer comes from :mod:`comove.pipeline` run on what the store holds (offline: the
dashboard never fetches). The analysis of a pair is computed once per (pair, windows,
store file state) over the whole history; a span (``since``/``until``) is cut from it
(:meth:`comove.pipeline.Analysis.span`), so clients asking for many different spans cost
one computation. A write to the store (``comove watch`` or ``comove fetch``) changes the
file state and so the key. Answers are JSON text built from the domain types'
``to_dict()``; this module only assembles and caches them.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import threading
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from comove._json import day, dumps, stamp
from comove._secrets import redact
from comove._text import quoted
from comove._time import now_utc
from comove.config import Settings, parse_windows
from comove.data.store import Store
from comove.errors import ComoveError, ConfigError, StoreError
from comove.pipeline import AnalysisOptions, PairRequest, load_inputs
from comove.pipeline.analysis import analyze_inputs, table_columns
from comove.pipeline.sources import parse_chain, stored_for_chain

if TYPE_CHECKING:
    from comove.pipeline import Analysis

log = logging.getLogger("comove.web")

CACHE_SIZE = 8
SPANS_PER_PAIR = 64
WORKERS = 2
QUEUE = 64
RETRY_AFTER = 2
STATE_SECONDS = 0.1
STORE_LOCK_TIMEOUT = 5.0
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 12, 31)


class WorkQueue:
    """At most ``running`` computations at once and ``waiting`` in line, served first come,
    first served; beyond that a request is answered 503 with ``Retry-After`` at once, so a
    flood of distinct requests cannot pile up threads, and cached answers never wait
    behind it. A finished computation hands its slot to the first in line, so a newcomer
    never overtakes a request that has been waiting (which would stretch the slowest
    answers under load)."""

    def __init__(self, running: int, waiting: int, patience: float = 20.0) -> None:
        self._lock = threading.Lock()
        self._free = running
        self._line: deque[threading.Event] = deque()
        self.limit = waiting
        self.patience = patience

    def _enter(self) -> None:
        with self._lock:
            if self._free > 0 and not self._line:
                self._free -= 1
                return
            if len(self._line) >= self.limit:
                raise _busy()
            ticket = threading.Event()
            self._line.append(ticket)
        if ticket.wait(self.patience):
            return
        with self._lock:
            if ticket.is_set():  # handed the slot just as the wait ran out
                return
            self._line.remove(ticket)
        raise _busy()

    def _leave(self) -> None:
        with self._lock:
            if self._line:
                self._line.popleft().set()
            else:
                self._free += 1

    @contextmanager
    def slot(self) -> Iterator[None]:
        self._enter()
        try:
            yield
        finally:
            self._leave()


def _busy() -> RequestError:
    return RequestError(503, "the dashboard is busy computing; retry shortly", {"retry": True})


class RequestError(Exception):
    """A request the dashboard cannot answer: an HTTP status, a message and details."""

    def __init__(self, status: int, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


def windows_of(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    """The ``windows`` parameter (:func:`comove.config.parse_windows`), or the default."""
    if text is None or not text.strip():
        return default
    try:
        return parse_windows(text)
    except ConfigError as exc:
        message = str(exc) if str(exc).startswith("windows") else f"windows: {exc}"
        raise RequestError(422, message, {"parameter": "windows"}) from None


def check_span(since: dt.date | None, until: dt.date | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise RequestError(
                422, f"{name}: {value} is outside {EARLIEST}..{LATEST}", {"parameter": name}
            )
    if since is not None and until is not None and since > until:
        raise RequestError(422, f"since ({since}) is after until ({until})", {"parameter": "since"})


@dataclass(frozen=True)
class PairKey:
    """A pair (``None``: the configured chain) and its windows: one computation."""

    crypto: str | None
    equity: str | None
    windows: tuple[int, ...]


@dataclass(frozen=True)
class Span:
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass
class Computed:
    """One analysis over the whole history, and the answers cut from it, built on first use:
    each answer once (other requests for it wait for that build), different answers side
    by side, every build taking a slot of the dashboard's work queue."""

    analysis: Analysis
    notes: list[str]
    queue: WorkQueue
    answers: OrderedDict[tuple[Span, str], bytes] = field(default_factory=OrderedDict)
    spans: dict[Span, Analysis] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    building: dict[tuple[Span, str], threading.Lock] = field(default_factory=dict)

    def shown(self, span: Span) -> Analysis:
        if span == Span():
            return self.analysis
        found = self.spans.get(span)
        if found is None:
            found = self.analysis.span(
                None if span.since is None else pd.Timestamp(span.since),
                None if span.until is None else pd.Timestamp(span.until),
            )
            with self.lock:
                self.spans[span] = found
        return found

    def _built(self, key: tuple[Span, str], make: Callable[[], bytes]) -> bytes:
        cached = self.answers.get(key)
        if cached is not None:
            return cached
        with self.lock:
            guard = self.building.setdefault(key, threading.Lock())
        with guard:
            cached = self.answers.get(key)
            if cached is None:
                cached = make()
                with self.lock:
                    self.answers[key] = cached
                    self.building.pop(key, None)
                    self._trim()
        return cached

    def answer(self, span: Span, name: str, build: Callable[[Computed, Analysis], Any]) -> bytes:
        def make() -> bytes:
            with self.queue.slot():
                value = build(self, self.shown(span))
            return (value if isinstance(value, str) else dumps(value)).encode("utf-8")

        return self._built((span, name), make)

    def gzipped(self, span: Span, name: str, build: Callable[[Computed, Analysis], Any]) -> bytes:
        """The same answer gzip-compressed once (answers are large; clients ask repeatedly)."""
        body = self.answer(span, name, build)
        return self._built(
            (span, name + ".gz"), lambda: gzip.compress(body, compresslevel=6, mtime=0)
        )

    def _trim(self) -> None:
        while len(self.answers) > SPANS_PER_PAIR * 8:
            (old_span, _), _ = self.answers.popitem(last=False)
            self.spans.pop(old_span, None)


@dataclass(frozen=True)
class StoredSymbols:
    crypto: tuple[str, ...]
    equity: tuple[str, ...]
    default_crypto: str | None
    default_equity: str | None
    spans: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)


class Dashboard:
    """Reads the store for the web app; every method is safe to call from many threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store_path = Path(settings.store_path)
        self._cache: OrderedDict[tuple[Any, ...], Computed] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._symbols: tuple[tuple[Any, ...], StoredSymbols] | None = None
        self._state: tuple[float, tuple[Any, ...]] | None = None
        self.state_seconds = STATE_SECONDS
        self.queue = WorkQueue(WORKERS, QUEUE)
        self.computations = 0

    # -- the store ---------------------------------------------------------------------

    def store_state(self) -> tuple[Any, ...]:
        """Changes whenever the store file (or its write-ahead log) is written; read at
        most every ``state_seconds`` (a request asks several times)."""
        now = time.monotonic()
        seen = self._state
        if seen is not None and now - seen[0] < self.state_seconds:
            return seen[1]
        state: list[Any] = []
        for path in (self.store_path, self.store_path.with_name(self.store_path.name + ".wal")):
            try:
                info = path.stat()
            except OSError:
                state.append(None)
            else:
                state.append((info.st_mtime_ns, info.st_size))
        self._state = (now, tuple(state))
        return self._state[1]

    def _open(self) -> Store:
        return Store(self.store_path, read_only=True, lock_timeout=STORE_LOCK_TIMEOUT)

    def public_message(self, text: str) -> str:
        """A message with the store's folder and any secret removed."""
        for shown in (str(self.store_path), str(self.store_path.resolve())):
            text = text.replace(shown, self.store_path.name)
        return redact(text)

    def symbols(self) -> StoredSymbols:
        state = self.store_state()
        cached = self._symbols
        if cached is not None and cached[0] == state:
            return cached[1]
        with self._open() as store:
            summary = store.bar_summary("1d")
        grouped = summary.groupby("symbol", sort=True).agg(
            first=("first", "min"), last=("last", "max"), is_24_7=("is_24_7", "max")
        )
        crypto = tuple(str(s) for s, row in grouped.iterrows() if row["is_24_7"])
        equity = tuple(str(s) for s, row in grouped.iterrows() if not row["is_24_7"])
        spans = {
            str(s): (pd.Timestamp(row["first"]).date(), pd.Timestamp(row["last"]).date())
            for s, row in grouped.iterrows()
        }

        def default(chain: tuple[str, ...]) -> str | None:
            try:
                found = stored_for_chain(parse_chain(chain), summary, self.settings)
            except ConfigError:
                return None
            return None if found is None else found[1].symbol

        found = StoredSymbols(
            crypto,
            equity,
            default(self.settings.crypto_sources),
            default(self.settings.equity_sources),
            spans,
        )
        self._symbols = (state, found)
        return found

    def symbols_fresh(self) -> bool:
        """Whether :meth:`symbols` can answer without opening the store."""
        cached = self._symbols
        return cached is not None and cached[0] == self.store_state()

    def cached_answer(self, key: PairKey, span: Span, name: str, packed: bool) -> bytes | None:
        """An answer already built for the store as it is now, or ``None`` (never blocks)."""
        hit = self._cache.get((key, self.store_state()))
        if hit is None:
            return None
        return hit.answers.get((span, name + (".gz" if packed else "")))

    def resolve(self, crypto: str | None, equity: str | None) -> tuple[str | None, str | None]:
        """Check asked-for symbols against the store; ``None`` keeps the configured chain,
        and so does the symbol the chain resolves to (one key, one computation, for the
        page's explicit default and an API call without symbols)."""
        stored = self.symbols()
        for name, given, valid, fallback in (
            ("crypto", crypto, stored.crypto, stored.default_crypto),
            ("equity", equity, stored.equity, stored.default_equity),
        ):
            if given is None and fallback is None:
                raise RequestError(
                    404,
                    f"{name}: the store holds no {name} bars yet (run comove fetch or comove import)",
                    {"parameter": name, "valid": list(valid)},
                )
            if given is not None and given not in valid:
                shown = ", ".join(valid[:20]) or "none"
                raise RequestError(
                    404,
                    f"{name}: unknown symbol {quoted(given, 40)}; stored {name} symbols: {shown}",
                    {"parameter": name, "valid": list(valid)},
                )
        return (
            None if crypto == stored.default_crypto else crypto,
            None if equity == stored.default_equity else equity,
        )

    def check_overlap(self, key: PairKey, span: Span) -> None:
        """A span outside the stored data fails here, before anything is read or computed."""
        stored = self.symbols()
        crypto = key.crypto or stored.default_crypto
        equity = key.equity or stored.default_equity
        if crypto not in stored.spans or equity not in stored.spans:
            return
        first = max(stored.spans[crypto][0], stored.spans[equity][0])
        last = min(stored.spans[crypto][1], stored.spans[equity][1])
        if span.since is not None and span.since > last:
            raise RequestError(
                422,
                f"since: {span.since} is after the last session both symbols have ({last})",
                {"parameter": "since"},
            )
        if span.until is not None and span.until < first:
            raise RequestError(
                422,
                f"until: {span.until} is before the first session both symbols have ({first})",
                {"parameter": "until"},
            )

    # -- the analysis ------------------------------------------------------------------

    def computed(self, key: PairKey) -> Computed:
        full_key = (key, self.store_state())
        with self._cache_lock:
            hit = self._cache.get(full_key)
            if hit is not None:
                self._cache.move_to_end(full_key)
                return hit
            lock = self._key_locks.setdefault(full_key, threading.Lock())
        # One computation per key; other keys go on meanwhile.
        with lock:
            with self._cache_lock:
                hit = self._cache.get(full_key)
            if hit is not None:
                return hit
            result = self._compute(key)
            with self._cache_lock:
                self._cache[full_key] = result
                self._key_locks.pop(full_key, None)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            return result

    def request(self, key: PairKey) -> PairRequest:
        """The pipeline request for a pair: stored symbols, or the chains when not given."""
        return PairRequest(
            crypto=None if key.crypto is None else f"store:{key.crypto}",
            equity=None if key.equity is None else f"store:{key.equity}",
            offline=True,
        )

    def _compute(self, key: PairKey) -> Computed:
        with self.queue.slot(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            inputs = load_inputs(self.request(key), self.settings)
            analysis = analyze_inputs(inputs, self.settings, AnalysisOptions(windows=key.windows))
        self.computations += 1
        notes = [self.public_message(str(w.message)) for w in caught]
        return Computed(analysis, notes, self.queue)

    # -- keeping the configured pair warm ----------------------------------------------

    def warm(self) -> None:
        """Compute the configured pair and the answers the page asks for first, so a page
        opened on a fresh server (or after a store write) draws at once."""
        try:
            key = PairKey(*self.resolve(None, None), self.settings.windows)
            computed = self.computed(key)
            for name, build in PAGE_ANSWERS.items():
                computed.answer(Span(), name, build)
                computed.gzipped(Span(), name, build)
        except (ComoveError, RequestError) as exc:
            log.info("dashboard warm-up skipped: %s", self.public_message(str(exc)))

    def keep_warm(self, stop: threading.Event, every: float = 2.0) -> None:
        """Warm now, then again whenever the store changes, until ``stop`` is set."""
        seen: tuple[Any, ...] | None = None
        while not stop.is_set():
            state = self.store_state()
            if state != seen:
                seen = state
                self.warm()
            stop.wait(every)

    # -- answers that do not need an analysis ------------------------------------------

    def health(self) -> dict[str, Any]:
        exists = self.store_path.is_file()
        with self._open() as store:
            info = store.info()
            runs = store.watch_runs(limit=1)
        rows: list[Any] = list(info.itertuples(index=False))
        freshness = [
            {
                "kind": str(row.kind),
                "source": str(row.source),
                "symbol": str(row.symbol),
                "interval": str(row.interval),
                "first": day(row.first),
                "last": day(row.last),
                "rows": int(row.rows),
                "last_fetch": stamp(row.last_fetch),
                "last_fetch_ok": row.last_fetch_ok,
                "staleness_hours": None
                if pd.isna(row.staleness)
                else round(pd.Timedelta(row.staleness).total_seconds() / 3600.0, 1),
            }
            for row in rows
        ]
        last_run = None
        if not runs.empty:
            row = runs.iloc[0]
            last_run = {
                "started_at": stamp(row["started_at"]),
                "data_as_of": stamp(row["data_as_of"]),
                "outcome": str(row["outcome"]),
            }
        return {
            "ok": exists and any(f["kind"] == "bars" for f in freshness),
            "store": self.store_path.name,
            "store_exists": exists,
            "now": stamp(now_utc()),
            "freshness": freshness,
            "last_watch_run": last_run,
        }

    def pairs(self) -> dict[str, Any]:
        stored = self.symbols()
        return {
            "crypto": list(stored.crypto),
            "equity": list(stored.equity),
            "default": {"crypto": stored.default_crypto, "equity": stored.default_equity},
            "windows": list(self.settings.windows),
        }

    def alerts(self, limit: int) -> dict[str, Any]:
        with self._open() as store:
            frame = store.recent_alerts(limit=limit)
        rows: list[Any] = list(frame.itertuples(index=False))
        return {
            "alerts": [
                {
                    "sent_at": stamp(row.sent_at),
                    "kind": str(row.kind),
                    "subject": redact(str(row.subject)),
                    "body": redact(str(row.body)),
                    "channel": str(row.channel),
                    "ok": bool(row.ok),
                    "error": None
                    if row.error is None or pd.isna(row.error)
                    else redact(str(row.error)),
                }
                for row in rows
            ]
        }


# --- answers made from one analysis ------------------------------------------------------


def _meta(computed: Computed, analysis: Analysis) -> dict[str, Any]:
    return {**analysis.meta, "warnings": computed.notes}


def columns_of(text: str | None, windows: tuple[int, ...]) -> tuple[str, ...] | None:
    """The ``columns`` parameter: ``None`` (absent) for every column, ``""`` for none, else
    comma-separated analysis-table columns (each checked)."""
    if text is None:
        return None
    asked = tuple(part.strip() for part in text.split(",") if part.strip())
    valid = table_columns(windows)
    for name in asked:
        if name not in valid:
            raise RequestError(
                422,
                f"columns: unknown column {quoted(name, 40)}; valid: {', '.join(valid)}",
                {"parameter": "columns", "valid": valid},
            )
    return tuple(dict.fromkeys(asked))


def analysis_answer(columns: tuple[str, ...] | None) -> Callable[[Computed, Analysis], str]:
    """The analysis answer with the table's ``columns`` (``None``: all; empty: no rows)."""

    def build(computed: Computed, analysis: Analysis) -> str:
        table = analysis.table
        shown = list(table.columns) if columns is None else list(columns)
        records = "[]"
        if shown:
            days = table.index.to_numpy(dtype="datetime64[D]")
            dates = np.datetime_as_string(days, unit="D").astype(object)
            frame = pd.DataFrame({"date": dates, **{c: table[c].to_numpy() for c in shown}})
            # pandas writes NaN as null; the rest is spliced so the table is never re-parsed.
            records = frame.to_json(orient="records", double_precision=15)
        head = dumps(
            {
                "meta": _meta(computed, analysis),
                "latest": analysis.to_dict(),
                "columns": ["date", *map(str, shown)] if shown else [],
            }
        )
        return head[:-1] + ',"records":' + records + "}"

    return build


def signals_answer(computed: Computed, analysis: Analysis) -> dict[str, Any]:
    result = analysis.signals.to_dict()
    result["history"].reverse()
    return {"meta": _meta(computed, analysis), **result, "verdict": analysis.verdict()}


def backtest_answer(computed: Computed, analysis: Analysis) -> dict[str, Any]:
    return {
        "meta": _meta(computed, analysis),
        "synthetic": bool(analysis.meta.get("synthetic")),
        **analysis.evaluation.to_dict(),
    }


def figures_answer(computed: Computed, analysis: Analysis) -> str:
    """The report's figures in the report's order, as the compact payload the page resolves
    (:mod:`comove.report.payload`), with the meta."""
    from comove.report.charts import all_figures
    from comove.report.payload import figure_payload, payload_json

    payload = {"meta": _meta(computed, analysis), **figure_payload(all_figures(analysis))}
    return payload_json(payload)


def periods_of(text: str | None) -> tuple[tuple[str, str], ...]:
    """``START:END,START:END`` as checked period pairs (400 on a malformed one)."""
    from comove.pipeline.compare import parse_period

    if not text:
        return ()
    try:
        return tuple(parse_period(part) for part in text.split(",") if part.strip())
    except ConfigError as exc:
        raise RequestError(400, str(exc)) from None


def compare_answer(
    periods: tuple[tuple[str, str], ...],
) -> Callable[[Computed, Analysis], dict[str, Any]]:
    def build(computed: Computed, analysis: Analysis) -> dict[str, Any]:
        if periods:
            from comove.pipeline.compare import CompareOptions, build_comparison

            options = CompareOptions(periods=periods, since=analysis.since, until=analysis.until)
            result = build_comparison(analysis, options)
        else:
            result = analysis.commentary
        return {"meta": _meta(computed, analysis), **result.to_dict()}

    return build


def compare_name(periods: tuple[tuple[str, str], ...]) -> str:
    return "compare:" + ",".join(f"{a}:{b}" for a, b in periods)


#: What the page asks for on every load (with no span and the configured windows).
PAGE_ANSWERS: dict[str, Callable[[Computed, Analysis], Any]] = {
    "figures": figures_answer,
    "analysis:": analysis_answer(()),
    "signals": signals_answer,
}


def answer_name(name: str, columns: tuple[str, ...] | None = None) -> str:
    """The cache name of an answer (the analysis one names its columns)."""
    return name if columns is None else f"{name}:{','.join(columns)}"


def as_request_error(exc: ComoveError, dashboard: Dashboard) -> RequestError:
    """A comove error raised while answering: the data cannot give what was asked."""
    message = dashboard.public_message(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if isinstance(exc, StoreError):
        return RequestError(503, message, {"retry": True})
    return RequestError(422, message, None)
