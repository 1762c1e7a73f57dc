"""What the dashboard shows, read from the store and cached: no FastAPI here, no fetching.

Every answer is computed from what the store holds at the time of the request. Computed
analyses are cached per (pair, span, windows, store file state), so a page refresh or many
clients asking for the same pair cost one computation; a write to the store (``comove watch``
or ``comove fetch``) changes the file state and so the key.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from comove.errors import ComoveError, ConfigError, DataError

if TYPE_CHECKING:
    from comove.config import Settings
    from comove.data.store import Store
    from comove.pipeline import Analysis

MIN_WINDOW = 3
MAX_WINDOW = 500
MAX_WINDOWS = 6
CACHE_SIZE = 8
STORE_LOCK_TIMEOUT = 5.0


class RequestError(Exception):
    """A request the dashboard cannot answer: an HTTP status, a message and details."""

    def __init__(self, status: int, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


# --- JSON helpers -------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Plain JSON types: NaN/inf become ``None``, timestamps ISO text, numpy scalars numbers."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.name
    if value is pd.NaT:
        return None
    return str(value)


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _day(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _stamp(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- parameters ---------------------------------------------------------------------------


def parse_windows(text: str | None, default: Sequence[int]) -> tuple[int, ...]:
    """``"30,60,90"`` → ``(30, 60, 90)``: whole numbers in 3..500, at most 6, no repeats."""
    if text is None or not text.strip():
        return tuple(int(w) for w in default)
    parts = [part.strip() for part in text.split(",")]
    windows: list[int] = []
    for part in parts:
        if not part.isdigit() or len(part) > 6:
            raise RequestError(
                422,
                f"windows: expected whole numbers separated by commas, got {text[:60]!r}",
                {"parameter": "windows"},
            )
        windows.append(int(part))
    if len(windows) > MAX_WINDOWS:
        raise RequestError(
            422,
            f"windows: at most {MAX_WINDOWS} windows, got {len(windows)}",
            {"parameter": "windows"},
        )
    bad = [w for w in windows if not MIN_WINDOW <= w <= MAX_WINDOW]
    if bad:
        raise RequestError(
            422,
            f"windows: each window must be between {MIN_WINDOW} and {MAX_WINDOW} sessions, got {bad[0]}",
            {"parameter": "windows"},
        )
    if len(set(windows)) != len(windows):
        raise RequestError(422, "windows: a window is repeated", {"parameter": "windows"})
    return tuple(windows)


EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 12, 31)


def check_span(since: dt.date | None, until: dt.date | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise RequestError(
                422, f"{name}: {value} is outside {EARLIEST}..{LATEST}", {"parameter": name}
            )
    if since is not None and until is not None and since > until:
        raise RequestError(
            422,
            f"since ({since}) is after until ({until})",
            {"parameter": "since"},
        )


@dataclass(frozen=True)
class PairKey:
    crypto: str
    equity: str
    since: dt.date | None
    until: dt.date | None
    windows: tuple[int, ...]


@dataclass
class Computed:
    """One analysis and the JSON answers made from it, built on first use."""

    analysis: Analysis
    notes: list[str]
    answers: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, name: str, build: Callable[[Computed], Any]) -> bytes:
        cached = self.answers.get(name)
        if cached is not None:
            return cached
        with self.lock:
            cached = self.answers.get(name)
            if cached is None:
                value = build(self)
                cached = (value if isinstance(value, str) else dumps(value)).encode("utf-8")
                self.answers[name] = cached
        return cached

    def gzipped(self, name: str, build: Callable[[Computed], Any]) -> bytes:
        """The same answer gzip-compressed once (answers are large; clients ask repeatedly)."""
        key = name + ".gz"
        cached = self.answers.get(key)
        if cached is None:
            body = self.answer(name, build)
            with self.lock:
                cached = self.answers.get(key)
                if cached is None:
                    cached = self.answers[key] = gzip.compress(body, compresslevel=6, mtime=0)
        return cached


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
        self._compute_lock = threading.Lock()
        self._symbols: tuple[tuple[Any, ...], StoredSymbols] | None = None
        self.computations = 0

    # -- the store ---------------------------------------------------------------------

    def store_state(self) -> tuple[Any, ...]:
        """Changes whenever the store file (or its write-ahead log) is written."""
        state: list[Any] = []
        for path in (self.store_path, self.store_path.with_name(self.store_path.name + ".wal")):
            try:
                info = path.stat()
            except OSError:
                state.append(None)
            else:
                state.append((info.st_mtime_ns, info.st_size))
        return tuple(state)

    def _open(self) -> Store:
        from comove.data.store import Store

        return Store(self.store_path, read_only=True, lock_timeout=STORE_LOCK_TIMEOUT)

    def public_message(self, text: str) -> str:
        """A message with the store's folder removed: only the file name is ever shown."""
        for shown in (str(self.store_path), str(self.store_path.resolve())):
            text = text.replace(shown, self.store_path.name)
        return text

    def symbols(self) -> StoredSymbols:
        state = self.store_state()
        cached = self._symbols
        if cached is not None and cached[0] == state:
            return cached[1]
        from comove.data.providers import parse_source

        with self._open() as store:
            # bar_meta counts weekend rows: a series trading on weekends is crypto (24/7).
            rows = store.con.execute(
                "SELECT symbol, sum(rows), sum(weekend_rows), min(first_ts), max(last_ts) "
                "FROM bar_meta WHERE interval = '1d' GROUP BY symbol ORDER BY symbol"
            ).fetchall()
        crypto = tuple(str(s) for s, n, w, _, _ in rows if n and w / n > 0.1)
        equity = tuple(str(s) for s, n, w, _, _ in rows if not (n and w / n > 0.1))
        spans = {
            str(s): (pd.Timestamp(first).date(), pd.Timestamp(last).date())
            for s, _, _, first, last in rows
        }

        def default(chain: Sequence[str], stored: tuple[str, ...]) -> str | None:
            for text in chain:
                try:
                    symbol = parse_source(text).symbol
                except ConfigError:
                    continue
                if symbol in stored:
                    return symbol
            return stored[0] if stored else None

        found = StoredSymbols(
            crypto,
            equity,
            default(self.settings.crypto_sources, crypto),
            default(self.settings.equity_sources, equity),
            spans,
        )
        self._symbols = (state, found)
        return found

    def resolve(self, crypto: str | None, equity: str | None) -> tuple[str, str]:
        stored = self.symbols()
        chosen: list[str] = []
        for name, given, valid, fallback in (
            ("crypto", crypto, stored.crypto, stored.default_crypto),
            ("equity", equity, stored.equity, stored.default_equity),
        ):
            symbol = given if given is not None else fallback
            if symbol is None:
                raise RequestError(
                    404,
                    f"{name}: the store holds no {name} bars yet (run comove fetch)",
                    {"parameter": name, "valid": []},
                )
            if symbol not in valid:
                shown = ", ".join(valid[:20]) or "none"
                raise RequestError(
                    404,
                    f"{name}: unknown symbol {symbol[:40]!r}; stored {name} symbols: {shown}",
                    {"parameter": name, "valid": list(valid)},
                )
            chosen.append(symbol)
        return chosen[0], chosen[1]

    def check_overlap(self, key: PairKey) -> None:
        """A span outside the stored data fails here, before anything is read or computed."""
        spans = self.symbols().spans
        if key.crypto not in spans or key.equity not in spans:
            return
        first = max(spans[key.crypto][0], spans[key.equity][0])
        last = min(spans[key.crypto][1], spans[key.equity][1])
        if key.since is not None and key.since > last:
            raise RequestError(
                422,
                f"since: {key.since} is after the last session both symbols have ({last})",
                {"parameter": "since"},
            )
        if key.until is not None and key.until < first:
            raise RequestError(
                422,
                f"until: {key.until} is before the first session both symbols have ({first})",
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
        with self._compute_lock:
            with self._cache_lock:
                hit = self._cache.get(full_key)
            if hit is not None:
                return hit
            result = self._compute(key)
            with self._cache_lock:
                self._cache[full_key] = result
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            return result

    def _load(
        self, key: PairKey
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.Series], pd.DataFrame | None]:
        from comove.data.providers import parse_source
        from comove.pipeline import stored_bars

        def bars(store: Store, symbol: str, source: str | None = None) -> pd.DataFrame:
            return stored_bars(store, symbol, source, f"store:{symbol}", None)

        with self._open() as store:
            crypto = bars(store, key.crypto)
            equity = bars(store, key.equity)
            macro: dict[str, pd.Series] = {}
            for text in self.settings.macro_sources:
                try:
                    spec = parse_source(text)
                    macro[spec.symbol] = store.read_series(spec.symbol)
                except (DataError, ConfigError):
                    continue
            large_caps = None
            for text in self.settings.large_cap_sources:
                try:
                    spec = parse_source(text)
                    large_caps = bars(store, spec.symbol, spec.source_id)
                    break
                except (DataError, ConfigError):
                    continue
        return crypto, equity, macro, large_caps

    def _compute(self, key: PairKey) -> Computed:
        from comove.pipeline import build_analysis

        crypto, equity, macro, large_caps = self._load(key)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            analysis = build_analysis(
                crypto,
                equity,
                key.windows,
                calendar=self.settings.calendar,
                since=None if key.since is None else pd.Timestamp(key.since),
                until=None if key.until is None else pd.Timestamp(key.until),
                macro=macro,
                large_caps=large_caps,
            )
        self.computations += 1
        notes = [self.public_message(str(w.message)) for w in caught]
        return Computed(analysis, notes)

    # -- answers -----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        exists = self.store_path.is_file()
        freshness: list[dict[str, Any]] = []
        runs: list[dict[str, Any]] = []
        with self._open() as store:
            info = store.info()
            if hasattr(store, "watch_runs"):
                frame = store.watch_runs(limit=1)
                runs = [
                    {
                        "started_at": _stamp(row["started_at"]),
                        "data_as_of": _stamp(row["data_as_of"]),
                        "outcome": str(row["outcome"]),
                    }
                    for _, row in frame.iterrows()
                ]
        for _, row in info.iterrows():
            staleness = row["staleness"]
            freshness.append(
                {
                    "kind": str(row["kind"]),
                    "source": str(row["source"]),
                    "symbol": str(row["symbol"]),
                    "interval": str(row["interval"]),
                    "first": _day(row["first"]),
                    "last": _day(row["last"]),
                    "rows": int(row["rows"]),
                    "last_fetch": _stamp(row["last_fetch"]),
                    "last_fetch_ok": row["last_fetch_ok"],
                    "staleness_hours": None
                    if pd.isna(staleness)
                    else round(pd.Timedelta(staleness).total_seconds() / 3600.0, 1),
                }
            )
        return {
            "ok": exists and any(f["kind"] == "bars" for f in freshness),
            "store": self.store_path.name,
            "store_exists": exists,
            "now": _stamp(pd.Timestamp.now(tz="UTC").tz_localize(None)),
            "freshness": freshness,
            "last_watch_run": runs[0] if runs else None,
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
            if not hasattr(store, "recent_alerts"):
                return {"alerts": []}
            frame = store.recent_alerts(limit=limit)
        alerts = [
            {
                "sent_at": _stamp(row["sent_at"]),
                "kind": str(row["kind"]),
                "subject": str(row["subject"]),
                "body": str(row["body"]),
                "channel": str(row["channel"]),
                "ok": bool(row["ok"]),
                "error": None
                if row["error"] is None or pd.isna(row["error"])
                else str(row["error"]),
            }
            for _, row in frame.iterrows()
        ]
        return {"alerts": alerts}


# --- answers made from one analysis ------------------------------------------------------


def _meta(computed: Computed) -> dict[str, Any]:
    meta = jsonable(computed.analysis.meta)
    meta["warnings"] = computed.notes
    return meta


def _latest(analysis: Analysis) -> dict[str, Any]:
    reading = analysis.reading
    last = analysis.table.iloc[-1]
    return {
        "date": _day(reading.date),
        "first_date": _day(reading.first_date),
        "sessions": reading.sessions,
        "headline": reading.headline(),
        "windows": [jsonable(vars(w)) for w in reading.windows],
        "momentum": [jsonable(vars(m)) for m in reading.momentum],
        "stance": jsonable(last.get("stance", math.nan)),
        "lead_lag": jsonable(vars(analysis.lead_lag_best)),
    }


def analysis_answer(computed: Computed) -> str:
    table = computed.analysis.table.copy()
    table.index = pd.DatetimeIndex(table.index).strftime("%Y-%m-%d")
    table.index.name = "date"
    # pandas writes NaN as null; the rest is spliced so the table is never re-parsed.
    records = table.reset_index().to_json(orient="records", double_precision=15)
    head = dumps(
        {
            "meta": _meta(computed),
            "latest": _latest(computed.analysis),
            "columns": ["date", *map(str, computed.analysis.table.columns)],
        }
    )
    return head[:-1] + ',"records":' + records + "}"


def signals_answer(computed: Computed) -> dict[str, Any]:
    from comove.commands.signals import checklist_json

    signals = computed.analysis.signals
    history = signals.history.iloc[::-1]
    return {
        "meta": _meta(computed),
        "date": _day(computed.analysis.table.index[-1]),
        "checklist": jsonable(checklist_json(signals.checklist())),
        "history": [
            {
                "date": _day(row["date"]),
                "signal": str(row["signal"]),
                "from": str(row["from"]),
                "to": str(row["to"]),
            }
            for _, row in history.iterrows()
        ],
    }


def backtest_answer(computed: Computed) -> dict[str, Any]:
    from comove.commands.signals import backtest_json
    from comove.signals.evaluate import Evaluation

    analysis = computed.analysis
    evaluation = Evaluation(
        signals=analysis.signals,
        backtest=analysis.backtest,
        event_study=analysis.event_study,
        claims=analysis.claims,
    )
    payload = jsonable(backtest_json(evaluation, bool(analysis.meta.get("synthetic"))))
    payload["meta"] = _meta(computed)
    return dict(payload)


def figures_answer(computed: Computed) -> str:
    """The report's figures as plotly JSON, in the report's order, titles split off."""
    import plotly.io as pio

    from comove.report.charts import build_figures, build_signal_figures

    analysis = computed.analysis
    figures = build_figures(analysis)
    figures.update(
        build_signal_figures(
            analysis, signals=analysis.signals, backtest=analysis.backtest, macro=analysis.macro
        )
    )
    parts = []
    for key, figure in figures.items():
        title = figure.layout.title.text or key.replace("_", " ")
        # The page shows the title as a heading (it wraps on a phone; a plotly title would not).
        figure.update_layout(title={"text": ""}, margin={"t": 36})
        parts.append(
            dumps(key)
            + ':{"title":'
            + dumps(str(title))
            + ',"figure":'
            + pio.to_json(figure, validate=False)
            + "}"
        )
    return '{"meta":' + dumps(_meta(computed)) + ',"figures":{' + ",".join(parts) + "}}"


def as_request_error(exc: ComoveError, dashboard: Dashboard) -> RequestError:
    """A comove error raised while answering: the data cannot give what was asked."""
    from comove.errors import StoreError

    message = dashboard.public_message(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if isinstance(exc, StoreError):
        return RequestError(503, message, {"retry": True})
    return RequestError(422, message, None)
