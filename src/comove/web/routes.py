"""The JSON API (``/api/...``), the page (``/``) and its static files.

Reading DuckDB and computing run in the thread pool, never on the event loop: the answers
built from an analysis are ``async`` only to hand back an answer already cached without
a thread hop, and go to the pool for anything else. No handler takes a file-system path
from a request: static files are a fixed table built at import.
"""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from comove._json import dumps
from comove._text import quoted
from comove.errors import ComoveError
from comove.report.charts import PLOTLY_JS_FILE, static_file
from comove.report.templates import environment
from comove.web.service import (
    Computed,
    Dashboard,
    PairKey,
    RequestError,
    Span,
    analysis_answer,
    answer_name,
    as_request_error,
    backtest_answer,
    check_span,
    columns_of,
    compare_answer,
    compare_name,
    figures_answer,
    periods_of,
    signals_answer,
    windows_of,
)

JSON = "application/json"


class ErrorOut(BaseModel):
    error: str
    detail: Any = None


class HealthOut(BaseModel):
    ok: bool
    store: str
    store_exists: bool
    now: str | None
    freshness: list[dict[str, Any]]
    last_watch_run: dict[str, Any] | None


class PairsOut(BaseModel):
    crypto: list[str]
    equity: list[str]
    default: dict[str, str | None]
    windows: list[int]


class AnalysisOut(BaseModel):
    meta: dict[str, Any]
    latest: dict[str, Any]
    columns: list[str]
    records: list[dict[str, Any]]


class SignalsOut(BaseModel):
    meta: dict[str, Any]
    date: str | None
    checklist: list[dict[str, Any]]
    history: list[dict[str, Any]]
    verdict: dict[str, Any]


class BacktestOut(BaseModel):
    meta: dict[str, Any]
    synthetic: bool
    start: str | None
    end: str | None
    cost_bps: float
    metrics: dict[str, Any]
    notes: list[str]
    event_study: list[dict[str, Any]]
    claims: dict[str, Any]


class FiguresOut(BaseModel):
    meta: dict[str, Any]
    figures: dict[str, Any]


class CompareOut(BaseModel):
    meta: dict[str, Any]
    crypto: str
    level: float
    benchmarks: dict[str, Any] | None
    periods: dict[str, Any] | None
    regimes: list[dict[str, Any]]
    notes: list[str]
    methods: dict[str, str]
    words: list[str]


class AlertsOut(BaseModel):
    alerts: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or wrong token"},
    404: {"model": ErrorOut, "description": "Unknown symbol; detail lists the valid ones"},
    422: {"model": ErrorOut, "description": "A parameter is invalid; the message names it"},
    503: {
        "model": ErrorOut,
        "description": "The store is being written, or the dashboard is busy; retry after "
        "the Retry-After seconds",
    },
}

api_router = APIRouter(prefix="/api", tags=["api"])
page_router = APIRouter(include_in_schema=False)


async def dashboard(request: Request) -> Dashboard:
    board: Dashboard = request.app.state.dashboard
    return board


Board = Annotated[Dashboard, Depends(dashboard)]


@dataclass(frozen=True)
class PairQuery:
    board: Dashboard
    key: PairKey
    span: Span


def _pair_query(
    board: Dashboard,
    crypto: str | None,
    equity: str | None,
    since: dt.date | None,
    until: dt.date | None,
    windows: str | None,
) -> PairQuery:
    check_span(since, until)
    sizes = windows_of(windows, board.settings.windows)
    try:
        symbols = board.resolve(crypto, equity)
    except ComoveError as exc:
        raise as_request_error(exc, board) from None
    key = PairKey(symbols[0], symbols[1], sizes)
    span = Span(since, until)
    board.check_overlap(key, span)
    return PairQuery(board, key, span)


async def pair_query(
    board: Board,
    crypto: Annotated[
        str | None,
        Query(max_length=64, description="Stored crypto symbol; default: the configured pair."),
    ] = None,
    equity: Annotated[
        str | None,
        Query(max_length=64, description="Stored equity symbol; default: the configured pair."),
    ] = None,
    since: Annotated[dt.date | None, Query(description="First date shown (YYYY-MM-DD).")] = None,
    until: Annotated[dt.date | None, Query(description="Last date shown (YYYY-MM-DD).")] = None,
    windows: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Rolling windows in sessions, comma-separated: 3..500 each, at most 8.",
            examples=["30,60,90"],
        ),
    ] = None,
) -> PairQuery:
    if board.symbols_fresh():
        return _pair_query(board, crypto, equity, since, until, windows)
    return await run_in_threadpool(_pair_query, board, crypto, equity, since, until, windows)


Pair = Annotated[PairQuery, Depends(pair_query)]


def _computed(query: PairQuery) -> Computed:
    try:
        return query.board.computed(query.key)
    except ComoveError as exc:
        raise as_request_error(exc, query.board) from None


def _json(body: bytes | str) -> Response:
    return Response(body, media_type=JSON)


def _accepts_gzip(request: Request) -> bool:
    codings = request.headers.get("accept-encoding", "").lower().split(",")
    return any(
        c.split(";")[0].strip() == "gzip" and "q=0" not in c.replace(" ", "") for c in codings
    )


def _build(query: PairQuery, name: str, build: Any, packed: bool) -> bytes:
    computed = _computed(query)
    try:
        if packed:
            return computed.gzipped(query.span, name, build)
        return computed.answer(query.span, name, build)
    except ComoveError as exc:
        raise as_request_error(exc, query.board) from None


async def _answer(request: Request, query: PairQuery, name: str, build: Any) -> Response:
    """A cached answer, sent gzip-compressed (compressed once) to clients that accept it;
    built in the thread pool when not cached yet."""
    packed = _accepts_gzip(request)
    body = query.board.cached_answer(query.key, query.span, name, packed)
    if body is None:
        body = await run_in_threadpool(_build, query, name, build, packed)
    headers = {"Vary": "Accept-Encoding"}
    if packed:
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=JSON, headers=headers)


def _call(board: Dashboard, action: Any, *args: Any) -> Any:
    try:
        return action(*args)
    except ComoveError as exc:
        raise as_request_error(exc, board) from None


@api_router.get("/health", response_model=HealthOut, responses=ERRORS)
def health(board: Board) -> Response:
    """Whether the store holds data, its file name, and how fresh each stored source is."""
    return _json(dumps(_call(board, board.health)))


@api_router.get("/pairs", response_model=PairsOut, responses=ERRORS)
def pairs(board: Board) -> Response:
    """The stored crypto and equity symbols and the configured default pair."""
    return _json(dumps(_call(board, board.pairs)))


@api_router.get("/analysis", response_model=AnalysisOut, responses=ERRORS)
async def analysis(
    request: Request,
    query: Pair,
    columns: Annotated[
        str | None,
        Query(
            max_length=2000,
            description=(
                "Table columns to return, comma-separated (default: all; empty: no rows, "
                "only the metadata and the latest reading)."
            ),
            examples=["corr_60,rsi_crypto"],
        ),
    ] = None,
) -> Response:
    """The analysis table as records (NaN as null), its metadata and the latest reading."""
    chosen = columns_of(columns, query.key.windows)
    return await _answer(request, query, answer_name("analysis", chosen), analysis_answer(chosen))


@api_router.get("/signals", response_model=SignalsOut, responses=ERRORS)
async def signals(request: Request, query: Pair) -> Response:
    """The checklist of every signal on the latest session and the history of state changes."""
    return await _answer(request, query, "signals", signals_answer)


@api_router.get("/backtest", response_model=BacktestOut, responses=ERRORS)
async def backtest(request: Request, query: Pair) -> Response:
    """The stance overlay's metrics against buy-and-hold, the event study and the claims check."""
    return await _answer(request, query, "backtest", backtest_answer)


@api_router.get("/compare", response_model=CompareOut, responses=ERRORS)
async def compare(
    request: Request,
    query: Pair,
    periods: Annotated[
        str | None,
        Query(
            max_length=400,
            description=(
                "Periods to compare, START:END separated by commas (whole history; the span "
                "only limits the benchmarks)."
            ),
            examples=["2017-01-01:2019-12-31,2020-01-01:2021-12-31"],
        ),
    ] = None,
) -> Response:
    """The crypto against the equity index and the large caps (differences, partial
    correlation, spread beta, Fisher and bootstrap intervals), periods, and the regimes."""
    chosen = periods_of(periods)
    return await _answer(request, query, compare_name(chosen), compare_answer(chosen))


@api_router.get("/figures", response_model=FiguresOut, responses=ERRORS)
async def figures(request: Request, query: Pair) -> Response:
    """The report's charts as plotly figure JSON (what the page draws with Plotly.react)."""
    return await _answer(request, query, "figures", figures_answer)


@api_router.get("/alerts", response_model=AlertsOut, responses=ERRORS)
def alerts(
    board: Board,
    limit: Annotated[int, Query(ge=1, le=200, description="How many, newest first.")] = 50,
) -> Response:
    """The latest alerts sent by ``comove watch`` (empty when there are none)."""
    return _json(dumps(_call(board, board.alerts, limit)))


# --- the page -------------------------------------------------------------------------------


def _own(name: str) -> Path:
    return Path(str(resources.files("comove.web") / "static" / name))


STATIC: dict[str, tuple[Path, str]] = {
    PLOTLY_JS_FILE: (static_file(PLOTLY_JS_FILE), "text/javascript; charset=utf-8"),
    "figures.js": (static_file("figures.js"), "text/javascript; charset=utf-8"),
    "app.js": (_own("app.js"), "text/javascript; charset=utf-8"),
    "style.css": (_own("style.css"), "text/css; charset=utf-8"),
}
_STATIC_BYTES: dict[str, bytes] = {}


@page_router.get("/static/{name}")
def static(request: Request, name: str) -> Response:
    entry = STATIC.get(name)
    if entry is None:
        raise RequestError(404, f"no static file {quoted(name, 60)}", {"files": sorted(STATIC)})
    packed = _accepts_gzip(request)
    key = name + (".gz" if packed else "")
    body = _STATIC_BYTES.get(key)
    if body is None:
        raw = entry[0].read_bytes()
        # plotly.js is 1.5 MB, 0.5 MB compressed: compressed once per process.
        body = _STATIC_BYTES[key] = gzip.compress(raw, compresslevel=6, mtime=0) if packed else raw
    headers = {"Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding"}
    if packed:
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=entry[1], headers=headers)


@page_router.get("/", response_class=HTMLResponse)
def page(request: Request, board: Board) -> HTMLResponse:
    from importlib.metadata import version

    stored = _call(board, board.pairs)
    health_now = _call(board, board.health)
    html = (
        environment("web/templates")
        .get_template("index.html")
        .render(
            pairs=stored,
            health=health_now,
            windows=",".join(str(w) for w in stored["windows"]),
            refresh_seconds=request.app.state.refresh_seconds,
            version=version("comove"),
            plotly_js=PLOTLY_JS_FILE,
        )
    )
    return HTMLResponse(html)
