"""Short text for one-line messages: clipped at a word boundary, cells quoted briefly."""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters, cut at a word boundary."""
    line = " ".join(str(text).split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + ELLIPSIS


def quoted(value: object, limit: int = 80) -> str:
    """A cell as ``repr`` for a message, never more than about ``limit`` characters."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"{ELLIPSIS} ({len(text):,} characters)"
