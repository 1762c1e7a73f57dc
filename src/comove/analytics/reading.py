"""The latest reading in plain words: how strong the link is, how sure, and the momentum."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from comove._json import day, jsonable

STRENGTH_LEVELS = ((0.8, "very strong"), (0.6, "strong"), (0.4, "moderate"), (0.2, "weak"))


def strength(r: float) -> str:
    """Words for the size of a correlation (sign said separately)."""
    if math.isnan(r):
        return "not yet defined"
    size = abs(r)
    word = next((label for level, label in STRENGTH_LEVELS if size >= level), "negligible")
    if word == "negligible":
        return word
    return f"{word} {'positive' if r > 0 else 'negative'}"


def certainty(lo: float, hi: float) -> str:
    """What the confidence band says about the correlation."""
    if math.isnan(lo) or math.isnan(hi):
        return "no interval yet"
    if lo > 0:
        return "clearly positive (the whole band is above zero)"
    if hi < 0:
        return "clearly negative (the whole band is below zero)"
    return "not distinguishable from no link (the band includes zero)"


@dataclass(frozen=True)
class WindowReading:
    window: int
    corr: float
    lo: float
    hi: float
    beta: float
    strength: str
    certainty: str


@dataclass(frozen=True)
class MomentumReading:
    asset: str
    rsi: float
    rsi_zone: str
    macd_hist: float
    macd_state: str


@dataclass(frozen=True)
class Reading:
    """The latest row of an analysis table, summarised for a person."""

    date: pd.Timestamp
    windows: tuple[WindowReading, ...]
    momentum: tuple[MomentumReading, ...]
    first_date: pd.Timestamp
    sessions: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": day(self.date),
            "first_date": day(self.first_date),
            "sessions": self.sessions,
            "headline": self.headline(),
            "windows": [jsonable(asdict(w)) for w in self.windows],
            "momentum": [jsonable(asdict(m)) for m in self.momentum],
        }

    def headline(self) -> str:
        defined = [w for w in self.windows if not math.isnan(w.corr)]
        if not defined:
            return "Not enough aligned sessions yet for a rolling correlation."
        main = defined[len(defined) // 2]
        band = "" if math.isnan(main.lo) else f" [{main.lo:+.2f}, {main.hi:+.2f}]"
        return f"{main.window}-session correlation {main.corr:+.2f}{band}: {main.strength}, {main.certainty}."


def _rsi_zone(value: float) -> str:
    if math.isnan(value):
        return "not yet defined"
    if value >= 70:
        return "overbought (≥ 70)"
    if value <= 30:
        return "oversold (≤ 30)"
    return "bullish side (> 50)" if value > 50 else "bearish side (≤ 50)"


def _macd_state(hist: float, previous: float) -> str:
    if math.isnan(hist):
        return "not yet defined"
    side = "above" if hist > 0 else "below"
    if math.isnan(previous) or hist == previous:
        return f"MACD {side} its signal"
    trend = "widening" if abs(hist) > abs(previous) else "narrowing"
    return f"MACD {side} its signal, gap {trend}"


def latest_reading(table: pd.DataFrame) -> Reading:
    """Summarise the last row of an analysis table (:func:`comove.analyze`)."""
    last = table.iloc[-1]
    previous = table.iloc[-2] if len(table) > 1 else last
    windows = tuple(
        WindowReading(
            window=w,
            corr=float(last[f"corr_{w}"]),
            lo=float(last[f"corr_{w}_lo"]),
            hi=float(last[f"corr_{w}_hi"]),
            beta=float(last[f"beta_{w}"]),
            strength=strength(float(last[f"corr_{w}"])),
            certainty=certainty(float(last[f"corr_{w}_lo"]), float(last[f"corr_{w}_hi"])),
        )
        for w in table.attrs.get("windows", [])
    )
    momentum = tuple(
        MomentumReading(
            asset=str(table.attrs.get(f"{label}_name", label)),
            rsi=float(last[f"rsi_{label}"]),
            rsi_zone=_rsi_zone(float(last[f"rsi_{label}"])),
            macd_hist=float(last[f"macd_hist_{label}"]),
            macd_state=_macd_state(
                float(last[f"macd_hist_{label}"]), float(previous[f"macd_hist_{label}"])
            ),
        )
        for label in ("crypto", "equity")
    )
    return Reading(
        date=pd.Timestamp(table.index[-1]),
        windows=windows,
        momentum=momentum,
        first_date=pd.Timestamp(table.index[0]),
        sessions=len(table),
    )
