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
from typing import Any

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
from comove.signals.evaluate import (
    BacktestResult,
    ClaimsCheck,
    Evaluation,
    backtest,
    correlation_claims,
    event_study,
)
from comove.signals.regime import correlation_regimes
from comove.signals.rules import (
    SIGNAL_COLUMNS,
    SIGNAL_LABELS,
    SIGNALS,
    STANCE_WORDS,
    SignalResult,
    evaluate_signals,
)

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


@dataclass(frozen=True)
class Analysis:
    """Everything the report and the CLI show for one pair.

    ``table`` is the analysis table (:func:`analyze`) and carries the metadata in
    ``table.attrs``. ``comparison`` holds, for ``comparison_window``, the naive (UTC-date)
    correlation, the synchronous one when hourly crypto bars were given, and the
    lag-adjusted one. ``shifts`` lists momentum shifts that matched on both assets.
    ``regimes`` is the correlation regime of each window (1 above, 0 below, NaN unknown;
    see :mod:`comove.signals.regime`), ``gaps`` the inputs missing on the latest session.
    """

    table: pd.DataFrame
    spearman: pd.DataFrame
    ewma: pd.Series
    ewma_lambda: float
    lead_lag: pd.Series
    lead_lag_best: LeadLagSummary
    comparison: pd.DataFrame
    comparison_window: int
    shifts: pd.DataFrame
    shift_within: int
    reading: Reading
    macro: pd.DataFrame
    breadth: pd.DataFrame
    signals: SignalResult
    backtest: BacktestResult
    event_study: pd.DataFrame
    claims: ClaimsCheck
    regimes: pd.DataFrame = field(default_factory=pd.DataFrame)
    gaps: tuple[InputGap, ...] = ()
    max_lag: int = 10

    def span(
        self, since: str | pd.Timestamp | None = None, until: str | pd.Timestamp | None = None
    ) -> Analysis:
        """The analysis shown from ``since`` to ``until``: the rows cut, the overlay rebased,
        the reading, lead-lag and momentum shifts of those rows. Everything that warms up
        (rolling windows, signals) keeps the values computed on the whole history, and the
        evaluation stays on the whole history, so one computation serves every span.
        """
        table = span(self.table, since, until)
        rows = table.index
        x, y = table["crypto_ret"], table["equity_ret"]
        lag_limit = max(0, min(self.max_lag, len(table) - 4))
        return replace(
            self,
            table=table,
            spearman=self.spearman.loc[rows],
            ewma=self.ewma.loc[rows],
            lead_lag=lead_lag(x, y, lag_limit),
            lead_lag_best=lead_lag_summary(x, y, lag_limit),
            comparison=self.comparison.loc[rows],
            shifts=matched_shifts(
                momentum_shifts(table["rsi_crypto"], table["macd_hist_crypto"]),
                momentum_shifts(table["rsi_equity"], table["macd_hist_equity"]),
                within=self.shift_within,
            ),
            reading=latest_reading(table),
            macro=self.macro.loc[rows],
            breadth=self.breadth.loc[rows],
            regimes=self.regimes.loc[rows],
        )

    @property
    def meta(self) -> dict[str, Any]:
        return {str(key): value for key, value in self.table.attrs.items()}

    @property
    def evaluation(self) -> Evaluation:
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
        checks = {check.name: check for check in self.signals.checklist()}
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
    x, y = full["crypto_ret"], full["equity_ret"]
    main = used[len(used) // 2]
    comparison = pd.DataFrame(index=full.index)
    if mode == "synchronous":
        daily = analyze(crypto, equity, [main], calendar=calendar)
        comparison["naive"] = rolling_corr(daily["crypto_ret"], daily["equity_ret"], main).reindex(
            full.index
        )
        comparison["synchronous"] = full[f"corr_{main}"]
    else:
        comparison["naive"] = full[f"corr_{main}"]
    comparison["lag_adjusted"] = lag_adjusted_corr(x, y, main)
    levels = alerts or AlertSettings()
    whole = Analysis(
        table=full,
        spearman=pd.DataFrame({w: rolling_spearman(x, y, w) for w in used}, index=full.index),
        ewma=ewma_corr(x, y, ewma_lambda, min_periods=min(30, max(2, len(full) - 1))),
        ewma_lambda=ewma_lambda,
        lead_lag=pd.Series(dtype="float64"),
        lead_lag_best=LeadLagSummary(0, math.nan, 0, math.nan, math.nan, math.nan),
        comparison=comparison,
        comparison_window=main,
        shifts=pd.DataFrame(),
        shift_within=shift_within,
        reading=latest_reading(full),
        macro=macro_table,
        breadth=breadth_table,
        signals=signals,
        backtest=backtest(full, signals, cost_bps=cost_bps),
        event_study=event_study(full, signals, n_boot=n_boot),
        claims=correlation_claims(full, crypto_only_moves=signals.crypto_only_moves),
        regimes=correlation_regimes(full, levels.correlation_threshold, levels.correlation_exit),
        gaps=_gaps(full, missing),
        max_lag=max_lag,
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
