"""The analysis of a pair: the table with its signal columns, and everything around it.

:func:`analyze` gives the analysis table (the analytic columns of
:mod:`comove.analytics.table` plus ``signal_<name>`` and ``stance``); :func:`build_analysis`
gives the whole :class:`Analysis` a report, the dashboard, alerts and the CLI show;
:func:`run` loads the inputs of a request first. Signals warm up on the whole aligned
history and their evaluation uses all of it; ``since``/``until`` only cut the rows shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from comove._json import day, finite
from comove.analytics.correlation import (
    LeadLagSummary,
    ewma_corr,
    lag_adjusted_corr,
    lead_lag,
    lead_lag_summary,
    rolling_corr,
    rolling_spearman,
)
from comove.analytics.momentum import matched_shifts, momentum_shifts
from comove.analytics.reading import Reading, latest_reading
from comove.analytics.table import DEFAULT_WINDOWS, analytic_columns, analytic_frames, span
from comove.config import AlertSettings, Settings, SignalConfig
from comove.data.calendar import AlignMode
from comove.errors import ConfigError
from comove.pipeline.inputs import MissingInput, PairInputs, PairRequest, Progress, load_inputs
from comove.signals.regime import correlation_regimes
from comove.signals.rules import (
    SIGNAL_COLUMNS,
    SIGNAL_LABELS,
    SIGNALS,
    STANCE_WORDS,
    SignalCheck,
    SignalResult,
    evaluate_signals,
)

if TYPE_CHECKING:
    from comove.analytics.comparison import Comparison, RegimeComparison
    from comove.signals.evaluate import BacktestResult, ClaimsCheck, Evaluation

#: The inputs some signal conditions need, and those conditions.
NEEDED_BY = {
    "liquidity_score": ("macro", [("synchronized_breakout", "liquidity score")]),
    "breadth": ("large_caps", [("risk_off_alignment", "breadth change")]),
}


def table_columns(windows: Sequence[int]) -> list[str]:
    """The analysis table's columns, in order, for the given correlation windows."""
    return [*analytic_columns(windows), *SIGNAL_COLUMNS]


@dataclass(frozen=True)
class AnalysisOptions:
    """How to analyse: windows and calendar (``None``: from the settings), alignment, span."""

    windows: tuple[int, ...] | None = None
    calendar: str | None = None
    mode: AlignMode = "daily"
    since: str | None = None
    until: str | None = None
    ewma_lambda: float = 0.94
    cost_bps: float = 10.0


@dataclass(frozen=True)
class InputGap:
    """A signal input with no value on the latest session: which conditions it blocks."""

    column: str
    since: pd.Timestamp
    conditions: tuple[str, ...]
    reason: str
    command: str

    def sentence(self) -> str:
        what = self.column.replace("_", " ")
        blocked = "; ".join(self.conditions)
        text = f"{what} has no value since {day(self.since)} ({self.reason}), so {blocked}"
        return text + (f"; add it: {self.command}" if self.command else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.column,
            "since": day(self.since),
            "conditions": list(self.conditions),
            "reason": self.reason,
            "command": self.command,
            "sentence": self.sentence(),
        }


class _History:
    """What is computed on the whole aligned history, once, on first use.

    Every span of one analysis shares this object, so the dashboard's spans and a report's
    sections reuse one Spearman, EWMA, comparison, backtest, event study and claims check;
    ``comove analyze`` never asks for most of them and never pays for them.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        signals: SignalResult,
        *,
        ewma_lambda: float,
        comparison_window: int,
        naive_corr: pd.Series | None,
        cost_bps: float,
        n_boot: int,
        breadth_falling: pd.Series | None = None,
    ) -> None:
        self.table = table
        self.signals = signals
        self.breadth_falling = breadth_falling
        self.ewma_lambda = ewma_lambda
        self.comparison_window = comparison_window
        self.naive_corr = naive_corr
        self.cost_bps = cost_bps
        self.n_boot = n_boot
        self._spearman: dict[int, pd.Series] = {}

    def spearman_at(self, window: int) -> pd.Series:
        # One window at a time: the report draws one, and each costs about 20 ms.
        if window not in self._spearman:
            x, y = self.table["crypto_ret"], self.table["equity_ret"]
            self._spearman[window] = rolling_spearman(x, y, window)
        return self._spearman[window]

    @cached_property
    def spearman(self) -> pd.DataFrame:
        windows = self.table.attrs["windows"]
        return pd.DataFrame({w: self.spearman_at(w) for w in windows}, index=self.table.index)

    @cached_property
    def ewma(self) -> pd.Series:
        x, y = self.table["crypto_ret"], self.table["equity_ret"]
        return ewma_corr(x, y, self.ewma_lambda, min_periods=min(30, max(2, len(x) - 1)))

    @cached_property
    def comparison(self) -> pd.DataFrame:
        main = self.comparison_window
        comparison = pd.DataFrame(index=self.table.index)
        if self.naive_corr is not None:
            comparison["naive"] = self.naive_corr
            comparison["synchronous"] = self.table[f"corr_{main}"]
        else:
            comparison["naive"] = self.table[f"corr_{main}"]
        x, y = self.table["crypto_ret"], self.table["equity_ret"]
        comparison["lag_adjusted"] = lag_adjusted_corr(x, y, main)
        return comparison

    @cached_property
    def checklist(self) -> dict[str, SignalCheck]:
        """Each signal's checklist on the latest session, by name."""
        return {check.name: check for check in self.signals.checklist()}

    @cached_property
    def backtest(self) -> BacktestResult:
        from comove.signals.evaluate import backtest

        return backtest(self.table, self.signals, cost_bps=self.cost_bps)

    @cached_property
    def event_study(self) -> pd.DataFrame:
        from comove.signals.evaluate import event_study

        return event_study(self.table, self.signals, n_boot=self.n_boot)

    @cached_property
    def regimes_compared(self) -> tuple[RegimeComparison, ...]:
        from comove.signals.evaluate import regime_comparisons

        return regime_comparisons(self.table, self.signals, self.breadth_falling)

    @cached_property
    def claims(self) -> ClaimsCheck:
        from comove.signals.evaluate import correlation_claims

        return correlation_claims(self.table, regimes=self.regimes_compared)


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything the report and the CLI show for one pair, computed when first asked for.

    ``table`` is the analysis table (:func:`analyze`) of the rows shown and carries the
    metadata in ``table.attrs``; ``history`` is the same table over the whole aligned
    history. ``comparison`` holds, for ``comparison_window``, the naive (UTC-date)
    correlation, the synchronous one when hourly crypto bars were given, and the
    lag-adjusted one. ``shifts`` lists momentum shifts that matched on both assets.
    ``regimes`` is the correlation regime of each window (1 above, 0 below, NaN unknown;
    see :mod:`comove.signals.regime`), ``gaps`` the inputs missing on the latest session.
    Rolling columns, signals and the evaluation (``backtest``, ``event_study``, ``claims``)
    use the whole history; the reading, lead-lag and shifts use the rows shown.
    """

    history: pd.DataFrame
    signals: SignalResult
    macro_history: pd.DataFrame
    breadth_history: pd.DataFrame
    regimes_history: pd.DataFrame
    whole: _History
    gaps: tuple[InputGap, ...] = ()
    benchmark_closes: Mapping[str, pd.Series] = field(default_factory=dict)
    since: pd.Timestamp | str | None = None
    until: pd.Timestamp | str | None = None
    max_lag: int = 10
    shift_within: int = 3

    def span(
        self, since: str | pd.Timestamp | None = None, until: str | pd.Timestamp | None = None
    ) -> Analysis:
        """The analysis shown from ``since`` to ``until``: the rows cut, the overlay rebased,
        the reading, lead-lag and momentum shifts of those rows. Everything that warms up
        (rolling windows, signals) keeps the values computed on the whole history, and the
        evaluation stays on the whole history, so one computation serves every span.
        """
        return replace(self, since=since, until=until)

    @cached_property
    def table(self) -> pd.DataFrame:
        return span(self.history, self.since, self.until)

    @property
    def ewma_lambda(self) -> float:
        return self.whole.ewma_lambda

    @property
    def comparison_window(self) -> int:
        return self.whole.comparison_window

    @cached_property
    def spearman(self) -> pd.DataFrame:
        return self.whole.spearman.loc[self.table.index]

    def spearman_at(self, window: int) -> pd.Series:
        """The rolling Spearman correlation of one window (a column of :attr:`spearman`)."""
        return self.whole.spearman_at(window).loc[self.table.index]

    @cached_property
    def ewma(self) -> pd.Series:
        return self.whole.ewma.loc[self.table.index]

    @cached_property
    def comparison(self) -> pd.DataFrame:
        return self.whole.comparison.loc[self.table.index]

    @cached_property
    def macro(self) -> pd.DataFrame:
        return self.macro_history.loc[self.table.index]

    @cached_property
    def breadth(self) -> pd.DataFrame:
        return self.breadth_history.loc[self.table.index]

    @cached_property
    def regimes(self) -> pd.DataFrame:
        return self.regimes_history.loc[self.table.index]

    @property
    def _lag_limit(self) -> int:
        return max(0, min(self.max_lag, len(self.table) - 4))

    @cached_property
    def lead_lag(self) -> pd.Series:
        return lead_lag(self.table["crypto_ret"], self.table["equity_ret"], self._lag_limit)

    @cached_property
    def lead_lag_best(self) -> LeadLagSummary:
        x, y = self.table["crypto_ret"], self.table["equity_ret"]
        return lead_lag_summary(x, y, self._lag_limit)

    @cached_property
    def shifts(self) -> pd.DataFrame:
        table = self.table
        return matched_shifts(
            momentum_shifts(table["rsi_crypto"], table["macd_hist_crypto"]),
            momentum_shifts(table["rsi_equity"], table["macd_hist_equity"]),
            within=self.shift_within,
        )

    @cached_property
    def reading(self) -> Reading:
        return latest_reading(self.table)

    @cached_property
    def commentary(self) -> Comparison:
        """The crypto against the equity index and the large caps, and in the commentary's
        regimes (:func:`comove.pipeline.compare.build_comparison` with its defaults)."""
        from comove.pipeline.compare import CompareOptions, build_comparison

        return build_comparison(self, CompareOptions(since=self.since, until=self.until))

    @property
    def backtest(self) -> BacktestResult:
        return self.whole.backtest

    @property
    def event_study(self) -> pd.DataFrame:
        return self.whole.event_study

    @property
    def claims(self) -> ClaimsCheck:
        return self.whole.claims

    @property
    def meta(self) -> dict[str, Any]:
        return {str(key): value for key, value in self.table.attrs.items()}

    @property
    def evaluation(self) -> Evaluation:
        from comove.signals.evaluate import Evaluation

        return Evaluation(self.signals, self.backtest, self.event_study, self.claims)

    @property
    def crypto_name(self) -> str:
        return str(self.meta.get("crypto_name", "crypto"))

    def stance(self) -> tuple[str, str]:
        """The latest stance as a word and, when inputs are missing, what it lacked."""
        value = float(self.table["stance"].iloc[-1])
        word = "unknown" if math.isnan(value) else STANCE_WORDS[value]
        caveat = ""
        if self.gaps:
            lacking = " and ".join(g.column.replace("_", " ") for g in self.gaps)
            caveat = f"computed without the {lacking}"
            if any(g.column == "liquidity_score" for g in self.gaps):
                caveat += ": it can be neutral or reduce, never bullish"
        return word, caveat

    def verdict(self) -> dict[str, Any]:
        """The signals' states (since when) and the stance of the latest session."""
        checks = self.whole.checklist
        word, caveat = self.stance()
        value = finite(self.table["stance"].iloc[-1])
        return {
            "date": day(self.table.index[-1]),
            "signals": [
                {
                    "signal": name,
                    "label": SIGNAL_LABELS[name],
                    "state": checks[name].state,
                    "since": day(checks[name].since),
                    "summary": checks[name].summary,
                }
                for name in SIGNALS
            ],
            "stance": {
                "word": word,
                "exposure": value,
                "since": day(checks["stance"].since),
                "crypto": self.crypto_name,
                "caveat": caveat,
            },
            "gaps": [gap.to_dict() for gap in self.gaps],
        }

    def to_dict(self) -> dict[str, Any]:
        """The latest reading, lead-lag and verdict, as the CLI's JSON and the API give it."""
        return {
            **self.reading.to_dict(),
            "lead_lag": self.lead_lag_best.to_dict(),
            "verdict": self.verdict(),
            "stance": finite(self.table["stance"].iloc[-1]),
        }


def _gaps(full: pd.DataFrame, missing: Sequence[MissingInput]) -> tuple[InputGap, ...]:
    gaps: list[InputGap] = []
    absent = {m.what: m for m in missing}
    for column, (kind, needs) in NEEDED_BY.items():
        values = full[column].to_numpy(dtype="float64")
        if len(values) == 0 or not math.isnan(values[-1]):
            continue
        defined = ~pd.isna(values)
        start = 0 if not defined.any() else int(len(values) - (defined[::-1].argmax()))
        conditions = tuple(
            f"{SIGNAL_LABELS[signal].lower()} cannot use its {label} condition"
            for signal, label in needs
        )
        entry = absent.get(kind)
        if entry is not None:
            reason = f"not stored: {entry.detail}"
            command = entry.command
        elif defined.any():
            reason = "its inputs stopped updating or went stale"
            command = "comove fetch"
        else:
            reason = "too little history for its inputs"
            command = ""
        gaps.append(InputGap(column, pd.Timestamp(full.index[start]), conditions, reason, command))
    return tuple(gaps)


def _frames(
    crypto: pd.DataFrame,
    equity: pd.DataFrame,
    windows: Sequence[int],
    *,
    calendar: str,
    mode: AlignMode,
    crypto_intraday: pd.DataFrame | None,
    macro: Mapping[str, pd.Series] | None,
    large_caps: pd.DataFrame | None,
    signal_config: SignalConfig | None,
    **momentum: Any,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, SignalResult]:
    frames = analytic_frames(
        crypto, equity, windows, calendar=calendar, mode=mode,
        crypto_intraday=crypto_intraday, macro=macro, large_caps=large_caps, **momentum,
    )  # fmt: skip
    signals = evaluate_signals(frames.table, signal_config)
    used = frames.table.attrs["windows"]
    full = frames.table.join(signals.columns)[table_columns(used)]
    full.attrs = dict(frames.table.attrs)
    return full, frames.macro, frames.breadth, signals


def analyze(
    crypto: pd.DataFrame,
    equity: pd.DataFrame,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    *,
    calendar: str = "XNYS",
    mode: AlignMode = "daily",
    crypto_intraday: pd.DataFrame | None = None,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
    rsi_period: int = 14,
    macd_periods: tuple[int, int, int] = (12, 26, 9),
    volume_window: int = 20,
    macro: Mapping[str, pd.Series] | None = None,
    large_caps: pd.DataFrame | None = None,
    signal_config: SignalConfig | None = None,
) -> pd.DataFrame:
    """Build the analysis table for a crypto / equity pair.

    Parameters
    ----------
    crypto, equity
        Bars frames, e.g. from :func:`comove.read_bars`.
    windows
        Rolling correlation/beta windows in aligned sessions.
    calendar, mode, crypto_intraday
        How the crypto series is put on equity sessions (see :func:`comove.align`).
    since, until
        Limit the rows returned. Indicators and signals are computed on the whole history
        first, so the rows before ``since`` serve as warm-up; the overlay is rebased to 100
        on the first row.
    rsi_period, macd_periods, volume_window
        Momentum settings (see :func:`comove.analytics.table.analytic_frames`).
    macro
        FRED series by id (``WALCL``, ``WTREGEN``, ``RRPONTSYD``, ``DGS2``, ``NFCI``,
        ``BAMLH0A0HYM2``, ``DTWEXBGS``) with ``attrs["units"]``; each is used only from the
        session after its release. Without them ``liquidity_score`` is NaN.
    large_caps
        S&P 500 (or SPY) bars for ``breadth``; NaN without.
    signal_config
        Thresholds of the signals (:class:`comove.config.SignalConfig`; defaults).

    Returns
    -------
    DataFrame
        Index ``date``; columns as :func:`table_columns`. ``attrs`` carries ``mode``,
        ``calendar``, ``windows``, the names and sources of both series and ``notes``.
    """
    full, _, _, _ = _frames(
        crypto, equity, windows, calendar=calendar, mode=mode, crypto_intraday=crypto_intraday,
        macro=macro, large_caps=large_caps, signal_config=signal_config,
        rsi_period=rsi_period, macd_periods=macd_periods, volume_window=volume_window,
    )  # fmt: skip
    return span(full, since, until)


def build_analysis(
    crypto: pd.DataFrame,
    equity: pd.DataFrame,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    *,
    calendar: str = "XNYS",
    mode: AlignMode = "daily",
    crypto_intraday: pd.DataFrame | None = None,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
    ewma_lambda: float = 0.94,
    max_lag: int = 10,
    shift_within: int = 3,
    macro: Mapping[str, pd.Series] | None = None,
    large_caps: pd.DataFrame | None = None,
    cost_bps: float = 10.0,
    n_boot: int = 1000,
    signal_config: SignalConfig | None = None,
    alerts: AlertSettings | None = None,
    missing: Sequence[MissingInput] = (),
) -> Analysis:
    """Run the whole analysis of a pair: the table plus the statistics around it.

    ``macro`` (FRED series by id, with units) and ``large_caps`` (S&P 500 bars) feed the
    liquidity score and breadth; see :func:`analyze`. The signals' evaluation (backtest with
    ``cost_bps`` per unit of turnover, event study with ``n_boot`` bootstrap replicates, the
    correlation claims check) runs over the whole aligned history. ``alerts`` sets the
    correlation regime levels; ``missing`` names inputs that could not be loaded.
    """
    full, macro_table, breadth_table, signals = _frames(
        crypto, equity, windows, calendar=calendar, mode=mode, crypto_intraday=crypto_intraday,
        macro=macro, large_caps=large_caps, signal_config=signal_config,
    )  # fmt: skip
    used = full.attrs["windows"]
    main = used[len(used) // 2]
    naive_corr = None
    if mode == "synchronous":
        daily = analyze(crypto, equity, [main], calendar=calendar)
        naive = rolling_corr(daily["crypto_ret"], daily["equity_ret"], main)
        naive_corr = naive.reindex(full.index)
    levels = alerts or AlertSettings()
    history = _History(
        full, signals, ewma_lambda=ewma_lambda, comparison_window=main,
        naive_corr=naive_corr, cost_bps=cost_bps, n_boot=n_boot,
        breadth_falling=breadth_table["breadth_falling"],
    )  # fmt: skip
    whole = Analysis(
        history=full,
        signals=signals,
        macro_history=macro_table,
        breadth_history=breadth_table,
        regimes_history=correlation_regimes(
            full, levels.correlation_threshold, levels.correlation_exit
        ),
        whole=history,
        gaps=_gaps(full, missing),
        benchmark_closes=(
            {str(large_caps.attrs.get("name") or "large caps"): large_caps["close"]}
            if large_caps is not None and not large_caps.empty
            else {}
        ),
        max_lag=max_lag,
        shift_within=shift_within,
    )
    return whole.span(since, until)


def analyze_inputs(
    inputs: PairInputs, settings: Settings, options: AnalysisOptions | None = None
) -> Analysis:
    """:func:`build_analysis` of loaded inputs with the settings' windows, signals and levels."""
    chosen = options or AnalysisOptions()
    if chosen.mode == "synchronous" and inputs.hourly is None:
        raise ConfigError(
            "--mode synchronous needs hourly crypto bars: add --crypto-hourly csv:FILE "
            "(or import them: comove import csv:FILE --as SYMBOL)"
        )
    return build_analysis(
        inputs.crypto,
        inputs.equity,
        chosen.windows or settings.windows,
        calendar=chosen.calendar or settings.calendar,
        mode=chosen.mode,
        crypto_intraday=inputs.hourly,
        since=chosen.since,
        until=chosen.until,
        ewma_lambda=chosen.ewma_lambda,
        macro=inputs.macro,
        large_caps=inputs.large_caps,
        cost_bps=chosen.cost_bps,
        signal_config=settings.signals,
        alerts=settings.alerts,
        missing=inputs.missing,
    )


def run(
    request: PairRequest,
    settings: Settings,
    options: AnalysisOptions | None = None,
    *,
    progress: Progress | None = None,
) -> Analysis:
    """Load the inputs of ``request`` and analyse them: what every view calls."""
    chosen = options or AnalysisOptions()
    inputs = load_inputs(request, settings, mode=chosen.mode, progress=progress)
    if progress is None:
        return analyze_inputs(inputs, settings, chosen)
    with progress("Aligning sessions and computing the analysis"):
        return analyze_inputs(inputs, settings, chosen)
