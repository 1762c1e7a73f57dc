"""The FastAPI app: security (token, host check, headers), JSON errors, the routes.

:func:`create_app` builds it from :class:`~comove.config.Settings`. Bound to a loopback
address it needs no token (but only answers requests addressed to a loopback host name, so
a web page elsewhere cannot reach it through DNS rebinding); bound to any other address it
refuses to start without a token, and then checks it on every request: the header
``Authorization: Bearer TOKEN``, ``?token=TOKEN`` (for opening the page), or the cookie the
page receives when opened with it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comove._text import clip
from comove.errors import ConfigError
from comove.web.service import RETRY_AFTER, Dashboard, RequestError

if TYPE_CHECKING:
    from comove.config import Settings

log = logging.getLogger("comove.web")

TOKEN_ENV = "COMOVE_TOKEN"
TOKEN_COOKIE = "comove_token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    # plotly.js sets style attributes and injects its own <style> element.
    "style-src 'self' 'unsafe-inline'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def error_response(
    status: int, message: str, detail: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    extra = dict(headers or {})
    if status == 401:
        extra["WWW-Authenticate"] = "Bearer"
    if status == 503:
        extra.setdefault("Retry-After", str(RETRY_AFTER))
    return JSONResponse({"error": message, "detail": detail}, status_code=status, headers=extra)


def _given_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    # The query string carries the token only to open the page (which then sets the
    # cookie), so API URLs with the token never end up in proxy logs.
    from_query = request.query_params.get("token") if request.url.path == "/" else None
    return from_query or request.cookies.get(TOKEN_COOKIE)


def _host_name(request: Request) -> str:
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _token_cookie(token: str) -> str:
    holder = Response()
    holder.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/")
    return holder.headers["set-cookie"]


class Guard:
    """Host check, token check and security headers, as plain ASGI middleware (Starlette's
    ``BaseHTTPMiddleware`` costs a tenth of a cached answer's time)."""

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...], required: str | None) -> None:
        self.app = app
        self.hosts = hosts
        self.required = required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path
        cookie = (
            _token_cookie(self.required)
            if self.required is not None and path == "/" and request.query_params.get("token")
            else None
        )
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if path.startswith("/api/") or path == "/":
                    headers.setdefault("Cache-Control", "no-store")
                if cookie is not None and message["status"] == 200:
                    headers.append("set-cookie", cookie)
            await send(message)

        if self.hosts and _host_name(request) not in self.hosts:
            refused: Response = error_response(
                400, "unexpected Host header", "address the dashboard as 127.0.0.1 or localhost"
            )
            await refused(scope, receive, with_headers)
            return
        if self.required is not None and not hmac.compare_digest(
            (_given_token(request) or "").encode("utf-8"), self.required.encode("utf-8")
        ):
            refused = error_response(
                401, "missing or wrong token", "send Authorization: Bearer TOKEN or ?token=TOKEN"
            )
            await refused(scope, receive, with_headers)
            return
        try:
            await self.app(scope, receive, with_headers)
        except Exception:
            log.exception("unexpected error answering %s", path)
            if started:
                raise
            await error_response(500, "internal error", None)(scope, receive, with_headers)


def create_app(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    token: str | None = None,
    allowed_hosts: Sequence[str] | None = None,
    refresh_seconds: int = 60,
    keep_warm: bool = False,
) -> FastAPI:
    """The dashboard and API for the store of ``settings``.

    Parameters
    ----------
    host
        The address the server binds to; anything but loopback requires a token.
    token
        The access token; default ``$COMOVE_TOKEN`` when ``host`` is not loopback.
    allowed_hosts
        Host names requests may be addressed to; default: loopback names when bound to
        loopback, anything otherwise (the token guards it).
    refresh_seconds
        How often the page refreshes itself.
    keep_warm
        Compute the configured pair in the background at start and after every store
        write, so the page draws at once (``comove serve`` does; tests need not).

    Raises
    ------
    ConfigError
        ``host`` is not loopback and no token is set.
    """
    from comove.web.routes import api_router, page_router

    loopback = is_loopback(host)
    if not loopback and not token:
        token = os.environ.get(TOKEN_ENV) or None
        if not token:
            raise ConfigError(
                f"serving on {host} needs an access token: set {TOKEN_ENV} "
                "(or bind to 127.0.0.1, the default)"
            )
    required = None if loopback and token is None else token
    hosts = (
        tuple(allowed_hosts) if allowed_hosts is not None else (LOOPBACK_NAMES if loopback else ())
    )

    board = Dashboard(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        if keep_warm:
            threading.Thread(
                target=board.keep_warm, args=(stop,), name="comove-warm", daemon=True
            ).start()
        yield
        stop.set()

    app = FastAPI(
        lifespan=lifespan,
        title="comove dashboard API",
        version="1",
        description="Read-only view of the comove store: the analysis, signals, backtest and alerts.",
        docs_url=None,  # the Swagger page loads scripts from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    app.state.dashboard = board
    app.state.refresh_seconds = max(5, int(refresh_seconds))

    app.add_middleware(Guard, hosts=hosts, required=required)

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            where = [str(p) for p in item.get("loc", ()) if p not in ("query", "path", "body")]
            problems.append({"parameter": ".".join(where), "message": str(item.get("msg", ""))})
        first = problems[0] if problems else {"parameter": "", "message": "invalid request"}
        return error_response(
            422, f"{first['parameter']}: {first['message']}".strip(": "), problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page: {clip(request.url.path, 80)}"
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {clip(request.url.path, 80)}"
        # Starlette's own headers (405's Allow) go out with the JSON error.
        return error_response(exc.status_code, message, None, exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s", request.url.path, exc_info=exc)
        return error_response(500, "internal error", None)

    app.include_router(api_router)
    app.include_router(page_router)
    return app
