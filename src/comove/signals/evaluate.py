"""What the signals were worth: an event study, the overlay as a strategy, and a claims check.

No look-ahead: the stance of session t is known at the close of t (it uses rows up to t, see
:mod:`comove.signals.rules`) and sets the ETH exposure from session t+1 on. No threshold is
tuned here: the signals use the fixed defaults of :class:`~comove.signals.rules.SignalConfig`,
chosen before looking at the results, so there is no in-sample fitting to undo. (Any tuning
added later must be walk-forward: a threshold chosen on sessions before t only.)

Event study
    An *onset* is a session where a signal turns on (see :func:`onsets`). For each horizon h
    the ETH forward log return ``log(close[t+h] / close[t])`` after each onset is compared
    with the same forward return over all sessions. Confidence intervals come from a
    circular block bootstrap of the sessions (blocks of ``block`` consecutive sessions, a
    seeded generator), which keeps the overlap of the h-session forward returns and the
    clustering of onsets. *Independent* events are onsets at least h sessions after the last
    counted one, so their forward windows do not overlap.
Strategy
    Exposure 1 / 0.5 / 0 for a bullish / neutral / reduce stance, decided at the close of t
    and held over session t+1: ``r[t+1] = p[t+1] * R[t+1] − cost * |p[t+1] − p[t]|`` with
    ``R`` the simple ETH return between aligned sessions and cost in bps per unit of turnover
    (charged on the session the new position is first held). The idle part earns nothing;
    exposure is a fraction of current equity (rebalancing to it is not charged). A constant
    0.5 exposure is reported beside buy-and-hold, since the stance is neutral most of the time.
    The strategy starts flat on the first session with a stance and trades into it at that
    close; buy-and-hold buys at the same close, paying the same cost once. A stance missing
    later on keeps the previous position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from comove._json import day, finite, records
from comove.analytics.compare import DEFAULT_REPS
from comove.analytics.comparison import RegimeComparison, compare_regimes
from comove.errors import DataError
from comove.signals.regime import commentary_regimes
from comove.signals.rules import SIGNALS, SignalConfig, SignalResult, evaluate_signals

FEW_EVENTS = 10
# Below this many independent onsets a resampled interval only repeats the few values seen.
MIN_INTERVAL_EVENTS = 3
NEUTRAL = 0.5
BENCHMARKS = ("strategy", "buy_and_hold", "always_neutral")
EVENT_COLUMNS = [
    "signal", "horizon", "events", "independent_events", "mean_after", "ci_low", "ci_high",
    "mean_all", "excess", "excess_ci_low", "excess_ci_high", "hit_rate", "evidence",
]  # fmt: skip
METRIC_COLUMNS = [
    "total_return", "cagr", "volatility", "sharpe", "max_drawdown", "turnover",
    "turnover_per_year", "time_in_market", "mean_exposure",
]  # fmt: skip


def onsets(state: pd.Series) -> pd.Series:
    """True where a 1/0/NaN state turns on: on now, and off at the last session it was known.

    A gap of unknown sessions inside an on spell (on → unknown → on) is not a new onset; the
    first known state counts as an onset when it is on.
    """
    values = state.astype("float64")
    before = values.ffill().shift(1).to_numpy()
    on = values.to_numpy() == 1.0
    return pd.Series(on & (before != 1.0), index=state.index)


def forward_log_returns(close: pd.Series, horizon: int) -> pd.Series:
    """``log(close[t+h] / close[t])``: NaN for the last ``h`` sessions."""
    values = np.log(close.to_numpy(dtype="float64"))
    out = np.full(len(values), np.nan)
    if horizon < len(values):
        out[: len(values) - horizon] = values[horizon:] - values[:-horizon]
    return pd.Series(out, index=close.index)


def independent_count(positions: Sequence[int], horizon: int) -> int:
    """Onsets kept greedily so that each is at least ``horizon`` sessions after the previous."""
    count, last = 0, -(10**12)
    for p in positions:
        if p - last >= horizon:
            count += 1
            last = p
    return count


def _block_starts(
    n: int, block: int, n_boot: int, rng: np.random.Generator
) -> tuple[int, np.ndarray]:
    """The block length used and ``n_boot`` rows of block start positions into ``range(n)``."""
    block = max(1, min(block, n))
    return block, rng.integers(0, n, size=(n_boot, -(-n // block)))


def block_bootstrap_indices(
    n: int, block: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """``n_boot`` rows of ``n`` circular-block-bootstrap positions into ``range(n)``."""
    block, starts = _block_starts(n, block, n_boot, rng)
    positions = (starts[:, :, None] + np.arange(block)[None, None, :]) % n
    return positions.reshape(n_boot, starts.shape[1] * block)[:, :n]


class _BlockSums:
    """Sums of a series over circular-block-bootstrap samples, from per-block sums.

    The sample drawn by :func:`block_bootstrap_indices` is its blocks laid end to end, the
    last one cut to fill ``n``; so its sum is the sum of ``blocks`` precomputed circular
    window sums, one gather per block instead of one per position.
    """

    def __init__(self, n: int, block: int, starts: np.ndarray) -> None:
        self.n, self.block, self.starts = n, block, starts
        self.last = n - (starts.shape[1] - 1) * block

    def _window_sums(self, values: np.ndarray, length: int) -> np.ndarray:
        wrapped = np.concatenate((values, values[:length]))
        running = np.concatenate(([0.0], np.cumsum(wrapped)))
        return running[length : length + self.n] - running[: self.n]

    def of(self, values: np.ndarray) -> np.ndarray:
        """One sum per bootstrap sample."""
        full = self._window_sums(values, self.block)[self.starts[:, :-1]].sum(axis=1)
        return full + self._window_sums(values, self.last)[self.starts[:, -1]]


def _evidence(independent: int, lo: float, hi: float) -> str:
    words: list[str] = []
    if independent < FEW_EVENTS:
        words.append(
            f"weak evidence: only {independent} independent event"
            f"{'' if independent == 1 else 's'} (fewer than {FEW_EVENTS})"
        )
    if math.isnan(lo) or math.isnan(hi):
        words.append(
            f"no interval: fewer than {MIN_INTERVAL_EVENTS} independent events to resample"
        )
    elif lo <= 0.0 <= hi:
        words.append(
            "the interval of the excess return includes zero: no evidence that ETH did "
            "differently after the onset than on an ordinary session"
        )
    else:
        side = "better" if lo > 0 else "worse"
        words.append(f"ETH did {side} than on an ordinary session (interval excludes zero)")
    return "; ".join(words)


def event_study(
    table: pd.DataFrame,
    result: SignalResult,
    horizons: Sequence[int] = (5, 10, 20),
    *,
    n_boot: int = 1000,
    block: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """ETH forward log returns after each signal's onsets vs all sessions.

    Parameters
    ----------
    table
        The analysis table (``crypto_close`` is used).
    result
        From :func:`~comove.signals.rules.evaluate_signals` on the same table.
    horizons
        Forward horizons in sessions.
    n_boot, block, seed
        Circular block bootstrap: replicates, block length in sessions, generator seed.

    Returns
    -------
    DataFrame
        One row per signal and horizon, columns :data:`EVENT_COLUMNS`: ``events`` (onsets
        with a defined forward return), ``independent_events``, ``mean_after`` with its 95%
        interval ``ci_low``/``ci_high``, ``mean_all`` (all sessions), ``excess`` = after −
        all with its interval, ``hit_rate`` (share of positive forward returns after onsets)
        and ``evidence`` in words.
    """
    if n_boot < 1 or block < 1:
        raise DataError("the bootstrap needs n_boot ≥ 1 and block ≥ 1")
    rng = np.random.default_rng(seed)
    close = table["crypto_close"]
    rows: list[dict[str, object]] = []
    for h in horizons:
        if int(h) < 1:
            raise DataError(f"horizon {h} must be at least one session")
        forward = forward_log_returns(close, int(h))
        defined = forward.notna().to_numpy()
        values = forward.to_numpy()[defined]
        n = len(values)
        sums = _BlockSums(n, *_block_starts(n, block, n_boot, rng)) if n else None
        boot_all = sums.of(values) / n if sums is not None else np.empty(0)
        for signal in SIGNALS:
            flags = onsets(result.columns[f"signal_{signal}"]).to_numpy()[defined]
            positions = np.flatnonzero(flags)
            events = len(positions)
            after = values[flags]
            mean_after = float(after.mean()) if events else math.nan
            mean_all = float(values.mean()) if n else math.nan
            lo = hi = ex_lo = ex_hi = math.nan
            independent = independent_count(positions.tolist(), int(h))
            if independent >= MIN_INTERVAL_EVENTS and sums is not None:
                counts = np.rint(sums.of(flags.astype("float64")))
                with np.errstate(invalid="ignore", divide="ignore"):
                    boot_after = sums.of(np.where(flags, values, 0.0)) / counts
                usable = counts > 0
                if usable.sum() >= max(10, n_boot // 2):
                    lo, hi = np.percentile(boot_after[usable], [2.5, 97.5])
                    ex_lo, ex_hi = np.percentile(boot_after[usable] - boot_all[usable], [2.5, 97.5])
            rows.append(
                {
                    "signal": signal,
                    "horizon": int(h),
                    "events": events,
                    "independent_events": independent,
                    "mean_after": mean_after,
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "mean_all": mean_all,
                    "excess": mean_after - mean_all,
                    "excess_ci_low": float(ex_lo),
                    "excess_ci_high": float(ex_hi),
                    "hit_rate": float((after > 0).mean()) if events else math.nan,
                    "evidence": _evidence(independent, float(ex_lo), float(ex_hi)),
                }
            )
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    return frame.sort_values(["signal", "horizon"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """The stance overlay as a strategy against buy-and-hold ETH.

    ``returns`` and ``equity`` have columns ``strategy``, ``buy_and_hold`` and
    ``always_neutral`` (a constant 0.5 exposure: what the stance adds over sitting at
    neutral); equity starts at 1.0 on the first session with a stance. ``position`` is the
    strategy's exposure held over each session; ``metrics`` is indexed like the columns, with
    :data:`METRIC_COLUMNS`; ``notes`` says in words where the evidence is weak.
    """

    returns: pd.DataFrame
    equity: pd.DataFrame
    position: pd.Series
    metrics: pd.DataFrame
    cost_bps: float
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": day(self.start),
            "end": day(self.end),
            "cost_bps": self.cost_bps,
            "metrics": {
                str(name): {str(k): finite(v) for k, v in row.items()}
                for name, row in self.metrics.iterrows()
            },
            "notes": list(self.notes),
        }


def _metrics(
    returns: pd.Series, position: pd.Series, turnover: pd.Series, years: float
) -> dict[str, float]:
    r = returns.to_numpy(dtype="float64")
    equity = np.cumprod(1.0 + r)
    final = float(equity[-1]) if len(equity) else 1.0
    per_year = len(r) / years if years > 0 else math.nan
    sd = float(np.std(r, ddof=1)) if len(r) > 1 else math.nan
    peak = np.maximum.accumulate(np.concatenate(([1.0], equity)))
    drawdown = np.concatenate(([1.0], equity)) / peak - 1.0
    return {
        "total_return": final - 1.0,
        "cagr": final ** (1.0 / years) - 1.0 if years > 0 and final > 0 else math.nan,
        "volatility": sd * math.sqrt(per_year) if len(r) > 1 else math.nan,
        "sharpe": float(np.mean(r)) / sd * math.sqrt(per_year) if sd and sd > 0 else math.nan,
        "max_drawdown": float(drawdown.min()),
        "turnover": float(turnover.sum()),
        "turnover_per_year": float(turnover.sum()) / years if years > 0 else math.nan,
        "time_in_market": float((position > 0).mean()) if len(position) else math.nan,
        "mean_exposure": float(position.mean()) if len(position) else math.nan,
    }


def backtest(table: pd.DataFrame, result: SignalResult, *, cost_bps: float = 10) -> BacktestResult:
    """Run the stance overlay against buy-and-hold ETH (see the module docstring).

    Parameters
    ----------
    table
        The analysis table (``crypto_close`` is used).
    result
        From :func:`~comove.signals.rules.evaluate_signals` on the same table.
    cost_bps
        Cost per unit of turnover in basis points (moving from 0 to 1 exposure costs once).

    Returns
    -------
    BacktestResult
        Returns, equity curves, positions and metrics. CAGR uses calendar years between the
        first and the last session; volatility and Sharpe (zero risk-free rate) annualise by
        the observed sessions per year.
    """
    if cost_bps < 0 or not math.isfinite(cost_bps):
        raise DataError(f"cost {cost_bps} bps must be a finite number ≥ 0")
    stance = result.columns["stance"].reindex(table.index)
    defined = np.flatnonzero(stance.notna().to_numpy())
    empty = pd.DataFrame({name: pd.Series(dtype="float64") for name in BENCHMARKS})
    if len(defined) == 0 or defined[0] >= len(table) - 1:
        return BacktestResult(
            returns=empty,
            equity=empty,
            position=pd.Series(dtype="float64"),
            metrics=pd.DataFrame(index=list(BENCHMARKS), columns=METRIC_COLUMNS),
            cost_bps=float(cost_bps),
            start=None,
            end=None,
            notes=["no session with a stance and a following session: nothing to evaluate"],
        )
    first = int(defined[0])
    cost = float(cost_bps) / 10_000.0
    window = table.index[first:]
    decided = stance.iloc[first:].ffill()
    close = table["crypto_close"].iloc[first:].astype("float64")
    asset = close.pct_change().fillna(0.0)
    # Held over session t+1 is what was decided at the close of t; flat before the start.
    positions = {
        "strategy": decided.shift(1).fillna(0.0),
        "buy_and_hold": pd.Series(1.0, index=window),
        "always_neutral": pd.Series(NEUTRAL, index=window),
    }
    positions["buy_and_hold"].iloc[0] = 0.0
    positions["always_neutral"].iloc[0] = 0.0
    turnovers = {name: (held - held.shift(1).fillna(0.0)).abs() for name, held in positions.items()}
    # The first row is the decision session: nothing is held over it.
    returns = pd.DataFrame(
        {name: positions[name] * asset - cost * turnovers[name] for name in BENCHMARKS}
    ).iloc[1:]
    equity = pd.concat(
        [
            pd.DataFrame({name: [1.0] for name in BENCHMARKS}, index=window[:1]),
            (1.0 + returns).cumprod(),
        ]
    )
    years = (window[-1] - window[0]).days / 365.25
    position = positions["strategy"].iloc[1:]
    turnover = turnovers["strategy"]
    metrics = pd.DataFrame(
        {
            name: _metrics(returns[name], positions[name].iloc[1:], turnovers[name].iloc[1:], years)
            for name in BENCHMARKS
        }
    ).T[METRIC_COLUMNS]
    notes: list[str] = []
    if years < 3:
        notes.append(
            f"weak evidence: only {years:.1f} years of sessions with a stance; "
            "a few trades decide the result"
        )
    changes = int((turnover.iloc[1:] > 0).sum())
    if changes < FEW_EVENTS:
        notes.append(f"weak evidence: the exposure changed only {changes} times")
    if position.nunique() <= 1:
        notes.append("the stance never changed: the strategy is a fixed exposure")
    sharpe = metrics["sharpe"].astype("float64")
    own, neutral = float(sharpe["strategy"]), float(sharpe["always_neutral"])
    if math.isfinite(own) and math.isfinite(neutral) and own <= neutral:
        notes.append(
            f"the signals added nothing over a constant {NEUTRAL:g} exposure "
            f"(Sharpe {own:.2f} vs {neutral:.2f})"
        )
    return BacktestResult(
        returns=returns.astype("float64"),
        equity=equity.astype("float64"),
        position=position.astype("float64"),
        metrics=metrics.astype("float64"),
        cost_bps=float(cost_bps),
        start=pd.Timestamp(window[0]),
        end=pd.Timestamp(window[-1]),
        notes=notes,
    )


@dataclass(frozen=True, eq=False)
class ClaimsCheck:
    """How often the rolling correlations rose above a level, when, and in which liquidity.

    ``summary``: one row per window with ``sessions`` (defined), ``sessions_above``,
    ``share_above``, ``episodes`` and, when ``liquidity_score`` is present,
    ``above_liquidity_positive`` / ``above_liquidity_negative`` (sessions above the level with
    a score > 0 / < 0) and ``share_liquidity_positive`` (of all defined sessions with a score).
    ``episodes``: ``window, start, end, sessions`` (the span), ``sessions_above``, ``peak``,
    ``liquidity_mean``; spells closer than ``merge_gap`` sessions are one episode.
    ``words``: the answer.
    """

    level: float
    summary: pd.DataFrame
    episodes: pd.DataFrame
    words: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "summary": records(self.summary),
            "episodes": records(self.episodes, date_columns=("start", "end")),
            "words": list(self.words),
        }


def _runs(mask: np.ndarray, merge_gap: int = 0) -> list[tuple[int, int]]:
    """Runs of True as (first, last) rows; runs apart by at most ``merge_gap`` rows are one."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, flag in enumerate(mask):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if merged and first - merged[-1][1] - 1 <= merge_gap:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def correlation_claims(
    table: pd.DataFrame,
    *,
    level: float = 0.6,
    windows: Sequence[int] | None = None,
    regimes: Sequence[RegimeComparison] = (),
    merge_gap: int = 5,
) -> ClaimsCheck:
    """Check "30–90-session correlations periodically rose above ``level``" on a table.

    Parameters
    ----------
    table
        The analysis table; ``corr_{w}`` for each window (default: every window from 30 to
        90 sessions in the table), ``liquidity_score`` when present.
    level
        The correlation level of the claim.
    merge_gap
        Spells above the level separated by at most this many sessions below it count as
        one episode (a correlation hovering around 0.6 is one phase, not many).
    regimes
        The commentary's regimes compared (:func:`regime_comparisons`): one sentence each
        ("strong in risk-on phases", "weak around crypto-specific events").
    """
    if windows is None:
        windows = [
            int(c[5:]) for c in table.columns
            if c.startswith("corr_") and c[5:].isdigit() and 30 <= int(c[5:]) <= 90
        ]  # fmt: skip
    liquidity: pd.Series | None = table.get("liquidity_score")
    has_liquidity = liquidity is not None and bool(liquidity.notna().any())
    summary_rows: list[dict[str, object]] = []
    episode_rows: list[dict[str, object]] = []
    words: list[str] = []
    for w in windows:
        corr = table[f"corr_{w}"].to_numpy(dtype="float64")
        defined = np.isfinite(corr)
        above = defined & (corr > level)
        runs = _runs(above, merge_gap)
        row: dict[str, object] = {
            "window": int(w),
            "sessions": int(defined.sum()),
            "sessions_above": int(above.sum()),
            "share_above": float(above.sum() / defined.sum()) if defined.any() else math.nan,
            "episodes": len(runs),
        }
        if has_liquidity and liquidity is not None:
            score = liquidity.to_numpy(dtype="float64")
            row["above_liquidity_positive"] = int((above & (score > 0)).sum())
            row["above_liquidity_negative"] = int((above & (score < 0)).sum())
            scored = defined & np.isfinite(score)
            row["share_liquidity_positive"] = (
                float((scored & (score > 0)).sum() / scored.sum()) if scored.any() else math.nan
            )
        summary_rows.append(row)
        for a, b in runs:
            episode: dict[str, object] = {
                "window": int(w),
                "start": pd.Timestamp(table.index[a]),
                "end": pd.Timestamp(table.index[b]),
                "sessions": b - a + 1,
                "sessions_above": int(above[a : b + 1].sum()),
                "peak": float(np.nanmax(corr[a : b + 1])),
                "liquidity_mean": math.nan,
            }
            if has_liquidity and liquidity is not None:
                part = liquidity.iloc[a : b + 1]
                episode["liquidity_mean"] = float(part.mean()) if part.notna().any() else math.nan
            episode_rows.append(episode)
        if defined.any():
            text = (
                f"{w}-session correlation above {level:g} on {int(above.sum())} of "
                f"{int(defined.sum())} sessions ({above.sum() / defined.sum():.0%}), "
                f"in {len(runs)} episode{'' if len(runs) == 1 else 's'}"
            )
            if runs:
                longest = max(runs, key=lambda r: r[1] - r[0])
                text += (
                    f"; the longest from {table.index[longest[0]].date()} to "
                    f"{table.index[longest[1]].date()}"
                )
            if has_liquidity and above.any():
                positive = row["above_liquidity_positive"]
                text += (
                    f"; {positive} of those sessions had a positive liquidity score "
                    f"(vs {row['share_liquidity_positive']:.0%} of all sessions)"
                )
            words.append(text)
    if not has_liquidity:
        words.append("no liquidity score: the liquidity regime of those episodes is not known")
    words.extend(regime.sentence() for regime in regimes)
    summary = pd.DataFrame(summary_rows)
    episodes = pd.DataFrame(
        episode_rows,
        columns=["window", "start", "end", "sessions", "sessions_above", "peak", "liquidity_mean"],
    )
    return ClaimsCheck(level=level, summary=summary, episodes=episodes, words=words)


def regime_comparisons(
    table: pd.DataFrame,
    signals: SignalResult,
    breadth_falling: pd.Series | None = None,
    *,
    level: float = 0.95,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
) -> tuple[RegimeComparison, ...]:
    """The correlation of the pair's returns in the commentary's regimes vs the rest.

    ``breadth_falling`` comes from the breadth frame (without it the risk-on regime is
    unknown and left out); see :func:`comove.signals.regime.commentary_regimes`.
    """
    falling = (
        breadth_falling if breadth_falling is not None else pd.Series(np.nan, index=table.index)
    )
    returns = table[["crypto_ret", "equity_ret"]].set_axis(["crypto", "benchmark"], axis=1)
    return compare_regimes(
        returns.dropna(),
        commentary_regimes(table, falling, signals.crypto_only_moves),
        level=level,
        reps=reps,
        seed=seed,
    )


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The signals of a table and everything :mod:`comove.signals.evaluate` says about them."""

    signals: SignalResult
    backtest: BacktestResult
    event_study: pd.DataFrame
    claims: ClaimsCheck

    def to_dict(self) -> dict[str, Any]:
        """The backtest, the event study and the claims check (the signals have their own)."""
        return {
            **self.backtest.to_dict(),
            "event_study": records(self.event_study),
            "claims": self.claims.to_dict(),
        }


def evaluate_all(
    table: pd.DataFrame,
    config: SignalConfig | None = None,
    *,
    cost_bps: float = 10,
    n_boot: int = 1000,
    seed: int = 0,
    breadth_falling: pd.Series | None = None,
) -> Evaluation:
    """Signals, backtest, event study and the claims check of one analysis table.

    ``breadth_falling`` (from the breadth frame) lets the claims check compare risk-on
    sessions with the rest.
    """
    signals = evaluate_signals(table, config)
    regimes = regime_comparisons(table, signals, breadth_falling, seed=seed)
    return Evaluation(
        signals=signals,
        backtest=backtest(table, signals, cost_bps=cost_bps),
        event_study=event_study(table, signals, n_boot=n_boot, seed=seed),
        claims=correlation_claims(table, regimes=regimes),
    )
