"""A local fake of Yahoo, FRED, binance, kraken and coinbase on 127.0.0.1, and scripted faults.

Payloads follow each provider's documented format (Yahoo chart API v8, FRED graph CSV and
API v1 JSON, binance spot REST v3, kraken REST public, coinbase Advanced Trade public).
The prices are a deterministic synthetic path, so tests can compute expected values from
:func:`price_path` independently of the provider code.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

DAY = 86_400


@dataclass
class Reply:
    """One scripted reply. ``delay`` sleeps first (timeouts); ``truncate`` cuts the body
    short while still announcing its full Content-Length (a connection dropped mid-body)."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: int | None = None
    content_type: str = "application/json"


@dataclass
class Request:
    path: str
    query: dict[str, str]


def price_path(stamps: list[int], seed: float = 0.0) -> list[dict[str, float]]:
    """OHLCV rows for epoch-second stamps: a smooth positive path, high >= open/close >= low."""
    rows = []
    for ts in stamps:
        k = ts // 3600
        close = 1000.0 * math.exp(0.2 * math.sin(k / 97.0 + seed) + 0.00001 * k)
        open_ = 1000.0 * math.exp(0.2 * math.sin((k - 1) / 97.0 + seed) + 0.00001 * (k - 1))
        rows.append(
            {
                "time": ts,
                "open": round(open_, 4),
                "high": round(max(open_, close) * 1.01, 4),
                "low": round(min(open_, close) * 0.99, 4),
                "close": round(close, 4),
                "volume": round(100.0 + (k % 17) * 3.5, 4),
            }
        )
    return rows


def daily_stamps(
    first: str, last: str, *, weekdays_only: bool = False, hour: int = 0, minute: int = 0
) -> list[int]:
    days = pd.date_range(first, last, freq="D")
    if weekdays_only:
        days = days[days.dayofweek < 5]
    offset = hour * 3600 + minute * 60
    return [int(d.timestamp()) + offset for d in days]


def hourly_stamps(first: str, last: str) -> list[int]:
    return [int(t.timestamp()) for t in pd.date_range(first, last, freq="h")]


Handler = Callable[[Request], Reply]


class FakeServer:
    """A threaded HTTP server; routes by path prefix, scripted replies first."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                request = Request(parts.path, query)
                reply = server.reply_for(request)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.truncate is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body if reply.truncate is None else body[: reply.truncate])
                    self.wfile.flush()
                    if reply.truncate is not None:
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def route(self, prefix: str, handler: Handler) -> None:
        self.routes[prefix] = handler

    def script(self, prefix: str, *replies: Reply) -> None:
        """Serve these replies, in order, to the next requests under ``prefix``."""
        with self._lock:
            self.scripts[prefix].extend(replies)

    def hits(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def reply_for(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            for prefix in sorted(self.scripts, key=len, reverse=True):
                if request.path.startswith(prefix) and self.scripts[prefix]:
                    return self.scripts[prefix].popleft()
        for prefix in sorted(self.routes, key=len, reverse=True):
            if request.path.startswith(prefix):
                return self.routes[prefix](request)
        return Reply(404, "not found", content_type="text/plain")


# --------------------------------------------------------------------------- datasets

CRYPTO_DAILY = daily_stamps("2024-01-01", "2024-12-31")
CRYPTO_HOURLY = hourly_stamps("2024-06-01", "2024-06-20 23:00")
# NYSE sessions open 09:30 New York = 14:30 UTC in winter, 13:30 in summer; Yahoo stamps
# daily bars with the session open.
EQUITY_DAYS = pd.bdate_range("2024-01-02", "2024-12-31")


def equity_stamps() -> list[int]:
    opens = [
        pd.Timestamp(d.date()).tz_localize("America/New_York") + pd.Timedelta(hours=9, minutes=30)
        for d in EQUITY_DAYS
    ]
    return [int(t.timestamp()) for t in opens]


# --------------------------------------------------------------------------- yahoo


def yahoo_chart(
    symbol: str,
    stamps: list[int],
    zone: str,
    rows: list[dict[str, float]],
    *,
    adj_factor: float = 1.0,
) -> dict[str, Any]:
    return {
        "chart": {
            "result": [
                {
                    "meta": {
                        "currency": "USD",
                        "symbol": symbol,
                        "exchangeName": "NIM" if symbol.startswith("^") else "CCC",
                        "instrumentType": "INDEX" if symbol.startswith("^") else "CRYPTOCURRENCY",
                        "firstTradeDate": stamps[0] if stamps else None,
                        "regularMarketTime": stamps[-1] if stamps else None,
                        "gmtoffset": -18000 if zone != "UTC" else 0,
                        "timezone": "EST" if zone != "UTC" else "UTC",
                        "exchangeTimezoneName": zone,
                        "priceHint": 2,
                        "dataGranularity": "1d",
                        "range": "",
                    },
                    **(
                        {
                            "timestamp": stamps,
                            "indicators": {
                                "quote": [
                                    {
                                        "open": [r["open"] for r in rows],
                                        "high": [r["high"] for r in rows],
                                        "low": [r["low"] for r in rows],
                                        "close": [r["close"] for r in rows],
                                        "volume": [int(r["volume"]) for r in rows],
                                    }
                                ],
                                "adjclose": [
                                    {"adjclose": [round(r["close"] * adj_factor, 4) for r in rows]}
                                ],
                            },
                        }
                        if stamps
                        else {"indicators": {"quote": [{}], "adjclose": [{}]}}
                    ),
                }
            ],
            "error": None,
        }
    }


YAHOO_NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}

YAHOO_SERIES: dict[str, tuple[list[int], str, float]] = {}


def yahoo_handler(request: Request) -> Reply:
    symbol = request.path.rsplit("/", 1)[-1].replace("%5E", "^")
    interval = request.query.get("interval", "1d")
    if symbol in ("^RUT", "IWM", "^GSPC", "SPY"):
        stamps = equity_stamps() if interval == "1d" else []
        zone = "America/New_York"
    elif symbol == "ETH-USD":
        stamps = CRYPTO_DAILY if interval == "1d" else CRYPTO_HOURLY
        zone = "UTC"
    else:
        return Reply(404, json.dumps(YAHOO_NOT_FOUND))
    p1 = int(request.query.get("period1", 0))
    p2 = int(request.query.get("period2", 2**40))
    chosen = [t for t in stamps if p1 <= t < p2]
    seed = {"^RUT": 1.0, "IWM": 1.0, "^GSPC": 2.0, "SPY": 2.0}.get(symbol, 0.0)
    rows = price_path(chosen, seed)
    adj = 0.1 if symbol == "IWM" else 1.0  # an ETF priced at a tenth of the index
    payload = yahoo_chart(symbol, chosen, zone, rows, adj_factor=adj)
    if symbol == "IWM":
        quote = payload["chart"]["result"][0]["indicators"]["quote"][0] if chosen else {}
        for key in ("open", "high", "low", "close"):
            if key in quote:
                quote[key] = [round(v * 0.1, 4) for v in quote[key]]
        if chosen:
            payload["chart"]["result"][0]["indicators"]["adjclose"][0]["adjclose"] = quote["close"]
    return Reply(200, json.dumps(payload))


# --------------------------------------------------------------------------- FRED

FRED_WALCL = [
    ("2024-01-03", "7713622"),
    ("2024-01-10", "7675998"),
    ("2024-01-17", "7677654"),
    ("2024-01-24", "7631429"),
    ("2024-01-31", "7631925"),
]
FRED_DGS2 = [
    ("2024-01-01", "."),
    ("2024-01-02", "4.33"),
    ("2024-01-03", "4.33"),
    ("2024-01-04", "4.38"),
    ("2024-01-05", "4.40"),
]
FRED_DATA = {"WALCL": FRED_WALCL, "DGS2": FRED_DGS2}
FRED_UNITS = {"WALCL": "Millions of U.S. Dollars", "DGS2": "Percent"}
FRED_KEY = "abcdef0123456789abcdef0123456789"


def _fred_rows(
    series: str, query: dict[str, str], start_key: str, end_key: str
) -> list[tuple[str, str]]:
    rows = FRED_DATA[series]
    lo = query.get(start_key, "0000")
    hi = query.get(end_key, "9999")
    return [(d, v) for d, v in rows if lo <= d <= hi]


def fred_graph_handler(request: Request) -> Reply:
    series = request.query.get("id", "")
    if series not in FRED_DATA:
        return Reply(
            404,
            "<!DOCTYPE html><html><body>Series not found</body></html>",
            content_type="text/html",
        )
    lines = [f"observation_date,{series}"]
    lines += [f"{d},{v}" for d, v in _fred_rows(series, request.query, "cosd", "coed")]
    return Reply(200, "\n".join(lines) + "\n", content_type="text/csv")


def _fred_api_check(request: Request) -> Reply | None:
    if request.query.get("api_key") != FRED_KEY:
        return Reply(
            400,
            json.dumps(
                {
                    "error_code": 400,
                    "error_message": "Bad Request.  The value for variable api_key is not registered.",
                }
            ),
        )
    if request.query.get("series_id") not in FRED_DATA:
        return Reply(
            400,
            json.dumps(
                {"error_code": 400, "error_message": "Bad Request.  The series does not exist."}
            ),
        )
    return None


def fred_observations_handler(request: Request) -> Reply:
    error = _fred_api_check(request)
    if error is not None:
        return error
    series = request.query["series_id"]
    rows = _fred_rows(series, request.query, "observation_start", "observation_end")
    payload = {
        "realtime_start": "2024-02-01",
        "realtime_end": "2024-02-01",
        "observation_start": "1600-01-01",
        "observation_end": "9999-12-31",
        "units": "lin",
        "output_type": 1,
        "file_type": "json",
        "order_by": "observation_date",
        "sort_order": "asc",
        "count": len(rows),
        "offset": 0,
        "limit": 100000,
        "observations": [
            {"realtime_start": "2024-02-01", "realtime_end": "2024-02-01", "date": d, "value": v}
            for d, v in rows
        ],
    }
    return Reply(200, json.dumps(payload))


def fred_series_handler(request: Request) -> Reply:
    error = _fred_api_check(request)
    if error is not None:
        return error
    series = request.query["series_id"]
    payload = {
        "realtime_start": "2024-02-01",
        "realtime_end": "2024-02-01",
        "seriess": [
            {
                "id": series,
                "realtime_start": "2024-02-01",
                "realtime_end": "2024-02-01",
                "title": series,
                "observation_start": FRED_DATA[series][0][0],
                "observation_end": FRED_DATA[series][-1][0],
                "frequency": "Weekly, As of Wednesday",
                "frequency_short": "W",
                "units": FRED_UNITS[series],
                "units_short": "Mil. of U.S. $",
                "seasonal_adjustment": "Not Seasonally Adjusted",
                "seasonal_adjustment_short": "NSA",
                "last_updated": "2024-02-01 15:31:01-06",
                "popularity": 80,
                "notes": "",
            }
        ],
    }
    return Reply(200, json.dumps(payload))


# --------------------------------------------------------------------------- binance

BINANCE_INFO = {
    "timezone": "UTC",
    "serverTime": 1735603200000,
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}
    ],
    "exchangeFilters": [],
    "symbols": [
        {
            "symbol": "ETHUSDT",
            "status": "TRADING",
            "baseAsset": "ETH",
            "baseAssetPrecision": 8,
            "quoteAsset": "USDT",
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": [
                "LIMIT",
                "LIMIT_MAKER",
                "MARKET",
                "STOP_LOSS_LIMIT",
                "TAKE_PROFIT_LIMIT",
            ],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": True,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": "0.01000000",
                    "maxPrice": "1000000.00000000",
                    "tickSize": "0.01000000",
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": "0.00010000",
                    "maxQty": "9000.00000000",
                    "stepSize": "0.00010000",
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT", "MARGIN"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }
    ],
}


def _stamps_for(interval_seconds: int) -> list[int]:
    return CRYPTO_DAILY if interval_seconds == DAY else CRYPTO_HOURLY


def binance_klines_handler(request: Request) -> Reply:
    if request.query.get("symbol") != "ETHUSDT":
        return Reply(400, json.dumps({"code": -1121, "msg": "Invalid symbol."}))
    seconds = {"1d": DAY, "1h": 3600}[request.query.get("interval", "1d")]
    limit = int(request.query.get("limit", 500))
    start = int(request.query.get("startTime", 0)) // 1000
    end = int(request.query.get("endTime", 2**40 * 1000)) // 1000
    chosen = [t for t in _stamps_for(seconds) if start <= t <= end][:limit]
    rows = price_path(chosen, 0.0)
    klines = [
        [
            r["time"] * 1000,
            f"{r['open']:.8f}",
            f"{r['high']:.8f}",
            f"{r['low']:.8f}",
            f"{r['close']:.8f}",
            f"{r['volume']:.8f}",
            (r["time"] + seconds) * 1000 - 1,
            f"{r['volume'] * r['close']:.8f}",
            1000,
            "0.0",
            "0.0",
            "0",
        ]
        for r in rows
    ]
    return Reply(200, json.dumps(klines))


# --------------------------------------------------------------------------- kraken

KRAKEN_PAIRS = {
    "error": [],
    "result": {
        "XETHZUSD": {
            "altname": "ETHUSD",
            "wsname": "ETH/USD",
            "aclass_base": "currency",
            "base": "XETH",
            "aclass_quote": "currency",
            "quote": "ZUSD",
            "lot": "unit",
            "cost_decimals": 5,
            "pair_decimals": 2,
            "lot_decimals": 8,
            "lot_multiplier": 1,
            "leverage_buy": [2, 3, 4, 5],
            "leverage_sell": [2, 3, 4, 5],
            "fees": [[0, 0.4], [10000, 0.35]],
            "fees_maker": [[0, 0.25], [10000, 0.2]],
            "fee_volume_currency": "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": "0.002",
            "costmin": "0.5",
            "tick_size": "0.01",
            "status": "online",
        }
    },
}


def kraken_ohlc_handler(request: Request) -> Reply:
    pair = request.query.get("pair")
    if pair != "XETHZUSD":
        return Reply(200, json.dumps({"error": ["EQuery:Unknown asset pair"]}))
    seconds = int(request.query.get("interval", 1)) * 60
    since = int(request.query.get("since", 0))
    # Kraken answers bars after `since`, at most 720 of them.
    chosen = [t for t in _stamps_for(seconds) if t > since][:720]
    rows = price_path(chosen, 0.0)
    ohlc = [
        [
            r["time"],
            f"{r['open']:.2f}",
            f"{r['high']:.2f}",
            f"{r['low']:.2f}",
            f"{r['close']:.2f}",
            f"{r['close']:.2f}",
            f"{r['volume']:.8f}",
            50,
        ]
        for r in rows
    ]
    last = chosen[-1] if chosen else since
    return Reply(200, json.dumps({"error": [], "result": {"XETHZUSD": ohlc, "last": last}}))


# --------------------------------------------------------------------------- coinbase

COINBASE_PRODUCT = {
    "product_id": "ETH-USD",
    "price": "3400.12",
    "price_percentage_change_24h": "1.2",
    "volume_24h": "120000.5",
    "volume_percentage_change_24h": "-3.1",
    "base_increment": "0.00000001",
    "quote_increment": "0.01",
    "quote_min_size": "1",
    "quote_max_size": "50000000",
    "base_min_size": "0.00000001",
    "base_max_size": "15000",
    "base_name": "Ethereum",
    "quote_name": "US Dollar",
    "watched": False,
    "is_disabled": False,
    "new": False,
    "status": "online",
    "cancel_only": False,
    "limit_only": False,
    "post_only": False,
    "trading_disabled": False,
    "auction_mode": False,
    "product_type": "SPOT",
    "quote_currency_id": "USD",
    "base_currency_id": "ETH",
    "fcm_trading_session_details": None,
    "mid_market_price": "",
    "alias": "",
    "alias_to": [],
    "base_display_symbol": "ETH",
    "quote_display_symbol": "USD",
    "view_only": False,
    "price_increment": "0.01",
    "display_name": "ETH-USD",
    "product_venue": "CBE",
    "approximate_quote_24h_volume": "408000000",
}

GRANULARITY = {"ONE_DAY": DAY, "ONE_HOUR": 3600}


def coinbase_products_handler(request: Request) -> Reply:
    path = request.path.rstrip("/")
    if path.endswith("/candles"):
        product = path.split("/")[-2]
        if product != "ETH-USD":
            return Reply(404, json.dumps({"error": "NOT_FOUND", "message": "product not found"}))
        seconds = GRANULARITY[request.query.get("granularity", "ONE_DAY")]
        start = int(request.query.get("start", 0))
        end = int(request.query.get("end", 2**40))
        chosen = [t for t in _stamps_for(seconds) if start <= t < end][:350]
        rows = price_path(chosen, 0.0)
        # Coinbase lists candles newest first.
        candles = [
            {
                "start": str(r["time"]),
                "low": str(r["low"]),
                "high": str(r["high"]),
                "open": str(r["open"]),
                "close": str(r["close"]),
                "volume": str(r["volume"]),
            }
            for r in reversed(rows)
        ]
        return Reply(200, json.dumps({"candles": candles}))
    if request.query.get("product_type") == "FUTURE":
        return Reply(200, json.dumps({"products": [], "num_products": 0}))
    return Reply(200, json.dumps({"products": [COINBASE_PRODUCT], "num_products": 1}))


def install_all(server: FakeServer) -> None:
    server.route("/v8/finance/chart/", yahoo_handler)
    server.route("/graph/fredgraph.csv", fred_graph_handler)
    server.route("/fred/series/observations", fred_observations_handler)
    server.route("/fred/series", fred_series_handler)
    server.route("/api/v3/exchangeInfo", lambda r: Reply(200, json.dumps(BINANCE_INFO)))
    server.route("/api/v3/klines", binance_klines_handler)
    server.route("/0/public/AssetPairs", lambda r: Reply(200, json.dumps(KRAKEN_PAIRS)))
    server.route("/0/public/OHLC", kraken_ohlc_handler)
    server.route("/api/v3/brokerage/market/products", coinbase_products_handler)
