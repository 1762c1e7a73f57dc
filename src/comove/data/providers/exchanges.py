"""``exchange:VENUE:BASE/QUOTE`` — crypto OHLCV from public exchange endpoints through ccxt.

Public market data only (no keys): ``fetch_ohlcv`` with ``since`` pagination until the end
of the range, each exchange's page limit respected (binance 1000, kraken 720, coinbase 300
bars a request). Kraken only serves its most recent 720 bars of any timeframe, so a long
daily or hourly history needs coinbase or binance.

Every host in the exchange's ``urls['api']`` can be rewritten to another base URL
(``COMOVE_EXCHANGE_URL_<VENUE>`` or ``base_url=``), keeping each endpoint's path, so the real
ccxt request building and response parsing run against a local server in tests.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from comove._time import now_utc, utc_naive_or_none
from comove.data.providers.base import (
    ProgressCallback,
    RateLimiter,
    RetryPolicy,
    Transient,
    check_interval,
    empty_bars,
    is_unreachable,
    parse_retry_after,
    short_reason,
    to_bars,
    with_retries,
)
from comove.data.sources import KNOWN_EXCHANGES
from comove.errors import ConfigError, ProviderError, SymbolNotFound

if TYPE_CHECKING:
    import pandas as pd

    from comove.data.providers.base import TimeLike

ENV_PREFIX = "COMOVE_EXCHANGE_URL_"
PAGE_LIMITS = {"binance": 1000, "kraken": 720, "coinbase": 300}
# When nothing is stored yet, ask from here (before any of the default markets listed).
HISTORY_START = "2015-01-01"
# Hourly backfills with nothing stored reach back this far (coinbase pages are 300 hours).
HOURLY_HISTORY_DAYS = 730
# Refusals that will not change on a retry: geo-blocks and forbidden regions.
REFUSED = (403, 451)


def _rewrite(urls: Any, base: str) -> Any:
    """Replace scheme and host of every URL in a (nested) ccxt ``urls['api']`` value."""
    if isinstance(urls, dict):
        return {k: _rewrite(v, base) for k, v in urls.items()}
    if isinstance(urls, str) and urls.startswith(("http://", "https://")):
        parts = urlsplit(urls)
        rest = urls[len(f"{parts.scheme}://{parts.netloc}") :]
        return base.rstrip("/") + rest
    return urls


class ExchangeProvider:
    """OHLCV bars from one exchange's public API via ccxt.

    Parameters
    ----------
    venue
        ccxt exchange id: ``coinbase``, ``kraken``, ``binance`` (any ccxt id works).
    base_url
        Rewrite every API host to this base (tests); default ``$COMOVE_EXCHANGE_URL_<VENUE>``.
    policy
        Retry policy. ``min_interval`` spaces requests; by default the exchange's own
        documented rate limit (ccxt ``rateLimit``).
    page_limit
        Bars per request; by default the exchange's maximum.
    """

    def __init__(
        self,
        venue: str,
        *,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        min_interval: float | None = None,
        timeout: float = 20.0,
        page_limit: int | None = None,
    ) -> None:
        import ccxt

        venue = venue.lower()
        if venue not in ccxt.exchanges:
            raise ConfigError(
                f"exchange {venue!r} is not known to ccxt (e.g. {', '.join(KNOWN_EXCHANGES)})"
            )
        self.venue = venue
        self.name = f"exchange:{venue}"
        self.policy = policy or RetryPolicy()
        exchange_class = getattr(ccxt, venue)
        options: dict[str, Any] = {}
        if venue == "binance":
            # Spot only: futures and options markets are separate requests we never need.
            options = {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}
        self.exchange = exchange_class(
            {
                "enableRateLimit": False,
                "enableLastJsonResponse": True,
                "timeout": int(timeout * 1000),
                "options": options,
            }
        )
        # Currencies only refine precisions; skipping them saves a request per run.
        self.exchange.has["fetchCurrencies"] = False
        override = base_url or os.environ.get(ENV_PREFIX + venue.upper())
        self.base_url = override.rstrip("/") if override else None
        if self.base_url:
            self.exchange.urls["api"] = _rewrite(self.exchange.urls["api"], self.base_url)
        interval = min_interval
        if interval is None:
            interval = max(float(self.exchange.rateLimit or 0) / 1000.0, 0.2)
        self.limiter = RateLimiter(interval)
        self.page_limit = page_limit or PAGE_LIMITS.get(venue, 500)
        # ccxt exceptions carry no status or headers: keep those of the last reply.
        self._last_status: int | None = None
        self._last_headers: dict[str, str] = {}
        self.exchange.session.hooks["response"].append(self._remember)

    def _remember(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self._last_status = int(response.status_code)
        self._last_headers = dict(response.headers)

    def close(self) -> None:
        session = getattr(self.exchange, "session", None)
        if session is not None:
            session.close()

    @property
    def host(self) -> str:
        api = self.exchange.urls.get("api")
        first: Any = api
        while isinstance(first, dict) and first:
            first = next(iter(first.values()))
        return urlsplit(str(first)).netloc or self.venue

    # ------------------------------------------------------------------ requests

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        """One ccxt call under the retry policy, its errors mapped at this boundary."""

        def once() -> Any:
            self.limiter.acquire()
            self._last_status = None
            self.exchange.last_json_response = None
            try:
                result = func(*args, **kwargs)
            except Exception as exc:
                raise self._map(exc, what) from None
            if self._last_status is not None and self.exchange.last_json_response is None:
                # ccxt hands back an unparsable body as text and parses it as "no data".
                raise Transient(
                    "malformed", f"{self.host} sent a reply that is not JSON", host=self.host
                )
            return result

        return with_retries(self.name, self.policy, once)

    def _map(self, exc: Exception, what: str) -> Exception:
        import ccxt

        status = self._last_status
        host = self.host
        if isinstance(exc, ccxt.BadSymbol):
            return SymbolNotFound(f"{self.name}: unknown market {what} ({short_reason(exc)})")
        if status in REFUSED:
            return ProviderError(
                f"{self.name}: {host} refused the request (HTTP {status}; "
                "geo-blocked or forbidden here?)"
            )
        if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded) or status in (429, 418):
            return Transient(
                "rate",
                f"{host} answered HTTP {status or 429}",
                host=host,
                status=status or 429,
                retry_after=parse_retry_after(self._last_headers.get("Retry-After")),
            )
        if isinstance(exc, ccxt.RequestTimeout):
            return Transient("timeout", f"{host} did not answer in time", host=host)
        if status is None and isinstance(exc, ccxt.NetworkError) and is_unreachable(exc):
            return Transient("unreachable", short_reason(exc), host=host)
        if status is not None and status >= 500:
            return Transient(
                "http",
                f"{host} answered HTTP {status}",
                host=host,
                status=status,
                retry_after=parse_retry_after(self._last_headers.get("Retry-After")),
            )
        if isinstance(exc, ccxt.NetworkError):
            return Transient(
                "malformed", f"broken reply from {host} ({short_reason(exc)})", host=host
            )
        if isinstance(exc, ccxt.BaseError):
            if status is not None and 200 <= status < 300:
                # ccxt could not make sense of a 200: a truncated or malformed body.
                return Transient("malformed", f"{host} sent a reply that cannot be read", host=host)
            return ProviderError(f"{self.name}: {short_reason(exc)}")
        if isinstance(exc, TypeError | ValueError | KeyError | IndexError | AttributeError):
            return Transient("malformed", f"{host} sent a reply that cannot be read", host=host)
        return exc

    def _market(self, symbol: str) -> None:
        if not self.exchange.markets:
            self._call("markets", self.exchange.load_markets)
        if symbol not in self.exchange.markets:
            known = [
                s for s in self.exchange.symbols or [] if s.split("/")[0] == symbol.split("/")[0]
            ]
            hint = f"; try {', '.join(sorted(known)[:4])}" if known else ""
            raise SymbolNotFound(f"{self.name}: unknown market {symbol!r}{hint}")

    # ------------------------------------------------------------------ bars

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

        check_interval(self.name, interval)
        source = f"{self.name}:{symbol}"
        self._market(symbol)
        now = now_utc()
        begin = utc_naive_or_none(start)
        if begin is None:
            begin = (
                pd.Timestamp(HISTORY_START)
                if interval == "1d"
                else now - pd.Timedelta(days=HOURLY_HISTORY_DAYS)
            )
        begin = begin.normalize() if interval == "1d" else begin.floor("h")
        finish = utc_naive_or_none(end)
        stop = now if finish is None else min(finish, now)
        if begin > stop:
            return empty_bars(source, interval)
        step_ms = int(self.exchange.parse_timeframe(interval) * 1000)
        since = int(begin.timestamp() * 1000)
        stop_ms = int(stop.timestamp() * 1000)
        # Windowed APIs (coinbase) answer [since, since + limit) and may be empty early on;
        # the others answer "from since onward", so an empty page is the end.
        windowed = self.venue.startswith("coinbase")
        rows: dict[int, list[float]] = {}
        while since <= stop_ms:
            page = self._call(
                repr(symbol),
                self.exchange.fetch_ohlcv,
                symbol,
                interval,
                since=since,
                limit=self.page_limit,
            )
            if not isinstance(page, list):
                raise give_up_malformed(self)
            previous = -1
            for candle in page:
                try:
                    stamp, values = _candle(candle)
                except (TypeError, ValueError, IndexError):
                    raise give_up_malformed(self) from None
                if stamp <= previous:
                    raise give_up_malformed(self)  # repeated or out of order in one page
                rows[stamp] = values
                previous = stamp
            last = max((int(c[0]) for c in page), default=None)
            if last is None or last < since:
                if not windowed:
                    break
                since += self.page_limit * step_ms
                continue
            if progress is not None:
                progress(pd.Timestamp(last, unit="ms"), len(rows))
            since = last + step_ms
        if not rows:
            return empty_bars(source, interval)
        stamps = sorted(rows)
        raw = pd.DataFrame(
            [rows[t] for t in stamps], columns=["open", "high", "low", "close", "volume"]
        )
        raw.insert(0, "date", pd.to_datetime(stamps, unit="ms"))
        return to_bars(raw, source, interval, start=start, end=end, now=now)


# 2200-01-01 in epoch milliseconds: nothing stamped later is market data.
LATEST_MS = 7_258_118_400_000


def _candle(candle: Any) -> tuple[int, list[float]]:
    """``[time_ms, open, high, low, close, volume]`` checked: whole milliseconds before 2200,
    numbers (or ``None``) after."""
    if not isinstance(candle, list | tuple) or len(candle) < 6:
        raise ValueError("not a candle")
    stamp = candle[0]
    if type(stamp) is not int or not 0 <= stamp < LATEST_MS:
        raise ValueError("not an epoch time in milliseconds")
    values = []
    for value in candle[1:6]:
        if value is not None and type(value) not in (int, float):
            raise ValueError("not a number")
        values.append(float("nan") if value is None else float(value))
    return stamp, values


def give_up_malformed(provider: ExchangeProvider) -> ProviderError:
    return ProviderError(f"{provider.name}: {provider.host} sent candles that cannot be read")
