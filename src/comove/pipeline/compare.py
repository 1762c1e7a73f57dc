"""The comparison of a crypto with several benchmarks, across periods and regimes.

:func:`build_comparison` works on an :class:`~comove.pipeline.analysis.Analysis` (the pair,
its large caps, its signals and macro overlay) plus any further benchmark closes;
:func:`compare` loads everything for a request first. The analysis's own
:attr:`~comove.pipeline.analysis.Analysis.commentary` (report, dashboard) is the same
function with the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from comove.analytics.compare import DEFAULT_REPS
from comove.analytics.comparison import (
    MIN_SESSIONS,
    Comparison,
    compare_benchmarks,
    compare_periods,
    shifts_of,
)
from comove.analytics.macro import closes_on
from comove.analytics.returns import log_returns
from comove.config import Settings
from comove.errors import ConfigError, DataError, ProviderError
from comove.pipeline.inputs import PairRequest, Progress, load_bars, load_chain, load_inputs
from comove.pipeline.sources import parse_chain
from comove.signals.evaluate import regime_comparisons
from comove.signals.regime import REGIME_NAMES

if TYPE_CHECKING:
    from comove.pipeline.analysis import Analysis

#: The third default benchmark, beside the configured small and large caps.
DEFAULT_NASDAQ = ("yahoo:^IXIC", "yahoo:QQQ")


@dataclass(frozen=True)
class CompareOptions:
    """What to compare. ``benchmarks`` (source strings) replace the defaults (small caps, large
    caps, the Nasdaq); the first is the one under test, the second the reference.
    ``periods`` are ``(start, end)`` date strings; ``windows`` default to the settings'."""

    benchmarks: tuple[str, ...] = ()
    periods: tuple[tuple[str, str], ...] = ()
    windows: tuple[int, ...] | None = None
    level: float = 0.95
    reps: int = DEFAULT_REPS
    seed: int = 0
    since: str | pd.Timestamp | None = None
    until: str | pd.Timestamp | None = None


def parse_period(text: str) -> tuple[str, str]:
    """``2017-01-01:2019-12-31`` → ``("2017-01-01", "2019-12-31")`` (checked dates)."""
    start, sep, end = text.partition(":")
    if not sep or not start.strip() or not end.strip():
        raise ConfigError(f"period {text!r}: write it as START:END, e.g. 2020-01-01:2021-12-31")
    for value in (start, end):
        try:
            pd.Timestamp(value.strip())
        except ValueError as exc:
            raise ConfigError(f"period {text!r}: {value.strip()!r} is not a date") from exc
    return start.strip(), end.strip()


def _label(bars: pd.DataFrame, fallback: str) -> str:
    return str(bars.attrs.get("name") or fallback)


def _returns(closes: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Log returns from consecutive sessions of each close; sessions missing any are dropped."""
    return pd.DataFrame({name: log_returns(close) for name, close in closes.items()}).dropna()


def _check_level(options: CompareOptions) -> None:
    if not 0.5 <= options.level < 1.0:
        raise ConfigError(f"--level must lie in [0.5, 1), got {options.level}")
    if options.reps < 100:
        raise ConfigError(f"--reps must be at least 100, got {options.reps}")


def build_comparison(
    analysis: Analysis,
    options: CompareOptions | None = None,
    extra: Mapping[str, pd.Series] | None = None,
    notes: Sequence[str] = (),
) -> Comparison:
    """Compare the analysis's crypto with its equity index, its large caps and ``extra``.

    ``extra`` maps benchmark labels to closes (any dates; put on the analysis's sessions).
    Benchmarks use the rows shown (``since``/``until``); periods, change points and regimes
    the whole aligned history.
    """
    chosen = options or CompareOptions()
    _check_level(chosen)
    history = analysis.history
    sessions = pd.DatetimeIndex(history.index)
    crypto_name = analysis.crypto_name
    equity_name = str(analysis.meta.get("equity_name", "equity"))
    closes: dict[str, pd.Series] = {
        "crypto": history["crypto_close"],
        equity_name: history["equity_close"],
    }
    for label, close in {**analysis.benchmark_closes, **(extra or {})}.items():
        if label not in closes:
            closes[label] = closes_on(close, sessions, label)
    benchmarks = [name for name in closes if name != "crypto"]
    windows = chosen.windows or tuple(int(w) for w in history.attrs.get("windows", (30, 60, 90)))
    lines = list(notes)
    compared = None
    if len(benchmarks) >= 2:
        returns = _returns(closes)
        shown = returns.loc[
            (returns.index >= pd.Timestamp(chosen.since or returns.index[0]))
            & (returns.index <= pd.Timestamp(chosen.until or returns.index[-1]))
        ] if len(returns) else returns  # fmt: skip
        if len(shown) >= MIN_SESSIONS:
            try:
                compared = compare_benchmarks(
                    shown, benchmarks, crypto=crypto_name, windows=windows,
                    level=chosen.level, reps=chosen.reps, seed=chosen.seed,
                )  # fmt: skip
            except DataError as exc:
                lines.append(f"benchmarks not compared: {exc}")
        else:
            lines.append(
                f"benchmarks not compared: they share {len(shown)} sessions with "
                f"{crypto_name} (at least {MIN_SESSIONS} needed)"
            )
    else:
        lines.append(
            f"benchmarks not compared: only {equity_name} could be loaded; add --benchmark "
            "SOURCE (e.g. --benchmark yahoo:^GSPC) or import the large caps "
            "(comove import csv:SPY.csv --as SPY)"
        )
    pair = history[["crypto_ret", "equity_ret"]].set_axis(["crypto", "benchmark"], axis=1).dropna()
    periods = None
    if chosen.periods:
        periods = compare_periods(
            pair,
            [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in chosen.periods],
            crypto=crypto_name, benchmark=equity_name,
            level=chosen.level, reps=chosen.reps, seed=chosen.seed,
        )  # fmt: skip
    if (chosen.level, chosen.reps, chosen.seed) == (0.95, DEFAULT_REPS, 0):
        regime_results = analysis.whole.regimes_compared
    else:
        regime_results = regime_comparisons(
            history, analysis.signals, analysis.breadth_history["breadth_falling"],
            level=chosen.level, reps=chosen.reps, seed=chosen.seed,
        )  # fmt: skip
    found = {r.name for r in regime_results}
    for regime in REGIME_NAMES:
        if regime not in found:
            lines.append(
                f"the {regime.replace('_', '-')} regime was not compared: fewer than "
                f"{MIN_SESSIONS} known sessions on one side"
                + (
                    " (it needs the liquidity score and breadth: macro series and large caps)"
                    if regime == "risk_on"
                    else ""
                )
            )
    return Comparison(
        crypto_name,
        compared,
        periods,
        regime_results,
        tuple(lines),
        chosen.level,
        shifts_of(pair),
        f"{crypto_name} vs {equity_name}",
    )


def _load_extra(
    sources: Sequence[str], request: PairRequest, settings: Settings
) -> dict[str, pd.Series]:
    extra: dict[str, pd.Series] = {}
    for source in sources:
        bars = load_bars(
            source,
            settings,
            price=request.price,
            drop_last=request.drop_last,
            refresh_live=not request.offline,
            date_format=request.date_format,
            earliest=request.earliest,
        )
        extra[_label(bars, source)] = bars["close"]
    return extra


def compare(
    request: PairRequest,
    settings: Settings,
    options: CompareOptions | None = None,
    *,
    calendar: str | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Load the crypto and the benchmarks of ``request``/``options``, then compare them.

    Without ``options.benchmarks`` the benchmarks are the configured equity index (small
    caps), the configured large caps and the Nasdaq (``^IXIC``, else ``QQQ``); a default
    that cannot be loaded is left out with a note. With them, the first replaces the equity
    side of ``request``. The analysis covers the whole history (periods, regimes);
    ``options.since``/``until`` cut the span the benchmarks are compared over.
    """
    from comove.pipeline.analysis import AnalysisOptions, analyze_inputs

    chosen = options or CompareOptions()
    _check_level(chosen)
    if chosen.benchmarks and request.equity is not None:
        raise ConfigError("--equity and --benchmark both name the index: use --benchmark only")
    pair = replace(request, equity=chosen.benchmarks[0]) if chosen.benchmarks else request
    inputs = load_inputs(pair, settings, progress=progress)
    analysis = analyze_inputs(
        inputs, settings, AnalysisOptions(windows=chosen.windows, calendar=calendar)
    )
    notes: list[str] = []
    extra: dict[str, pd.Series] = {}
    if chosen.benchmarks:
        extra = _load_extra(chosen.benchmarks[1:], pair, settings)
        # Only the benchmarks asked for are compared, not the configured large caps.
        analysis = replace(analysis, benchmark_closes={})
    elif not request.demo:
        try:
            nasdaq = load_chain(
                parse_chain(DEFAULT_NASDAQ),
                settings,
                what="the Nasdaq",
                refresh_live=not request.offline,
                price=request.price,
            )
            extra[_label(nasdaq, "^IXIC")] = nasdaq["close"]
        except (DataError, ProviderError) as exc:
            notes.append(f"the Nasdaq left out: {exc}")
        if not analysis.benchmark_closes:
            notes.append("the large caps left out: none stored or fetched (comove fetch)")
    result = build_comparison(analysis, chosen, extra, notes)
    if result.benchmarks is None and not chosen.periods:
        missing = next(n for n in result.notes if n.startswith("benchmarks not compared"))
        raise DataError(
            "comparing benchmarks needs at least two; "
            + missing.removeprefix("benchmarks not compared: ")
        )
    return result
