"""The commentary's questions, answered from returns: small caps or just stocks, did the
link change, and is it different in the regimes the commentary names.

Everything here takes aligned, NaN-free log returns (the pipeline prepares them) and gives
domain types that serialise themselves (``to_dict``) and say their answer in words
(``words``). The statistics come from :mod:`comove.analytics.compare`; every interval is
given twice, Fisher's (independent, normal returns) and the stationary block bootstrap's
(keeps fat tails and volatility clustering), and :attr:`CorrelationEstimate.disagree`
flags where the two differ materially.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from comove._json import day, finite
from comove.analytics.compare import (
    DEFAULT_REPS,
    BootstrapInterval,
    SpreadBeta,
    TestResult,
    bootstrap_corr_draws,
    bootstrap_shared_draws,
    bootstrap_split_draws,
    change_points,
    fisher_difference,
    interval_from,
    partial_corr,
    pearson,
    spread_beta,
    steiger_z,
    student_t_two_sided,
    williams_t,
)
from comove.analytics.correlation import fisher_ci, rolling_corr
from comove.errors import DataError

#: Fewest sessions a period, a regime or a window may have.
MIN_SESSIONS = 10

#: The bootstrap and Fisher intervals "disagree" when one is this much wider than the other.
WIDTH_RATIO = 1.25

#: Change points: shortest segment (sessions), significance level, most changes reported.
CHANGE_MIN_SIZE = 60
CHANGE_LEVEL = 0.05
CHANGE_MAX = 5

#: How each method is named in the report and the CLI, with its assumptions.
METHODS = {
    "fisher": (
        "Fisher band: tanh(atanh(r) ± z/√(n−3)). Assumes independent, jointly normal returns; "
        "fat tails and volatility clustering make it too narrow."
    ),
    "bootstrap": (
        "Stationary block bootstrap (Politis & Romano 1994), percentile interval; mean block "
        "length chosen by Politis & White (2004, corrected 2009) on the products of "
        "standardised returns. Assumes only stationarity and weak dependence."
    ),
    "williams": (
        "Williams' t (Steiger 1980, eq. 7) for two correlations sharing the crypto, using the "
        "benchmarks' own correlation; df = n − 3. Steiger's Z (eq. 14, pooled r̄) beside it."
    ),
    "partial": (
        "Partial correlation of the crypto and the first benchmark with the second held "
        "fixed; t = r√((n−3)/(1−r²)), df = n − 3. Spread beta: OLS of the crypto on the "
        "first-minus-second return spread, classical standard error."
    ),
    "fisher_z": (
        "Fisher's z test for two correlations from independent samples (periods, regimes): "
        "(atanh r1 − atanh r2)/√(1/(n1−3) + 1/(n2−3))."
    ),
    "change_points": (
        f"Change points: binary segmentation of the CUSUM of x·y/(σx σy), each return "
        f"divided by its EWMA volatility (λ 0.94) known the session before; Newey–West "
        f"long-run variance, Kolmogorov p-value, split when p < {CHANGE_LEVEL:g}, segments of "
        f"at least {CHANGE_MIN_SIZE} sessions, at most {CHANGE_MAX} changes. Conservative in "
        f"small samples."
    ),
}


def slug(label: str) -> str:
    """A column-safe name for a benchmark label: ``^RUT`` → ``rut``, ``csv:SPY.csv`` → ``spy``."""
    base = label.rsplit(":", 1)[-1]
    if re.search(r"\.(csv|parquet)$", base, flags=re.IGNORECASE):
        base = base.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return re.sub(r"[^a-z0-9]+", "_", base.lower()).strip("_") or "series"


def _arrays(returns: pd.DataFrame, *columns: str) -> list[np.ndarray]:
    return [returns[c].to_numpy(dtype="float64") for c in columns]


def _check_moves(returns: pd.DataFrame, labels: dict[str, str], where: str) -> None:
    """A series whose returns are all equal has no correlation: say which and where."""
    for column, label in labels.items():
        if not returns[column].std() > 0:
            raise DataError(
                f"{label} does not move {where} ({returns.index[0].date()} to "
                f"{returns.index[-1].date()}): its correlation is undefined"
            )


@dataclass(frozen=True)
class CorrelationEstimate:
    """One correlation over some sessions, with its Fisher band and its bootstrap interval."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    sessions: int
    r: float
    fisher: tuple[float, float]
    bootstrap: BootstrapInterval

    @property
    def fisher_width(self) -> float:
        return self.fisher[1] - self.fisher[0]

    @property
    def width_ratio(self) -> float:
        """Bootstrap width over Fisher width (> 1: the Fisher band is too narrow)."""
        width = self.fisher_width
        return self.bootstrap.width / width if width > 0 else math.nan

    @property
    def disagree(self) -> bool:
        """The intervals differ materially: widths apart by ``WIDTH_RATIO`` or more, or one
        excludes zero while the other does not."""
        ratio = self.width_ratio
        if not math.isfinite(ratio):
            return False
        fisher_zero = self.fisher[0] <= 0.0 <= self.fisher[1]
        return (
            ratio >= WIDTH_RATIO
            or ratio <= 1.0 / WIDTH_RATIO
            or fisher_zero != self.bootstrap.contains(0.0)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "start": day(self.start),
            "end": day(self.end),
            "sessions": self.sessions,
            "r": finite(self.r),
            "fisher_low": finite(self.fisher[0]),
            "fisher_high": finite(self.fisher[1]),
            "bootstrap": self.bootstrap.to_dict(),
            "width_ratio": finite(self.width_ratio),
            "disagree": self.disagree,
        }

    def interval_words(self) -> str:
        b = self.bootstrap
        text = (
            f"r {self.r:+.2f} over {self.sessions} sessions, Fisher [{self.fisher[0]:+.2f}, "
            f"{self.fisher[1]:+.2f}], bootstrap [{b.low:+.2f}, {b.high:+.2f}]"
        )
        if self.disagree:
            text += f" (bootstrap {self.width_ratio:.2f}× the Fisher width: they disagree)"
        return text


def _estimate_from(
    label: str,
    dates: pd.Index,
    x: np.ndarray,
    y: np.ndarray,
    draws: np.ndarray,
    block: float,
    level: float,
) -> CorrelationEstimate:
    """The estimate of corr(x, y) on ``dates`` from bootstrap ``draws`` already made."""
    r = pearson(x, y)
    return CorrelationEstimate(
        label,
        pd.Timestamp(dates[0]),
        pd.Timestamp(dates[-1]),
        len(x),
        r,
        fisher_ci(r, len(x), level),
        interval_from(draws, level, block),
    )


def estimate(
    x: np.ndarray,
    y: np.ndarray,
    index: pd.Index,
    label: str,
    *,
    level: float,
    reps: int,
    seed: int,
) -> CorrelationEstimate:
    draws, block = bootstrap_corr_draws(x, y, reps=reps, seed=seed)
    return _estimate_from(label, index, x, y, draws, block, level)


@dataclass(frozen=True)
class Difference:
    """``first`` minus ``second``: the difference of two correlations, its tests and interval."""

    first: str
    second: str
    estimate: float
    tests: tuple[TestResult, ...]
    bootstrap: BootstrapInterval
    level: float

    @property
    def significant(self) -> bool:
        """Every test rejects equality at ``1 − level`` and the bootstrap interval excludes 0."""
        return all(t.p_value < 1.0 - self.level for t in self.tests) and not (
            self.bootstrap.contains(0.0)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "difference": finite(self.estimate),
            "tests": [t.to_dict() for t in self.tests],
            "bootstrap": self.bootstrap.to_dict(),
            "significant": self.significant,
        }

    def evidence(self) -> str:
        tests = ", ".join(f"{t.method} p = {t.p_value:.3g}" for t in self.tests)
        b = self.bootstrap
        return (
            f"difference {self.estimate:+.3f}; {tests}; bootstrap {b.level:.0%} "
            f"[{b.low:+.3f}, {b.high:+.3f}]"
        )


def _shared_difference(
    crypto: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    labels: tuple[str, str],
    *,
    level: float,
    reps: int,
    seed: int,
) -> Difference:
    n = len(crypto)
    r_a, r_b, r_ab = pearson(crypto, a), pearson(crypto, b), pearson(a, b)
    first, second, block = bootstrap_shared_draws(crypto, a, b, reps=reps, seed=seed)
    return Difference(
        labels[0],
        labels[1],
        r_a - r_b,
        (williams_t(r_a, r_b, r_ab, n), steiger_z(r_a, r_b, r_ab, n)),
        interval_from(first - second, level, block),
        level,
    )


@dataclass(frozen=True)
class Partial:
    """The crypto's correlation with ``first`` once ``given`` is held fixed."""

    first: str
    given: str
    r: float
    test: TestResult
    fisher: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "given": self.given,
            "r": finite(self.r),
            "test": self.test.to_dict(),
            "fisher_low": finite(self.fisher[0]),
            "fisher_high": finite(self.fisher[1]),
        }


def _partial(
    crypto: np.ndarray, a: np.ndarray, b: np.ndarray, labels: tuple[str, str], level: float
) -> Partial:
    n = len(crypto)
    r = partial_corr(crypto, a, b)
    t = r * math.sqrt((n - 3) / (1.0 - r * r)) if abs(r) < 1 else math.nan
    # One variable held fixed costs one degree of freedom: n − 1 pairs in the Fisher band.
    return Partial(
        labels[0],
        labels[1],
        r,
        TestResult("t", t, student_t_two_sided(t, n - 3), float(n - 3)),
        fisher_ci(r, n - 1, level),
    )


@dataclass(frozen=True)
class BenchmarkComparison:
    """The crypto against several benchmarks: side by side, differences, partial, spread beta.

    The first benchmark is the one under test (small caps), the second the reference (large
    caps); each other benchmark is compared with the first too. ``whole`` covers the common
    span, ``latest`` the last ``w`` sessions for each window. ``rolling`` holds the columns
    ``corr_<slug>_<w>`` (each benchmark), ``corr_diff_<w>`` (first − second) and
    ``partial_<w>`` (crypto and first, second held fixed); slugs in ``slugs``.
    """

    crypto: str
    benchmarks: tuple[str, ...]
    slugs: tuple[str, ...]
    whole: tuple[CorrelationEstimate, ...]
    differences: tuple[Difference, ...]
    latest: Mapping[int, tuple[CorrelationEstimate, ...]]
    latest_differences: Mapping[int, tuple[Difference, ...]]
    partial: Partial
    spread: SpreadBeta
    rolling: pd.DataFrame
    level: float

    @property
    def small_caps_matter_more(self) -> bool:
        main = self.differences[0]
        return (
            main.significant
            and main.estimate > 0
            and self.partial.test.p_value < (1.0 - self.level)
        )

    def words(self) -> list[str]:
        small, large = self.benchmarks[0], self.benchmarks[1]
        main = self.differences[0]
        r_small, r_large = self.whole[0].r, self.whole[1].r
        span = f"{self.whole[0].start.date()} to {self.whole[0].end.date()}"
        if self.small_caps_matter_more:
            verdict = (
                f"Yes: {self.crypto} moves more with {small} than with {large} "
                f"({r_small:+.2f} vs {r_large:+.2f}, {span}), and {small} adds to what "
                f"{large} explains"
            )
        elif main.significant and main.estimate < 0:
            verdict = (
                f"No: {self.crypto} moves more with {large} than with {small} "
                f"({r_large:+.2f} vs {r_small:+.2f}, {span})"
            )
        else:
            verdict = (
                f"No evidence that {small} matters more than {large} for {self.crypto}: "
                f"{r_small:+.2f} vs {r_large:+.2f} ({span})"
            )
        lines = [verdict + ".", f"{small} − {large}: {main.evidence()}."]
        for diff in self.differences[1:]:
            lines.append(f"{diff.first} − {diff.second}: {diff.evidence()}.")
        p = self.partial
        lines.append(
            f"Partial correlation of {self.crypto} and {small} with {large} held fixed: "
            f"{p.r:+.3f} (t p = {p.test.p_value:.3g})"
            + (
                f": {small} adds nothing detectable beyond {large}."
                if p.test.p_value >= 1.0 - self.level
                else f": {small} adds a small but detectable part beyond {large}."
                if abs(p.r) < 0.1
                else f": {small} carries information {large} does not."
            )
        )
        s = self.spread
        lines.append(
            f"Beta of {self.crypto} on the {small} − {large} return spread: {s.beta:+.2f} "
            f"(SE {s.stderr:.2f}, p = {s.p_value:.3g})."
        )
        for w, diffs in self.latest_differences.items():
            d = diffs[0]
            lines.append(f"Latest {w} sessions, {d.first} − {d.second}: {d.evidence()}.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "crypto": self.crypto,
            "benchmarks": list(self.benchmarks),
            "slugs": list(self.slugs),
            "whole": [e.to_dict() for e in self.whole],
            "differences": [d.to_dict() for d in self.differences],
            "latest": {str(w): [e.to_dict() for e in es] for w, es in self.latest.items()},
            "latest_differences": {
                str(w): [d.to_dict() for d in ds] for w, ds in self.latest_differences.items()
            },
            "partial": self.partial.to_dict(),
            "spread_beta": self.spread.to_dict(),
            "small_caps_matter_more": self.small_caps_matter_more,
            "words": self.words(),
        }


def rolling_comparison(
    returns: pd.DataFrame, benchmarks: Sequence[str], slugs: Sequence[str], windows: Sequence[int]
) -> pd.DataFrame:
    """The rolling columns of :class:`BenchmarkComparison` (see there)."""
    crypto = returns["crypto"]
    columns: dict[str, pd.Series] = {}
    for w in windows:
        corrs = [rolling_corr(crypto, returns[b], w) for b in benchmarks]
        for name, corr in zip(slugs, corrs, strict=True):
            columns[f"corr_{name}_{w}"] = corr
        between = rolling_corr(returns[benchmarks[0]], returns[benchmarks[1]], w)
        columns[f"corr_diff_{w}"] = corrs[0] - corrs[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            columns[f"partial_{w}"] = (corrs[0] - corrs[1] * between) / np.sqrt(
                (1.0 - corrs[1] ** 2) * (1.0 - between**2)
            )
    table = pd.DataFrame(columns, index=returns.index)
    table.index.name = "date"
    return table


def compare_benchmarks(
    returns: pd.DataFrame,
    benchmarks: Sequence[str],
    *,
    crypto: str = "crypto",
    windows: Sequence[int] = (30, 60, 90),
    level: float = 0.95,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
) -> BenchmarkComparison:
    """Compare the crypto's correlation with each of ``benchmarks`` (columns of ``returns``).

    ``returns`` holds a ``crypto`` column and one column per benchmark, NaN-free log returns
    on common sessions.
    """
    if len(benchmarks) < 2:
        raise DataError(
            f"comparing benchmarks needs at least two, got {len(benchmarks)}: "
            "add --benchmark (e.g. --benchmark yahoo:^GSPC)"
        )
    if len(returns) < MIN_SESSIONS:
        raise DataError(
            f"the benchmarks share only {len(returns)} sessions with {crypto}; "
            f"at least {MIN_SESSIONS} are needed"
        )
    _check_moves(returns, {"crypto": crypto, **{b: b for b in benchmarks}}, "over the span")
    names = [slug(b) for b in benchmarks]
    slugs = tuple(n if names.count(n) == 1 else f"{n}_{i + 1}" for i, n in enumerate(names))
    x, *others = _arrays(returns, "crypto", *benchmarks)
    index = returns.index
    whole = tuple(
        estimate(x, other, index, label, level=level, reps=reps, seed=seed + i)
        for i, (label, other) in enumerate(zip(benchmarks, others, strict=True))
    )
    pairs = [(0, j) for j in range(1, len(benchmarks))]
    differences = tuple(
        _shared_difference(
            x, others[i], others[j], (benchmarks[i], benchmarks[j]),
            level=level, reps=reps, seed=seed + 100 + j,
        )
        for i, j in pairs
    )  # fmt: skip
    latest: dict[int, tuple[CorrelationEstimate, ...]] = {}
    latest_diffs: dict[int, tuple[Difference, ...]] = {}
    for w in windows:
        if w > len(x) or w < MIN_SESSIONS:
            continue
        tail = slice(len(x) - w, len(x))
        latest[w] = tuple(
            estimate(
                x[tail], other[tail], index[tail], label, level=level, reps=reps, seed=seed + w
            )
            for label, other in zip(benchmarks, others, strict=True)
        )
        latest_diffs[w] = tuple(
            _shared_difference(
                x[tail], others[i][tail], others[j][tail], (benchmarks[i], benchmarks[j]),
                level=level, reps=reps, seed=seed + w + j,
            )
            for i, j in pairs
        )  # fmt: skip
    return BenchmarkComparison(
        crypto=crypto,
        benchmarks=tuple(benchmarks),
        slugs=slugs,
        whole=whole,
        differences=differences,
        latest=latest,
        latest_differences=latest_diffs,
        partial=_partial(x, others[0], others[1], (benchmarks[0], benchmarks[1]), level),
        spread=spread_beta(x, others[0], others[1]),
        rolling=rolling_comparison(returns, benchmarks, slugs, windows),
        level=level,
    )


# -- periods and change points ---------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    """A change point: the first session of the new regime and the correlation either side."""

    date: pd.Timestamp
    statistic: float
    p_value: float
    before: float
    after: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": day(self.date),
            "statistic": finite(self.statistic),
            "p_value": finite(self.p_value),
            "before": finite(self.before),
            "after": finite(self.after),
        }


@dataclass(frozen=True)
class PeriodComparison:
    """Correlations of one pair over periods and the differences of consecutive ones."""

    crypto: str
    benchmark: str
    periods: tuple[CorrelationEstimate, ...]
    differences: tuple[Difference, ...]
    level: float
    notes: tuple[str, ...] = ()

    def words(self) -> list[str]:
        lines = [
            f"{self.crypto} vs {self.benchmark}, {e.label}: {e.interval_words()}."
            for e in self.periods
        ]
        lines += list(self.notes)
        for d in self.differences:
            verdict = "changed" if d.significant else "no significant change"
            lines.append(f"{d.first} vs {d.second}: {verdict}; {d.evidence()}.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "crypto": self.crypto,
            "benchmark": self.benchmark,
            "periods": [e.to_dict() for e in self.periods],
            "differences": [d.to_dict() for d in self.differences],
            "notes": list(self.notes),
            "words": self.words(),
        }


def _period_label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    return f"{start.date()}:{end.date()}"


def shifts_of(returns: pd.DataFrame) -> tuple[Shift, ...]:
    """The change points of corr(crypto, benchmark) in ``returns``, with the correlation of
    the segments either side (none when there are fewer than two minimum segments)."""
    if len(returns) < 2 * CHANGE_MIN_SIZE:
        return ()
    x, y = _arrays(returns, "crypto", "benchmark")
    index = returns.index
    points = change_points(
        x, y, min_size=CHANGE_MIN_SIZE, level=CHANGE_LEVEL, max_changes=CHANGE_MAX
    )
    edges = [0, *(p.row for p in points), len(x)]
    out = []
    for k, point in enumerate(points):
        before = slice(edges[k], edges[k + 1])
        after = slice(edges[k + 1], edges[k + 2])
        out.append(
            Shift(
                pd.Timestamp(index[point.row]),
                point.statistic,
                point.p_value,
                pearson(x[before], y[before]),
                pearson(x[after], y[after]),
            )
        )
    return tuple(out)


def compare_periods(
    returns: pd.DataFrame,
    periods: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
    *,
    crypto: str = "crypto",
    benchmark: str = "benchmark",
    level: float = 0.95,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
) -> PeriodComparison:
    """Correlation of ``returns["crypto"]`` and ``returns["benchmark"]`` in each period.

    Consecutive periods are compared with Fisher's z (independent samples) and the
    difference of independent bootstrap draws.
    """
    x_all, y_all = _arrays(returns, "crypto", "benchmark")
    index = returns.index
    first, last = pd.Timestamp(index[0]), pd.Timestamp(index[-1])
    estimates: list[CorrelationEstimate] = []
    draws: list[tuple[np.ndarray, float]] = []
    notes: list[str] = []
    for k, (start, end) in enumerate(periods):
        label = _period_label(start, end)
        if end < start:
            raise DataError(f"period {label} ends before it starts")
        rows = (index >= start) & (index <= end)
        if not rows.any():
            raise DataError(
                f"period {label} does not overlap the data ({first.date()} to {last.date()})"
            )
        count = int(rows.sum())
        if count < MIN_SESSIONS:
            raise DataError(
                f"period {label} holds {count} sessions of {crypto} vs {benchmark}; "
                f"at least {MIN_SESSIONS} are needed"
            )
        _check_moves(
            returns.loc[rows], {"crypto": crypto, "benchmark": benchmark}, f"in period {label}"
        )
        x, y = x_all[rows], y_all[rows]
        held = pd.DatetimeIndex(index[rows])
        if held[0] - start > pd.Timedelta(days=7) or end - held[-1] > pd.Timedelta(days=7):
            notes.append(
                f"period {label} is only partly covered: the data run from "
                f"{held[0].date()} to {held[-1].date()} within it"
            )
        sample, block = bootstrap_corr_draws(x, y, reps=reps, seed=seed + k)
        estimates.append(_estimate_from(label, held, x, y, sample, block, level))
        draws.append((sample, block))
    differences = []
    for k in range(1, len(estimates)):
        later, earlier = estimates[k], estimates[k - 1]
        differences.append(
            Difference(
                later.label,
                earlier.label,
                later.r - earlier.r,
                (fisher_difference(later.r, later.sessions, earlier.r, earlier.sessions),),
                interval_from(
                    draws[k][0] - draws[k - 1][0], level, max(draws[k][1], draws[k - 1][1])
                ),
                level,
            )
        )
    return PeriodComparison(
        crypto, benchmark, tuple(estimates), tuple(differences), level, tuple(notes)
    )


# -- regimes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegimeComparison:
    """The correlation on the sessions of a regime and on the rest, and their difference."""

    name: str
    where: str
    description: str
    inside: CorrelationEstimate
    outside: CorrelationEstimate
    difference: Difference

    def sentence(self) -> str:
        d = self.difference
        if d.significant:
            how = "stronger" if d.estimate > 0 else "weaker"
            head = f"The link is {how} {self.where}"
        else:
            head = f"No significant difference {self.where}"
        return (
            f"{head}: {self.inside.r:+.2f} over {self.inside.sessions} sessions vs "
            f"{self.outside.r:+.2f} over {self.outside.sessions} otherwise ({d.evidence()})."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "where": self.where,
            "description": self.description,
            "inside": self.inside.to_dict(),
            "outside": self.outside.to_dict(),
            "difference": self.difference.to_dict(),
            "sentence": self.sentence(),
        }


@dataclass(frozen=True)
class Regime:
    """A named set of sessions: ``mask`` is 1.0 inside, 0.0 outside, NaN where unknown.

    ``where`` completes "the link is stronger ..." (``"in risk-on sessions"``).
    """

    name: str
    where: str
    description: str
    mask: pd.Series


def compare_regimes(
    returns: pd.DataFrame,
    regimes: Sequence[Regime],
    *,
    level: float = 0.95,
    reps: int = DEFAULT_REPS,
    seed: int = 0,
) -> tuple[RegimeComparison, ...]:
    """For each regime, corr(crypto, benchmark) inside vs outside, where the regime is known.

    A regime with fewer than ``MIN_SESSIONS`` known sessions on either side is left out.
    """
    out = []
    for k, regime in enumerate(regimes):
        mask = regime.mask.reindex(returns.index).to_numpy(dtype="float64")
        known = np.isfinite(mask)
        inside = mask[known] == 1.0
        if inside.sum() < MIN_SESSIONS or (~inside).sum() < MIN_SESSIONS:
            continue
        if not all(returns.loc[known, c].std() > 0 for c in ("crypto", "benchmark")):
            continue
        x, y = _arrays(returns.loc[known], "crypto", "benchmark")
        index = returns.index[known]
        inner, outer, block = bootstrap_split_draws(x, y, inside, reps=reps, seed=seed + k)
        parts = []
        for flags, sample, label in ((inside, inner, "inside"), (~inside, outer, "outside")):
            parts.append(
                _estimate_from(
                    f"{regime.name.replace('_', '-')} ({label})",
                    index[flags],
                    x[flags],
                    y[flags],
                    sample,
                    block,
                    level,
                )
            )
        inner_est, outer_est = parts
        diff = Difference(
            inner_est.label,
            outer_est.label,
            inner_est.r - outer_est.r,
            (fisher_difference(inner_est.r, inner_est.sessions, outer_est.r, outer_est.sessions),),
            interval_from(inner - outer, level, block),
            level,
        )
        out.append(
            RegimeComparison(
                regime.name, regime.where, regime.description, inner_est, outer_est, diff
            )
        )
    return tuple(out)


# -- all of it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """What ``comove compare`` answers: benchmarks, periods, regimes, and the methods used."""

    crypto: str
    benchmarks: BenchmarkComparison | None = None
    periods: PeriodComparison | None = None
    regimes: tuple[RegimeComparison, ...] = ()
    notes: tuple[str, ...] = ()
    level: float = 0.95
    shifts: tuple[Shift, ...] = ()
    shifts_of: str = ""

    @property
    def methods(self) -> dict[str, str]:
        used = ["fisher", "bootstrap"]
        if self.benchmarks is not None:
            used += ["williams", "partial"]
        if self.periods is not None or self.regimes:
            used.append("fisher_z")
        used.append("change_points")
        return {name: METHODS[name] for name in used}

    def shift_words(self) -> str:
        """The change points in one sentence."""
        if not self.shifts:
            return f"No correlation regime shift detected in {self.shifts_of} (CUSUM, 5%)."
        return (
            f"Correlation regime shifts in {self.shifts_of} (CUSUM): "
            + "; ".join(
                f"{s.date.date()} ({s.before:+.2f} → {s.after:+.2f}, p = {s.p_value:.2g})"
                for s in self.shifts
            )
            + "."
        )

    def words(self) -> list[str]:
        lines: list[str] = []
        if self.benchmarks is not None:
            lines += self.benchmarks.words()
        if self.periods is not None:
            lines += self.periods.words()
        lines.append(self.shift_words())
        lines += [r.sentence() for r in self.regimes]
        lines += list(self.notes)
        return lines

    def rolling(self) -> pd.DataFrame:
        return self.benchmarks.rolling if self.benchmarks is not None else pd.DataFrame()

    def to_dict(self) -> dict[str, Any]:
        return {
            "crypto": self.crypto,
            "level": self.level,
            "benchmarks": None if self.benchmarks is None else self.benchmarks.to_dict(),
            "periods": None if self.periods is None else self.periods.to_dict(),
            "regimes": [r.to_dict() for r in self.regimes],
            "change_points": [s.to_dict() for s in self.shifts],
            "change_points_of": self.shifts_of,
            "notes": list(self.notes),
            "methods": self.methods,
            "words": self.words(),
        }
