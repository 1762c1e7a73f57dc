"""``yahoo:`` — indices, ETFs and Yahoo's crypto tickers from Yahoo's public chart API.

``GET {base}/v8/finance/chart/{symbol}?period1=&period2=&interval=1d|1h&events=div,splits``
answers ``{"chart": {"result": [{"meta": {...}, "timestamp": [...], "indicators":
{"quote": [{"open": [...], "high": [...], "low": [...], "close": [...], "volume": [...]}],
"adjclose": [{"adjclose": [...]}]}}], "error": null}}``; an unknown symbol answers 404
with ``chart.error`` set. This is the endpoint yfinance itself calls for history; it is
called directly (httpx) so the base URL and transport can be injected, errors are mapped
here, and no process-wide session, cookie jar or cache is involved.

Daily bars are dated by the exchange's local date (``meta.exchangeTimezoneName``), which
for Yahoo's crypto tickers is UTC; hourly bars keep their UTC open time. ETFs use the
adjusted close (dividends and splits) so returns are right.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from comove._time import now_utc, utc_naive_or_none
from comove.data.providers.base import (
    HttpClient,
    ProgressCallback,
    RetryPolicy,
    Transient,
    check_interval,
    empty_bars,
    env_url,
    host_of,
    to_bars,
)
from comove.errors import ProviderError, SymbolNotFound

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from comove.data.providers.base import TimeLike

DEFAULT_URL = "https://query2.finance.yahoo.com"
ENV_URL = "COMOVE_YAHOO_URL"
# Yahoo serves hourly bars only for the last 730 days.
HOURLY_DAYS = 729
# Oldest daily bar worth asking for when nothing is stored yet.
EPOCH_START = "1970-01-02"
# 2200-01-01 in epoch seconds: nothing stamped later is market data.
LATEST_EPOCH = 7_258_118_400


class YahooProvider:
    """Bars from Yahoo's chart API.

    Parameters
    ----------
    base_url
        Defaults to ``$COMOVE_YAHOO_URL`` or Yahoo's own host.
    transport
        An ``httpx`` transport (tests); ``None`` for the network.
    policy
        Retry policy; ``min_interval`` spaces requests (seconds).
    """

    name = "yahoo"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        min_interval: float = 0.5,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = (base_url or env_url(ENV_URL, DEFAULT_URL)).rstrip("/")
        self.http = HttpClient(
            "yahoo",
            policy=policy,
            min_interval=min_interval,
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def fetch_bars(
        self,
        symbol: str,
        interval: str = "1d",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> pd.DataFrame:
        import pandas as pd

        check_interval("yahoo", interval)
        source = f"yahoo:{symbol}"
        now = now_utc()
        begin = utc_naive_or_none(start)
        finish = utc_naive_or_none(end)
        if begin is None:
            begin = (
                now - pd.Timedelta(days=HOURLY_DAYS)
                if interval == "1h"
                else pd.Timestamp(EPOCH_START)
            )
        if interval == "1h":
            begin = max(begin, now - pd.Timedelta(days=HOURLY_DAYS))
        stop = (
            now
            if finish is None
            else min(finish + pd.Timedelta(days=1), now + pd.Timedelta(days=1))
        )
        if begin > stop:
            return empty_bars(source, interval)
        params = {
            "period1": int(begin.timestamp()),
            "period2": int(stop.timestamp()),
            "interval": interval,
            "events": "div,splits",
            "includePrePost": "false",
        }
        url = f"{self.base_url}/v8/finance/chart/{quote(symbol, safe='')}"
        raw = self.http.get(url, params, parse=lambda r: _parse_chart(r, symbol, interval))
        bars = to_bars(raw, source, interval, start=start, end=end, now=now)
        if progress is not None and len(bars):
            progress(bars.index[-1], len(bars))
        return bars


def _parse_chart(response: httpx.Response, symbol: str, interval: str) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    host = host_of(str(response.url))
    try:
        payload: Any = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise Transient(
            "malformed", f"{host} sent a reply that is not JSON (HTTP {response.status_code})"
        ) from None
    chart = payload.get("chart") if isinstance(payload, dict) else None
    if not isinstance(chart, dict):
        raise Transient("malformed", f"{host} sent JSON without a 'chart' object")
    error = chart.get("error")
    if error or response.status_code == 404:
        description = ""
        if isinstance(error, dict):
            description = str(error.get("description") or error.get("code") or "")
        if (
            response.status_code == 404
            or "not found" in description.lower()
            or "delisted" in description.lower()
        ):
            raise SymbolNotFound(f"yahoo: unknown symbol {symbol!r} ({description or 'not found'})")
        raise ProviderError(f"yahoo: {symbol}: {description or 'error'}")
    if response.status_code >= 400:
        raise ProviderError(f"yahoo: {host} answered HTTP {response.status_code}")
    results = chart.get("result")
    if not results:
        raise SymbolNotFound(f"yahoo: unknown symbol {symbol!r} (no result)")
    result = results[0] if isinstance(results, list) else None
    if not isinstance(result, dict):
        raise Transient("malformed", f"{host} sent a chart whose result cannot be read")
    meta = result.get("meta", {})
    stamps = result.get("timestamp") or []
    if not isinstance(meta, dict) or not isinstance(stamps, list):
        raise Transient("malformed", f"{host} sent a chart whose result cannot be read")
    if not stamps:
        return pd.DataFrame()
    if not all(type(t) is int and 0 <= t < LATEST_EPOCH for t in stamps):
        raise Transient(
            "malformed", f"{host} sent timestamps that are not epoch seconds before 2200"
        )
    steps = np.diff(np.asarray(stamps, dtype="int64"))
    # Only the last bar may repeat (Yahoo's live bar, stamped apart from the session).
    if len(steps) and (bool((steps[:-1] <= 0).any()) or steps[-1] < 0):
        raise Transient("malformed", f"{host} sent timestamps that repeat or go backwards")
    try:
        indicators = result.get("indicators") or {}
        quote_block = (indicators.get("quote") or [{}])[0]
        adj_block = indicators.get("adjclose") or []
        columns: dict[str, Any] = {}
        for field in ("open", "high", "low", "close", "volume"):
            values = quote_block.get(field)
            columns[field] = values if values is not None else [None] * len(stamps)
        if adj_block and adj_block[0].get("adjclose") is not None:
            columns["adj_close"] = adj_block[0]["adjclose"]
        for values in columns.values():
            if not isinstance(values, list) or any(
                v is not None and type(v) not in (int, float) for v in values
            ):
                raise ValueError("quote values that are not numbers")
        frame = pd.DataFrame({k: np.asarray(v, dtype="float64") for k, v in columns.items()})
        if len(frame) != len(stamps):
            raise ValueError("timestamp and quote lengths differ")
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise Transient("malformed", f"{host} sent a chart that cannot be read ({exc})") from None
    when = pd.to_datetime(np.asarray(stamps, dtype="int64"), unit="s", utc=True)
    if interval == "1d":
        zone = str(meta.get("exchangeTimezoneName") or "UTC")
        try:
            local = when.tz_convert(zone)
        except (KeyError, ValueError):
            local = when
        # The session's own date, whatever time of day Yahoo stamps it with.
        dates = pd.DatetimeIndex(local.tz_localize(None)).normalize()
    else:
        dates = pd.DatetimeIndex(when.tz_localize(None))
    repeated = np.flatnonzero(dates.duplicated(keep="last"))
    if len(repeated) and (len(repeated) > 1 or repeated[0] != len(dates) - 2):
        raise Transient("malformed", f"{host} sent two bars for the same session")
    frame.insert(0, "date", dates)
    # Yahoo repeats the live bar (same date) at the end of daily series; keep the later.
    frame = frame.drop_duplicates(subset="date", keep="last")
    if "adj_close" in frame and "close" in frame:
        frame = frame.rename(columns={"adj_close": "Adj Close"})
    frame = frame[frame["close"].notna().to_numpy()].reset_index(drop=True)
    return frame
