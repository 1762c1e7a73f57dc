"""Keeping secrets out of everything shown: one redaction function, one logging filter.

Secrets (API keys, webhook URLs, SMTP passwords) are registered once, when settings are
loaded (:func:`protect`); :func:`redact` then removes them, and ``key=...`` query values,
from any text before it is printed, logged, stored or served. A webhook URL is a secret
whole *and* in parts: a receiver that echoes its path (``Cannot POST
/services/T0001/B0001/XyZ...``) must not leak it, so the path, the query and each
token-like part after the host are redacted too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

MASK = "***"
_SECRET_PARAMS = re.compile(
    r"(?i)((?:api_key|apikey|api-key|key|token|secret|password|passwd|sig|signature)=)[^&\s'\"]+"
)
_TOKEN_LIKE = re.compile(r"(?=.*[\dA-Z_-]).{4,}|.{16,}")
_LOGGERS = ("httpx", "httpcore", "ccxt", "urllib3", "comove")


def secret_fragments(secret: str) -> list[str]:
    """The texts that give ``secret`` away: itself and, for a URL, what follows the host."""
    found = [secret]
    parts = urlsplit(secret)
    if parts.scheme and parts.netloc:
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        found += [tail, parts.path, parts.query, parts.path.lstrip("/")]
        pieces = [p for p in parts.path.split("/") if p]
        pieces += [value for item in parts.query.split("&") for value in item.split("=")[1:]]
        found += [piece for piece in pieces if _TOKEN_LIKE.fullmatch(piece)]
        if parts.password:
            found.append(parts.password)
    found += [quote(text, safe="") for text in found] + [unquote(text) for text in found]
    # Longest first, so a whole URL is masked before its parts.
    return sorted({text for text in found if len(text) >= 4}, key=len, reverse=True)


class Redactor(logging.Filter):
    """The registry of known secrets, and the filter that scrubs them from log records."""

    def __init__(self) -> None:
        super().__init__()
        self._fragments: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str | None]) -> None:
        with self._lock:
            for secret in secrets:
                if isinstance(secret, str) and secret:
                    self._fragments.update(secret_fragments(secret))

    def clean(self, text: str, extra: Iterable[str | None] = ()) -> str:
        fragments = set(self._fragments)
        for secret in extra:
            if isinstance(secret, str) and secret:
                fragments.update(secret_fragments(secret))
        cleaned = _SECRET_PARAMS.sub(rf"\1{MASK}", text)
        for fragment in sorted(fragments, key=len, reverse=True):
            cleaned = cleaned.replace(fragment, MASK)
        return cleaned

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


REDACTOR = Redactor()


def protect(secrets: Iterable[str | None]) -> None:
    """Register secrets for every later :func:`redact`, and scrub the HTTP libraries' logs."""
    REDACTOR.add(secrets)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if REDACTOR not in logger.filters:
            logger.addFilter(REDACTOR)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without any registered secret, any of ``secrets``, or ``key=...`` values."""
    return REDACTOR.clean(str(text), secrets)
