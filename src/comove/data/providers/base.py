"""What every provider shares: the protocol, retries, rate limits, error mapping, bars.

Source strings are parsed in :mod:`comove.data.sources`.

Failures are mapped at this boundary: whatever the transport raised, callers see a
:class:`~comove.errors.ProviderError` (``RateLimited`` for 429s, ``SymbolNotFound`` for an
unknown symbol) with one line that never contains an API key. Transient failures (timeouts,
5xx, 429, truncated or malformed replies) are retried by :class:`RetryPolicy` with
exponential backoff and jitter, honouring ``Retry-After``, within a total time budget; when
the host cannot be reached at all (name resolution fails, connection refused) the policy
gives up after a couple of quick retries so an offline user hears about it in seconds, and
once one host was found unreachable in a run (:class:`NetworkState`, one per run, shared
by that run's providers) every other gives up at its first such failure.
"""

from __future__ import annotations

import email.utils
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

from comove._secrets import protect, redact
from comove._text import clip
from comove._time import interval_step, now_utc, utc_naive, utc_naive_or_none
from comove.errors import ConfigError, DataError, ProviderError, RateLimited

if TYPE_CHECKING:
    from datetime import date
    from typing import TypeAlias

    import httpx
    import pandas as pd
    from tenacity import RetryCallState

    TimeLike: TypeAlias = pd.Timestamp | datetime | date | str
    """A date or time: a Timestamp, a datetime/date, or ISO text (tz-naive means UTC)."""

T = TypeVar("T")

INTERVALS = ("1d", "1h")
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36 comove"
)

ProgressCallback = Callable[["pd.Timestamp", int], None]
"""Called after each page of a backfill with the last bar time and the rows so far."""


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class Provider(Protocol):
    """A source of bars (and, for macro providers, of series)."""

    name: str

    def fetch_bars(
        self,
        symbol: str,
        interval: str = "1d",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> pd.DataFrame:
        """Validated bars (see :mod:`comove.data.bars`) from ``start`` to ``end`` inclusive.

        The last bar may still be trading (today's bar); ``attrs["live_bar"]`` names it.
        An empty range gives an empty bars frame, an unknown symbol ``SymbolNotFound``.
        """
        ...


@runtime_checkable
class SeriesProvider(Protocol):
    """A source of macro series (``fred``)."""

    name: str

    def fetch_series(
        self,
        series_id: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> pd.Series:
        """Float64 values on a ``date`` index, ``attrs["units"]`` set; gaps dropped."""
        ...


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


# --------------------------------------------------------------------------- transient failures


class Transient(Exception):
    """A failure worth retrying; mapped to a ``ProviderError`` when retries are spent.

    ``kind`` is ``unreachable`` (no route to the host at all), ``rate`` (429), ``http``
    (5xx), ``timeout`` or ``malformed`` (truncated or unparsable reply).
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        host: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.host = host
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    clock = now or datetime.now(UTC)
    return max(0.0, (when - clock).total_seconds())


_UNREACHABLE_HINTS = (
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "no address associated",
    "getaddrinfo failed",
    "name resolution",
    "connection refused",
    "network is unreachable",
    "no route to host",
    "failed to resolve",
    "errno 111",
    "errno -2",
    "errno -3",
    "errno -5",
)


def is_unreachable(exc: BaseException) -> bool:
    """True when an exception chain says the host cannot be reached at all."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror | ConnectionRefusedError):
            return True
        text = str(current).lower()
        if any(hint in text for hint in _UNREACHABLE_HINTS):
            return True
        nested = current.__cause__ or current.__context__
        if nested is None and current.args and isinstance(current.args[0], BaseException):
            nested = current.args[0]
        current = nested
    return False


def short_reason(exc: BaseException) -> str:
    """The innermost readable reason of an exception chain, one line."""
    reason = ""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).strip()
        if text:
            reason = text
        current = current.__cause__ or current.__context__
    reason = reason.splitlines()[0] if reason else type(exc).__name__
    for hint in _UNREACHABLE_HINTS:
        if hint in reason.lower():
            return hint
    return clip(reason, 160)


# --------------------------------------------------------------------------- retry policy


class NetworkState:
    """Hosts found unreachable during one run: once one is, retrying others is pointless.

    After a first give-up for lack of network, later unreachable failures (any host) get
    one attempt and no retries, so ``comove fetch`` of a dozen sources offline still ends
    in seconds. One state per run (a command, a watch cycle), passed to its providers
    through :func:`comove.data.providers.get_provider`; a new run starts with a clean one.
    """

    def __init__(self) -> None:
        self.down: set[str] = set()
        self._lock = threading.Lock()

    def mark_down(self, host: str) -> None:
        with self._lock:
            self.down.add(host)

    def seen_down(self) -> bool:
        return bool(self.down)


def _no_jitter(a: float, b: float) -> float:
    return b


def _no_sleep(seconds: float) -> None:
    return None


@dataclass
class RetryPolicy:
    """How hard to try: exponential backoff with jitter, ``Retry-After``, a total budget.

    Parameters
    ----------
    attempts
        Tries in all for transient failures (timeouts, 5xx, 429, malformed replies).
    unreachable_attempts
        Tries in all when the host cannot be reached at all: a couple, quickly.
    base_delay, max_delay
        Backoff: ``base_delay * 2**n`` capped at ``max_delay``, each with full jitter
        between half and all of it.
    budget
        Total seconds a call may take: no retry starts unless the time spent, the wait before
        it and a whole ``request_timeout`` still fit.
    request_timeout
        The longest one attempt may take (the HTTP client's timeout; set by it).
    sleep
        Injected in tests to keep the suite fast; receives every wait.
    network
        The run's record of unreachable hosts (shared by the providers of one run).
    """

    attempts: int = 5
    unreachable_attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    unreachable_delay: float = 1.0
    budget: float = 120.0
    request_timeout: float = 0.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = random.uniform
    waits: list[float] = field(default_factory=list)
    network: NetworkState = field(default_factory=NetworkState)

    @classmethod
    def fast(cls, **changes: Any) -> RetryPolicy:
        """A policy for tests: same shape, waits recorded but not slept."""
        values: dict[str, Any] = {
            "base_delay": 0.001,
            "max_delay": 0.01,
            "unreachable_delay": 0.001,
            "budget": 60.0,
            "sleep": _no_sleep,
            "jitter": _no_jitter,
        }
        values.update(changes)
        return cls(**values)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        n = max(state.attempt_number - 1, 0)
        if isinstance(exc, Transient) and exc.kind == "unreachable":
            return self.unreachable_delay * (2**n)
        backoff = min(self.max_delay, self.base_delay * (2**n))
        delay = self.jitter(backoff / 2, backoff)
        if isinstance(exc, Transient) and exc.retry_after is not None:
            # The server said when: never earlier than that.
            delay = max(delay, exc.retry_after)
        return delay

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome is not None else None
        limit = self.attempts
        if isinstance(exc, Transient) and exc.kind == "unreachable":
            limit = 1 if self.network.seen_down() else self.unreachable_attempts
        if state.attempt_number >= limit:
            return True
        spent = (state.seconds_since_start or 0.0) + state.upcoming_sleep
        return spent + self.request_timeout > self.budget

    def call(self, func: Callable[[], T]) -> T:
        """Run ``func``, retrying :class:`Transient` failures; re-raise the last one."""
        from tenacity import Retrying, retry_if_exception_type

        def record_sleep(seconds: float) -> None:
            self.waits.append(seconds)
            self.sleep(seconds)

        retrying = Retrying(
            retry=retry_if_exception_type(Transient),
            wait=self._wait,
            stop=self._stop,
            sleep=record_sleep,
            reraise=True,
        )
        return retrying(func)


def give_up(
    provider: str, exc: Transient, attempts: int | None = None, network: NetworkState | None = None
) -> ProviderError:
    """The one-line error for a transient failure whose retries are spent."""
    tries = f" after {attempts} attempts" if attempts and attempts > 1 else ""
    if exc.kind == "unreachable":
        if network is not None:
            network.mark_down(exc.host)
        return ProviderError(f"cannot reach {exc.host}: no network? ({exc.message})")
    if exc.kind == "rate":
        wait = f"; it asks to wait {exc.retry_after:.0f}s" if exc.retry_after else ""
        return RateLimited(f"{provider}: {exc.host} is rate limiting us (HTTP 429){tries}{wait}")
    if exc.kind == "timeout":
        return ProviderError(f"{provider}: {exc.host} did not answer in time{tries}")
    if exc.kind == "http":
        return ProviderError(f"{provider}: {exc.host} answered HTTP {exc.status}{tries}")
    return ProviderError(f"{provider}: {exc.message}{tries}")


def with_retries(provider: str, policy: RetryPolicy, func: Callable[[], T]) -> T:
    """Run ``func`` under ``policy``; map spent retries to one ``ProviderError`` line."""
    start = len(policy.waits)
    try:
        return policy.call(func)
    except Transient as exc:
        raise give_up(provider, exc, len(policy.waits) - start + 1, policy.network) from None


# --------------------------------------------------------------------------- rate limiting


class RateLimiter:
    """At most one request per ``min_interval`` seconds, shared by a provider's threads."""

    def __init__(
        self,
        min_interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_interval = max(0.0, float(min_interval))
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for the next slot; return the seconds waited."""
        with self._lock:
            now = self._clock()
            wait = max(0.0, self._next - now)
            self._next = max(now, self._next) + self.min_interval
        if wait > 0:
            self._sleep(wait)
        return wait


# --------------------------------------------------------------------------- HTTP


class HttpClient:
    """httpx with retries, a rate limit and error mapping; one per provider.

    ``transport`` (an ``httpx.BaseTransport``) and the base URL of each provider are
    injectable, so tests replay recorded payloads and faults without the network.
    """

    def __init__(
        self,
        provider: str,
        *,
        policy: RetryPolicy | None = None,
        min_interval: float = 0.0,
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
        secrets: Iterable[str | None] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        import httpx

        self.provider = provider
        self.policy = policy or RetryPolicy()
        # A retry must leave room for a whole request within the policy's budget.
        self.policy.request_timeout = max(self.policy.request_timeout, timeout)
        self.limiter = RateLimiter(min_interval)
        self.secrets = tuple(s for s in secrets if s)
        # The HTTP libraries log each URL (a key in its query): scrub them from here on.
        protect(self.secrets)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def get(
        self,
        url: str,
        params: dict[str, Any] | None = None,
        *,
        parse: Callable[[httpx.Response], T],
    ) -> T:
        """GET ``url`` and ``parse`` the reply, retrying transient failures.

        ``parse`` sees every reply whose status is not retryable (2xx and 4xx other than
        429) and raises ``Transient("malformed", ...)`` for a body it cannot read, or a
        ``ProviderError`` (``SymbolNotFound``) for a definite answer.
        """
        return with_retries(self.provider, self.policy, lambda: self._once(url, params, parse))

    def _once(
        self,
        url: str,
        params: dict[str, Any] | None,
        parse: Callable[[httpx.Response], T],
    ) -> T:
        import httpx

        host = host_of(url)
        self.limiter.acquire()
        try:
            response = self._client.get(url, params=params)
            response.read()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if isinstance(exc, httpx.ConnectError) or is_unreachable(exc):
                raise Transient(
                    "unreachable", redact(short_reason(exc), self.secrets), host=host
                ) from None
            raise Transient("unreachable", "connection timed out", host=host) from None
        except httpx.TimeoutException:
            raise Transient("timeout", f"{host} did not answer in time", host=host) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            reason = redact(short_reason(exc), self.secrets)
            raise Transient(
                "malformed", f"truncated reply from {host} ({reason})", host=host
            ) from None
        except httpx.HTTPError as exc:
            reason = redact(short_reason(exc), self.secrets)
            raise Transient("malformed", f"{host}: {reason}", host=host) from None
        status = response.status_code
        if status == 429:
            raise Transient(
                "rate",
                f"{host} answered HTTP 429",
                host=host,
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 500 or status == 408:
            raise Transient(
                "http",
                f"{host} answered HTTP {status}",
                host=host,
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        return parse(response)


def env_url(name: str, default: str) -> str:
    """A base URL from the environment (``COMOVE_YAHOO_URL`` ...), without a trailing slash."""
    import os

    return (os.environ.get(name) or default).rstrip("/")


# --------------------------------------------------------------------------- bars


def empty_bars(source: str, interval: str) -> pd.DataFrame:
    """A bars frame with no rows (an empty date range is not an error)."""
    import pandas as pd

    from comove.data.bars import BAR_COLUMNS

    frame = pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in BAR_COLUMNS},
        index=pd.DatetimeIndex([], name="date").as_unit("ns"),
    )
    frame.attrs = {
        "name": source,
        "source": source,
        "price_column": "close",
        "interval": interval,
        "is_24_7": False,
        "dropped_incomplete": None,
        "live_bar": None,
    }
    return frame


def to_bars(
    raw: pd.DataFrame,
    source: str,
    interval: str,
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    now: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Validate provider rows (``date`` tz-naive UTC + OHLCV) as bars, keep ``start..end``.

    The still-trading last bar is kept (the store re-fetches it until it closes) and
    named in ``attrs["live_bar"]``.
    """
    import numpy as np
    import pandas as pd

    from comove.data.bars import normalise_bars

    if raw.empty:
        return empty_bars(source, interval)
    stamps = pd.DatetimeIndex(pd.to_datetime(raw["date"]))
    if interval == "1d":
        stamps = stamps.normalize()
    keep = np.ones(len(raw), dtype=bool)
    begin = utc_naive_or_none(start)
    finish = utc_naive_or_none(end)
    if begin is not None:
        keep &= np.asarray(stamps >= (begin.normalize() if interval == "1d" else begin.floor("h")))
    if finish is not None:
        keep &= np.asarray(stamps <= finish)
    raw = raw[keep]
    if raw.empty:
        return empty_bars(source, interval)
    original = pd.DatetimeIndex(pd.to_datetime(raw["date"])).sort_values()
    try:
        bars = normalise_bars(raw, source, drop_incomplete=False, now=now)
    except DataError as exc:
        # A reply with a non-finite price, an inverted bar, ...: the provider's fault, not
        # the user's; the store is not touched and a chain falls back as for an outage.
        raise ProviderError(f"malformed reply: {exc}") from None
    if interval != "1d" and len(bars) == 1:
        # One intraday bar cannot show its own spacing; keep its real time.
        bars.index = pd.DatetimeIndex(original, name="date").as_unit("ns")
    bars.attrs["interval"] = interval
    bars.attrs["name"] = source
    clock = now_utc() if now is None else utc_naive(now)
    last = bars.index[-1]
    bars.attrs["live_bar"] = last if last + interval_step(interval) > clock else None
    return bars


def check_interval(provider: str, interval: str) -> None:
    if interval not in INTERVALS:
        raise ConfigError(
            f"{provider}: interval {interval!r} is not supported (use {' or '.join(INTERVALS)})"
        )
