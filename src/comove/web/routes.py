"""The JSON API (``/api/...``), the page (``/``) and its static files.

Handlers are plain ``def``: reading DuckDB and computing run in FastAPI's thread pool,
never on the event loop. No handler takes a file-system path from a request: static files
are a fixed table built at import.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from comove._json import dumps
from comove._text import quoted
from comove.errors import ComoveError
from comove.report.charts import plotly_package_file
from comove.report.templates import environment
from comove.web.service import (
    Computed,
    Dashboard,
    PairKey,
    RequestError,
    Span,
    analysis_answer,
    as_request_error,
    backtest_answer,
    check_span,
    figures_answer,
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


class AlertsOut(BaseModel):
    alerts: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or wrong token"},
    404: {"model": ErrorOut, "description": "Unknown symbol; detail lists the valid ones"},
    422: {"model": ErrorOut, "description": "A parameter is invalid; the message names it"},
    503: {"model": ErrorOut, "description": "The store is busy (being written); retry"},
}

api_router = APIRouter(prefix="/api", tags=["api"])
page_router = APIRouter(include_in_schema=False)


def dashboard(request: Request) -> Dashboard:
    board: Dashboard = request.app.state.dashboard
    return board


Board = Annotated[Dashboard, Depends(dashboard)]


@dataclass(frozen=True)
class PairQuery:
    board: Dashboard
    key: PairKey
    span: Span


def pair_query(
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


def _answer(request: Request, query: PairQuery, name: str, build: Any) -> Response:
    """A cached answer, sent gzip-compressed (compressed once) to clients that accept it."""
    computed = _computed(query)
    try:
        if _accepts_gzip(request):
            body = computed.gzipped(query.span, name, build)
            headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        else:
            body = computed.answer(query.span, name, build)
            headers = {"Vary": "Accept-Encoding"}
    except ComoveError as exc:
        raise as_request_error(exc, query.board) from None
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
def analysis(request: Request, query: Pair) -> Response:
    """The analysis table as records (NaN as null), its metadata and the latest reading."""
    return _answer(request, query, "analysis", analysis_answer)


@api_router.get("/signals", response_model=SignalsOut, responses=ERRORS)
def signals(request: Request, query: Pair) -> Response:
    """The checklist of every signal on the latest session and the history of state changes."""
    return _answer(request, query, "signals", signals_answer)


@api_router.get("/backtest", response_model=BacktestOut, responses=ERRORS)
def backtest(request: Request, query: Pair) -> Response:
    """The stance overlay's metrics against buy-and-hold, the event study and the claims check."""
    return _answer(request, query, "backtest", backtest_answer)


@api_router.get("/figures", response_model=FiguresOut, responses=ERRORS)
def figures(request: Request, query: Pair) -> Response:
    """The report's charts as plotly figure JSON (what the page draws with Plotly.react)."""
    return _answer(request, query, "figures", figures_answer)


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
    "plotly.min.js": (plotly_package_file("plotly.min.js"), "text/javascript; charset=utf-8"),
    "figures.js": (
        Path(str(resources.files("comove.report") / "static" / "figures.js")),
        "text/javascript; charset=utf-8",
    ),
    "app.js": (_own("app.js"), "text/javascript; charset=utf-8"),
    "style.css": (_own("style.css"), "text/css; charset=utf-8"),
}
_STATIC_BYTES: dict[str, bytes] = {}


@page_router.get("/static/{name}")
def static(name: str) -> Response:
    entry = STATIC.get(name)
    if entry is None:
        raise RequestError(404, f"no static file {quoted(name, 60)}", {"files": sorted(STATIC)})
    body = _STATIC_BYTES.get(name)
    if body is None:
        body = _STATIC_BYTES[name] = entry[0].read_bytes()
    return Response(body, media_type=entry[1], headers={"Cache-Control": "public, max-age=3600"})


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
        )
    )
    return HTMLResponse(html)
