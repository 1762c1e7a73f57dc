"""Signals: named conditions → checklist → state, with hysteresis and no look-ahead.

Every signal is a conjunction of *required* conditions. A condition compares one number of
the analysis table with a threshold and has three states: pass, fail, or unknown when its
input is missing (NaN: warm-up, or no macro data). Each condition has an *enter* level and an
*exit* level (e.g. correlation passes once it reaches 0.5 and keeps passing until it drops
below 0.45), so a value hovering around the threshold does not flip it every session.

A signal is

- **on** when every required condition passes,
- **off** when every required condition is known and at least one fails,
- **unknown** ("cannot be confirmed") when any required condition is unknown — never
  silently on or off.

On top of that a signal keeps a state between ``on`` and ``off`` for at least
``SignalConfig.min_duration`` sessions before it may change again. Moving to ``unknown`` (data
missing) is immediate: without data nothing is claimed.

The signals (defaults of :class:`SignalConfig`):

``synchronized_breakout``
    60-session correlation ≥ 0.5 (exit < 0.45) and its lower 95% Fisher band > 0.3 (exit
    ≤ 0.25); RSI improving on both assets: above its value 5 sessions ago and above 50 (exit
    ≤ 48); relative volume > 1 on both (exit ≤ 0.9); ``liquidity_score`` > 0 (exit ≤ −0.1);
    both closes at their 20-session high (exit: more than 3% below it).
``risk_off_alignment``
    60-session correlation ≥ 0.5 (exit < 0.45) and small-cap weakness: the equity index below
    its 50-session mean (exit: 1% above it) with a negative MACD histogram, *or* breadth
    falling (``breadth`` lower than 20 sessions before). The "or" is three-valued: weakness
    holds as soon as one branch holds, even when the other lacks data (no S&P 500 → breadth
    unknown), and is unknown only when no branch holds and one is unknown.
``decoupling``
    30-session correlation < 0.2 (exit ≥ 0.25) while the 90-session correlation *was* ≥ 0.5,
    meaning at some session within the last ``decoupling_lookback`` = 60 sessions (the
    current one included). After that, a low correlation is the new regime, not a
    decoupling. Large crypto moves on days the index barely moved (|crypto return| > 2σ and
    |equity return| < 0.5σ, σ the standard deviation of the 60 sessions *before*) are
    flagged in ``SignalResult.crypto_only_moves`` (the report and the claims check count
    them); they are not required for the state.
``stance``
    The macro overlay for ETH exposure, decided from the three signals on each session:
    NaN (unknown) while ``decoupling`` is unknown (the correlation windows are warming up);
    **neutral** (0.5) when ``decoupling`` is on, because the macro overlay is then not
    trusted; else **reduce** (0.0) when ``risk_off_alignment`` is on; else **bullish** (1.0)
    when ``synchronized_breakout`` is on and ``risk_off_alignment`` is off; else **neutral**.
    A signal that cannot be confirmed counts as not on: leaving neutral needs a confirmed
    signal. Without macro data ``synchronized_breakout`` is unknown, so the stance is then
    neutral or reduce, never bullish.

Everything at session t uses the table up to t only: rolling windows end at t, the
hysteresis and duration rules run forward in time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from comove._json import day, finite
from comove.analytics.correlation import fisher_ci, rolling_corr
from comove.config import SignalConfig
from comove.errors import DataError
from comove.signals.logic import (
    Comparison,
    hold,
    hysteresis,
    kleene_and,
    kleene_or,
    strict_and,
)

SIGNALS = ("synchronized_breakout", "risk_off_alignment", "decoupling")
#: The analysis table's signal columns: each signal's state, then the stance.
SIGNAL_COLUMNS = (*(f"signal_{name}" for name in SIGNALS), "stance")
SIGNAL_LABELS = {
    "synchronized_breakout": "Synchronized breakout",
    "risk_off_alignment": "Risk-off alignment",
    "decoupling": "Decoupling",
    "stance": "Stance (ETH exposure)",
}
STANCE_WORDS = {1.0: "bullish", 0.5: "neutral", 0.0: "reduce"}
STATE_WORDS = {1.0: "on", 0.0: "off"}

Status = Literal["pass", "fail", "unknown"]


@dataclass(frozen=True)
class Condition:
    """One named comparison, evaluated on every session with hysteresis."""

    name: str
    label: str
    comparison: Comparison
    enter: float
    exit: float
    required: bool = True


@dataclass(frozen=True)
class ConditionCheck:
    """A condition on one session, as the checklist shows it."""

    name: str
    label: str
    value: float
    threshold: float
    exit: float
    comparison: str
    status: Status
    since: pd.Timestamp | None
    required: bool

    @property
    def threshold_text(self) -> str:
        if math.isnan(self.threshold):
            return self.comparison
        text = f"{self.comparison} {_num(self.threshold)}"
        if self.exit != self.threshold:
            text += f" (exit {_exit_word(self.comparison)} {_num(self.exit)})"
        return text

    @property
    def mark(self) -> str:
        return {"pass": "✓", "fail": "✗", "unknown": "?"}[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "value": finite(self.value),
            "comparison": self.comparison,
            "threshold": finite(self.threshold),
            "exit": finite(self.exit),
            "status": self.status,
            "required": self.required,
            "since": day(self.since),
        }


@dataclass(frozen=True)
class SignalCheck:
    """A signal (or the stance) on one session: its state, since when, and its conditions."""

    name: str
    label: str
    date: pd.Timestamp
    state: str
    since: pd.Timestamp | None
    conditions: list[ConditionCheck]
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.name,
            "label": self.label,
            "date": day(self.date),
            "state": self.state,
            "since": day(self.since),
            "summary": self.summary,
            "conditions": [c.to_dict() for c in self.conditions],
        }


@dataclass(frozen=True, eq=False)
class SignalResult:
    """The signals over the whole table.

    ``columns``: index = table index, float64 columns ``signal_<name>`` (1.0 on, 0.0 off, NaN
    unknown) and ``stance`` (1.0 bullish, 0.5 neutral, 0.0 reduce, NaN unknown).
    ``conditions``: the status of every condition (1.0 pass, 0.0 fail, NaN unknown), columns
    ``<signal>.<condition>``; ``values``: the number each compares. ``crypto_only_moves``:
    1.0 on a session with a large crypto move while the index barely moved.
    ``history``: state changes with columns ``date, signal, from, to``.
    """

    columns: pd.DataFrame
    conditions: pd.DataFrame
    values: pd.DataFrame
    crypto_only_moves: pd.Series
    history: pd.DataFrame
    config: SignalConfig
    specs: dict[str, list[Condition]] = field(default_factory=dict)

    def checklist(self, date: str | pd.Timestamp | None = None) -> list[SignalCheck]:
        """Every signal and the stance on ``date`` (default: the latest session)."""
        return _checklist(self, date)

    def history_records(self, *, newest_first: bool = False) -> list[dict[str, Any]]:
        """The state changes as ``{"date", "signal", "from", "to"}`` dicts."""
        rows = self.history.iloc[::-1] if newest_first else self.history
        return [
            {"date": day(date), "signal": str(signal), "from": str(old), "to": str(new)}
            for date, signal, old, new in rows[["date", "signal", "from", "to"]].itertuples(
                index=False
            )
        ]

    def to_dict(self, date: str | pd.Timestamp | None = None) -> dict[str, Any]:
        """The checklist on ``date`` (default: the latest session) and the state changes."""
        checks = self.checklist(date)
        return {
            "date": day(checks[0].date) if checks else None,
            "checklist": [check.to_dict() for check in checks],
            "history": self.history_records(),
        }


def _num(value: float) -> str:
    return f"{value:g}" if abs(value) >= 10 else f"{value:.2f}"


def _exit_word(comparison: str) -> str:
    return {">=": "<", ">": "≤", "<": "≥", "<=": ">"}[comparison]


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name in table:
        return table[name].astype("float64")
    return pd.Series(np.nan, index=table.index, dtype="float64")


def _corr(table: pd.DataFrame, window: int) -> tuple[pd.Series, pd.Series]:
    """The window's correlation and its lower band, from the table or computed from returns."""
    if f"corr_{window}" in table and f"corr_{window}_lo" in table:
        return table[f"corr_{window}"].astype("float64"), table[f"corr_{window}_lo"].astype(
            "float64"
        )
    corr = rolling_corr(table["crypto_ret"], table["equity_ret"], window)
    lo, _ = fisher_ci(corr, window)
    return corr, pd.Series(np.asarray(lo, dtype="float64"), index=table.index)


def _distance_from_high(close: pd.Series, window: int) -> pd.Series:
    high = close.rolling(window, min_periods=window).max()
    return close / high - 1.0


def _inputs(table: pd.DataFrame, cfg: SignalConfig) -> dict[str, pd.Series]:
    """The number behind every condition, each using rows up to its own session only."""
    corr, corr_lo = _corr(table, cfg.corr_window)
    short, _ = _corr(table, cfg.decouple_short)
    long, _ = _corr(table, cfg.decouple_long)
    equity = table["equity_close"].astype("float64")
    mean = equity.rolling(cfg.trend_window, min_periods=cfg.trend_window).mean()
    breadth = _column(table, "breadth")
    values: dict[str, pd.Series] = {
        "corr": corr,
        "corr_lo": corr_lo,
        "corr_short": short,
        "corr_long_was": long.rolling(cfg.decoupling_lookback, min_periods=1).max(),
        "equity_vs_mean": equity / mean - 1.0,
        "macd_hist_equity": _column(table, "macd_hist_equity"),
        "breadth_change": breadth - breadth.shift(cfg.breadth_lookback),
        "liquidity": _column(table, "liquidity_score"),
    }
    for asset in ("crypto", "equity"):
        rsi_values = _column(table, f"rsi_{asset}")
        values[f"rsi_change_{asset}"] = rsi_values - rsi_values.shift(cfg.rsi_lookback)
        values[f"rsi_{asset}"] = rsi_values
        values[f"relvol_{asset}"] = _column(table, f"relvol_{asset}")
        values[f"high_{asset}"] = _distance_from_high(
            table[f"{asset}_close"].astype("float64"), cfg.high_window
        )
    return values


def _specs(cfg: SignalConfig) -> dict[str, list[tuple[Condition, str]]]:
    """The conditions of each signal with the input each compares."""
    w = cfg.corr_window
    corr = Condition("corr", f"{w}-session correlation", ">=", cfg.corr_enter, cfg.corr_exit)
    breakout: list[tuple[Condition, str]] = [
        (corr, "corr"),
        (
            Condition("corr_lo", f"lower 95% band of the {w}-session correlation", ">",
                      cfg.band_enter, cfg.band_exit),
            "corr_lo",
        ),
    ]  # fmt: skip
    for asset, word in (("crypto", "crypto"), ("equity", "index")):
        breakout += [
            (
                Condition(f"rsi_rising_{asset}",
                          f"{word} RSI change over {cfg.rsi_lookback} sessions", ">", 0.0, 0.0),
                f"rsi_change_{asset}",
            ),
            (
                Condition(f"rsi_{asset}", f"{word} RSI", ">", cfg.rsi_enter, cfg.rsi_exit),
                f"rsi_{asset}",
            ),
        ]  # fmt: skip
    for asset, word in (("crypto", "crypto"), ("equity", "index")):
        breakout.append(
            (
                Condition(f"relvol_{asset}", f"{word} relative volume", ">",
                          cfg.relvol_enter, cfg.relvol_exit),
                f"relvol_{asset}",
            )
        )  # fmt: skip
    breakout.append(
        (
            Condition("liquidity", "liquidity score", ">", cfg.liquidity_enter,
                      cfg.liquidity_exit),
            "liquidity",
        )
    )  # fmt: skip
    for asset, word in (("crypto", "crypto"), ("equity", "index")):
        breakout.append(
            (
                Condition(f"high_{asset}",
                          f"{word} close vs its {cfg.high_window}-session high", ">=", 0.0,
                          -cfg.high_exit),
                f"high_{asset}",
            )
        )  # fmt: skip
    risk_off: list[tuple[Condition, str]] = [
        (corr, "corr"),
        (
            Condition("below_mean", f"index vs its {cfg.trend_window}-session mean", "<", 0.0,
                      cfg.trend_exit, required=False),
            "equity_vs_mean",
        ),
        (
            Condition("macd_negative", "index MACD histogram", "<", 0.0, 0.0, required=False),
            "macd_hist_equity",
        ),
        (
            Condition("breadth_falling", f"breadth change over {cfg.breadth_lookback} sessions",
                      "<", 0.0, 0.0, required=False),
            "breadth_change",
        ),
    ]  # fmt: skip
    decoupling: list[tuple[Condition, str]] = [
        (
            Condition("corr_short", f"{cfg.decouple_short}-session correlation", "<",
                      cfg.decouple_enter, cfg.decouple_exit),
            "corr_short",
        ),
        (
            Condition("corr_long_was",
                      f"highest {cfg.decouple_long}-session correlation in the last "
                      f"{cfg.decoupling_lookback} sessions", ">=", cfg.decouple_was,
                      cfg.decouple_was),
            "corr_long_was",
        ),
    ]  # fmt: skip
    return {
        "synchronized_breakout": breakout,
        "risk_off_alignment": risk_off,
        "decoupling": decoupling,
    }


WEAKNESS = Condition(
    "small_cap_weakness",
    "small-cap weakness: (index below its mean and MACD histogram negative) or breadth falling",
    ">=",
    1.0,
    1.0,
)


def _crypto_only_moves(table: pd.DataFrame, cfg: SignalConfig) -> pd.Series:
    """1.0 where crypto moved > k σ while the index moved < q σ (σ from earlier sessions only)."""
    crypto, equity = table["crypto_ret"], table["equity_ret"]
    sd_c = crypto.rolling(cfg.move_window, min_periods=cfg.move_window).std().shift(1)
    sd_e = equity.rolling(cfg.move_window, min_periods=cfg.move_window).std().shift(1)
    big = crypto.abs() > cfg.crypto_move_sigma * sd_c
    quiet = equity.abs() < cfg.equity_quiet_sigma * sd_e
    known = sd_c.notna() & sd_e.notna() & crypto.notna() & equity.notna()
    return pd.Series(
        np.where(known, (big & quiet).astype("float64"), np.nan),
        index=table.index,
        name="crypto_only_move",
    )


def _stance(states: dict[str, np.ndarray]) -> np.ndarray:
    breakout = states["synchronized_breakout"]
    risk_off = states["risk_off_alignment"]
    decoupling = states["decoupling"]
    stance = np.full(len(decoupling), 0.5)
    stance[(breakout == 1.0) & (risk_off == 0.0)] = 1.0
    stance[risk_off == 1.0] = 0.0
    stance[decoupling == 1.0] = 0.5
    stance[np.isnan(decoupling)] = np.nan
    return stance


def _changes(
    name: str, states: np.ndarray, index: pd.Index, words: Callable[[float], str]
) -> list[dict[str, object]]:
    before, after = states[:-1], states[1:]
    changed = ~((np.isnan(before) & np.isnan(after)) | (before == after))
    return [
        {"date": index[i], "signal": name, "from": words(states[i - 1]), "to": words(states[i])}
        for i in (np.flatnonzero(changed) + 1).tolist()
    ]


def _state_word(value: float) -> str:
    return "unknown" if np.isnan(value) else STATE_WORDS[float(value)]


def _stance_word(value: float) -> str:
    return "unknown" if np.isnan(value) else STANCE_WORDS[float(value)]


REQUIRED_COLUMNS = ("crypto_close", "equity_close", "crypto_ret", "equity_ret")


def evaluate_signals(table: pd.DataFrame, config: SignalConfig | None = None) -> SignalResult:
    """Evaluate every signal and the stance on each session of the analysis table.

    Parameters
    ----------
    table
        The analysis table (:func:`comove.analyze`), optionally with ``liquidity_score`` and
        ``breadth``; a missing optional column makes its conditions unknown. A missing
        ``corr_{w}`` column is computed from the returns.
    config
        Thresholds, windows and the minimum duration; :class:`SignalConfig` defaults.

    Returns
    -------
    SignalResult
        Columns, condition states, their values, history and the checklist.
    """
    cfg = config if config is not None else SignalConfig()
    missing = [c for c in REQUIRED_COLUMNS if c not in table]
    if missing:
        raise DataError(f"the analysis table lacks {', '.join(missing)} needed by the signals")
    inputs = _inputs(table, cfg)
    specs = _specs(cfg)
    status: dict[str, np.ndarray] = {}
    values: dict[str, pd.Series] = {}
    states: dict[str, np.ndarray] = {}
    for signal, conditions in specs.items():
        for condition, key in conditions:
            column = f"{signal}.{condition.name}"
            values[column] = inputs[key]
            status[column] = hysteresis(
                inputs[key].to_numpy(dtype="float64"),
                condition.comparison,
                condition.enter,
                condition.exit,
            )
        if signal == "risk_off_alignment":
            below = status[f"{signal}.below_mean"]
            negative = status[f"{signal}.macd_negative"]
            falling = status[f"{signal}.breadth_falling"]
            weakness = kleene_or([kleene_and([below, negative]), falling])
            status[f"{signal}.{WEAKNESS.name}"] = weakness
            values[f"{signal}.{WEAKNESS.name}"] = pd.Series(weakness, index=table.index)
        required = [status[f"{signal}.{c.name}"] for c, _ in conditions if c.required]
        if signal == "risk_off_alignment":
            required.append(status[f"{signal}.{WEAKNESS.name}"])
        combine = strict_and if cfg.unknown_policy == "strict" else kleene_and
        states[signal] = hold(combine(required), cfg.min_duration)
    stance = _stance(states)
    columns = pd.DataFrame(
        {f"signal_{name}": states[name] for name in SIGNALS} | {"stance": stance},
        index=table.index,
        dtype="float64",
    )
    history_rows: list[dict[str, object]] = []
    for name in SIGNALS:
        history_rows += _changes(name, states[name], table.index, _state_word)
    history_rows += _changes("stance", stance, table.index, _stance_word)
    history = pd.DataFrame(history_rows, columns=["date", "signal", "from", "to"])
    if not history.empty:
        history = history.sort_values(["date", "signal"], kind="stable").reset_index(drop=True)
    condition_specs = {
        signal: [c for c, _ in conditions] + ([WEAKNESS] if signal == "risk_off_alignment" else [])
        for signal, conditions in specs.items()
    }
    return SignalResult(
        columns=columns,
        conditions=pd.DataFrame(status, index=table.index, dtype="float64"),
        values=pd.DataFrame(values, index=table.index, dtype="float64"),
        crypto_only_moves=_crypto_only_moves(table, cfg),
        history=history,
        config=cfg,
        specs=condition_specs,
    )


def _since(series: np.ndarray, i: int, index: pd.Index) -> pd.Timestamp | None:
    """The first session of the run of equal values (NaN equal to NaN) that ends at row ``i``."""
    run = series[: i + 1]
    same = np.isnan(run) if np.isnan(series[i]) else run == series[i]
    breaks = np.flatnonzero(~same)
    return pd.Timestamp(index[int(breaks[-1]) + 1 if len(breaks) else 0])


def _composite_unknown(conditions: list[ConditionCheck]) -> bool:
    return any(c.name == WEAKNESS.name and c.status == "unknown" for c in conditions)


def _status_word(value: float) -> Status:
    if np.isnan(value):
        return "unknown"
    return "pass" if value == 1.0 else "fail"


def _summary(label: str, state: str, since: pd.Timestamp | None, unknown: list[str]) -> str:
    when = f" since {since.date()}" if since is not None else ""
    if state == "unknown":
        lacking = ", ".join(unknown) if unknown else "its inputs"
        return f"{label} cannot be confirmed: no data for {lacking}"
    return f"{label} is {state}{when}"


def _checklist(result: SignalResult, date: str | pd.Timestamp | None) -> list[SignalCheck]:
    index = result.columns.index
    if len(index) == 0:
        return []
    if date is None:
        i = len(index) - 1
    else:
        stamp = pd.Timestamp(date)
        position = index.searchsorted(stamp, side="right") - 1
        if position < 0:
            raise DataError(f"no session on or before {stamp.date()} in the signals")
        i = int(position)
    when = pd.Timestamp(index[i])
    checks: list[SignalCheck] = []
    for signal in SIGNALS:
        conditions: list[ConditionCheck] = []
        for condition in result.specs[signal]:
            column = f"{signal}.{condition.name}"
            series = result.conditions[column].to_numpy()
            composite = condition is WEAKNESS
            conditions.append(
                ConditionCheck(
                    name=condition.name,
                    label=condition.label,
                    value=float(result.values[column].iloc[i]),
                    threshold=math.nan if composite else condition.enter,
                    exit=math.nan if composite else condition.exit,
                    comparison="one branch holds" if composite else condition.comparison,
                    status=_status_word(series[i]),
                    since=_since(series, i, index),
                    required=condition.required or composite,
                )
            )
        states = result.columns[f"signal_{signal}"].to_numpy()
        state = _state_word(states[i])
        unknown = [
            c.label
            for c in conditions
            if c.status == "unknown"
            and (c.required or _composite_unknown(conditions))
            and c.name != WEAKNESS.name
        ]
        since = _since(states, i, index)
        checks.append(
            SignalCheck(
                name=signal,
                label=SIGNAL_LABELS[signal],
                date=when,
                state=state,
                since=since,
                conditions=conditions,
                summary=_summary(SIGNAL_LABELS[signal], state, since, unknown),
            )
        )
    stance = result.columns["stance"].to_numpy()
    parts = []
    for signal in SIGNALS:
        series = result.columns[f"signal_{signal}"].to_numpy()
        parts.append(
            ConditionCheck(
                name=signal,
                label=f"{SIGNAL_LABELS[signal]} on",
                value=float(series[i]),
                threshold=math.nan,
                exit=math.nan,
                comparison="is on",
                status=_status_word(series[i]),
                since=_since(series, i, index),
                required=False,
            )
        )
    word = _stance_word(stance[i])
    since = _since(stance, i, index)
    if word == "unknown":
        summary = "Stance cannot be confirmed: the correlation windows are still warming up"
    else:
        summary = f"Stance is {word} since {since.date() if since is not None else '?'}"
        if result.columns["signal_decoupling"].iloc[i] == 1.0:
            summary += " (decoupling: the macro overlay is not trusted)"
    checks.append(
        SignalCheck(
            name="stance",
            label=SIGNAL_LABELS["stance"],
            date=when,
            state=word,
            since=since,
            conditions=parts,
            summary=summary,
        )
    )
    return checks
