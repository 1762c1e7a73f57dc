"""Comparing correlations: against several benchmarks, across periods and regimes.

Pure functions on return arrays (NaN-free, equal length; the pipeline aligns them):

- dependent correlations that share one variable (the crypto against two benchmarks):
  Williams' t (Williams 1959, as in Steiger 1980 eq. 7 and Howell) and Steiger's Z
  (Steiger 1980 eq. 14, pooled r̄), both using the benchmarks' own correlation;
- independent correlations (two periods, two regimes): Fisher's z test;
- partial correlation and the beta on a return spread (OLS);
- the stationary block bootstrap (Politis & Romano 1994) with the automatic block length of
  Politis & White (2004, corrected by Patton, Politis & White 2009), giving percentile
  intervals that keep fat tails and volatility clustering, for one correlation and for the
  difference of two;
- change points of a correlation: binary segmentation of the CUSUM of products of
  volatility-standardised returns (Kolmogorov limit; Bartlett long-run variance).

scipy is deliberately not used (it costs the CLI a second of imports): the Student t tail
comes from a continued fraction of the incomplete beta function, checked against scipy in
the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from comove._json import finite
from comove.errors import DataError

FloatArray = np.ndarray

#: Bootstrap replications unless told otherwise (percentile intervals at 95 % settle by ~1,000).
DEFAULT_REPS = 2000


# -- distributions -------------------------------------------------------------------------


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for a, b > 0 and 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def student_t_two_sided(t: float, df: float) -> float:
    """P(|T| > |t|) for Student's t with ``df`` degrees of freedom."""
    if not math.isfinite(t):
        return 0.0 if not math.isnan(t) else math.nan
    return regularized_beta(df / 2.0, 0.5, df / (df + t * t))


def kolmogorov_sf(x: float) -> float:
    """P(sup |B(t)| > x) for a Brownian bridge B: the CUSUM test's limiting tail."""
    if x < 0.2:  # the series is 1 to within 1e-10 here, and slow to converge
        return 1.0
    total = 0.0
    for k in range(1, 101):
        term = 2.0 * (-1.0) ** (k - 1) * math.exp(-2.0 * k * k * x * x)
        total += term
        if abs(term) < 1e-16:
            break
    return min(max(total, 0.0), 1.0)


# -- tests of correlations -------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    """One test: its statistic, degrees of freedom (``None`` for a normal statistic) and p."""

    __test__ = False  # not a pytest test class, whatever its name

    method: str
    statistic: float
    p_value: float
    df: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "statistic": finite(self.statistic),
            "p_value": finite(self.p_value),
            "df": self.df,
        }


def _check_r(*values: float) -> None:
    for r in values:
        if not (math.isnan(r) or -1.0 <= r <= 1.0):
            raise DataError(f"a correlation must lie in [-1, 1], got {r!r}")


def _atanh(r: float) -> float:
    """Fisher's z, infinite (not an error) for a perfect correlation."""
    return math.atanh(r) if abs(r) < 1.0 else math.copysign(math.inf, r)


def williams_t(r12: float, r13: float, r23: float, n: int) -> TestResult:
    """Williams' t for H0: ρ12 = ρ13 where variables 2 and 3 share variable 1.

    ``r12``, ``r13``: variable 1 (the crypto) with variables 2 and 3 (two benchmarks);
    ``r23``: the benchmarks with each other; ``n`` observations. df = n − 3, two-sided p.
    """
    _check_r(r12, r13, r23)
    if n < 4:
        raise DataError(f"Williams' t needs at least 4 observations, got {n}")
    det = 1.0 - r12**2 - r13**2 - r23**2 + 2.0 * r12 * r13 * r23
    mean = (r12 + r13) / 2.0
    denominator = 2.0 * (n - 1) / (n - 3) * det + mean**2 * (1.0 - r23) ** 3
    t = (
        (r12 - r13) * math.sqrt((n - 1) * (1.0 + r23) / denominator)
        if denominator > 0
        else math.nan
    )
    return TestResult("Williams' t", t, student_t_two_sided(t, n - 3), float(n - 3))


def steiger_z(r12: float, r13: float, r23: float, n: int) -> TestResult:
    """Steiger's (1980, eq. 14) Z for H0: ρ12 = ρ13, Fisher-transformed with pooled r̄."""
    _check_r(r12, r13, r23)
    if n < 4:
        raise DataError(f"Steiger's Z needs at least 4 observations, got {n}")
    mean = (r12 + r13) / 2.0
    covariance = (r23 * (1.0 - 2.0 * mean**2) - 0.5 * mean**2 * (1.0 - 2.0 * mean**2 - r23**2)) / (
        1.0 - mean**2
    ) ** 2
    spread = 2.0 - 2.0 * covariance
    z = (_atanh(r12) - _atanh(r13)) * math.sqrt((n - 3) / spread) if spread > 0 else math.nan
    return TestResult("Steiger's Z", z, 2.0 * normal_sf(abs(z)) if math.isfinite(z) else math.nan)


def fisher_difference(r1: float, n1: int, r2: float, n2: int) -> TestResult:
    """Fisher's z test for H0: ρ1 = ρ2 from two independent samples of n1 and n2."""
    _check_r(r1, r2)
    if min(n1, n2) < 4:
        raise DataError(f"Fisher's z test needs at least 4 observations per sample, got {n1}, {n2}")
    z = (_atanh(r1) - _atanh(r2)) / math.sqrt(1.0 / (n1 - 3) + 1.0 / (n2 - 3))
    return TestResult("Fisher's z", z, 2.0 * normal_sf(abs(z)) if math.isfinite(z) else math.nan)


# -- correlation, partial correlation, spread beta -----------------------------------------


def pearson(x: FloatArray, y: FloatArray) -> float:
    """Pearson correlation of two equal-length arrays (NaN when either is constant)."""
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return float(dx @ dy) / denominator if denominator > 0 else math.nan


def partial_corr(x: FloatArray, y: FloatArray, given: FloatArray) -> float:
    """Correlation of ``x`` and ``y`` with ``given`` held fixed (first-order partial)."""
    rxy, rxz, ryz = pearson(x, y), pearson(x, given), pearson(y, given)
    denominator = math.sqrt((1.0 - rxz**2) * (1.0 - ryz**2))
    return (rxy - rxz * ryz) / denominator if denominator > 0 else math.nan


@dataclass(frozen=True)
class SpreadBeta:
    """OLS of the crypto on the small-minus-large return spread: slope, its SE, t and p."""

    beta: float
    stderr: float
    t: float
    p_value: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "beta": finite(self.beta),
            "stderr": finite(self.stderr),
            "t": finite(self.t),
            "p_value": finite(self.p_value),
            "n": self.n,
        }


def spread_beta(crypto: FloatArray, small: FloatArray, large: FloatArray) -> SpreadBeta:
    """Slope of ``crypto`` on ``small − large`` with an intercept, classical standard error."""
    spread = small - large
    n = len(spread)
    ds, dc = spread - spread.mean(), crypto - crypto.mean()
    sxx = float(ds @ ds)
    if n < 3 or sxx <= 0:
        return SpreadBeta(math.nan, math.nan, math.nan, math.nan, n)
    beta = float(ds @ dc) / sxx
    residual = dc - beta * ds
    stderr = math.sqrt(float(residual @ residual) / (n - 2) / sxx)
    t = beta / stderr if stderr > 0 else math.nan
    return SpreadBeta(beta, stderr, t, student_t_two_sided(t, n - 2), n)


# -- stationary block bootstrap --------------------------------------------------------------


def optimal_block_length(x: FloatArray) -> float:
    """Politis–White (2004) block length for the stationary bootstrap, with the 2009 correction.

    The bandwidth ``m`` is the first lag after which ``K = max(5, log10 n)`` autocorrelations
    in a row are insignificant (below ``2 sqrt(log10 n / n)``), doubled; the flat-top lag
    window then estimates the long-run variance and its derivative. Capped at
    ``min(3 sqrt(n), n / 3)`` and, being a mean block length, floored at 1 session; otherwise
    equal to ``arch.bootstrap.optimal_block_length``'s stationary column.
    """
    n = len(x)
    if n < 10:
        raise DataError(f"a block length needs at least 10 observations, got {n}")
    eps = x - x.mean()
    b_max = math.ceil(min(3.0 * math.sqrt(n), n / 3.0))
    kn = max(5, int(math.log10(n)))
    m_max = math.ceil(math.sqrt(n)) + kn
    critical = 2.0 * math.sqrt(math.log10(n) / n)
    squares = eps**2
    head = np.cumsum(squares)  # head[j] = Σ_{t≤j} eps_t²
    autocov = np.empty(m_max + 1)
    autocorr = np.empty(m_max + 1)
    for i in range(m_max + 1):
        cross = float(eps[i:] @ eps[: n - i])
        autocov[i] = cross / n
        # Normalised as arch does (sums over n − i − 1 terms), so the chosen m agrees with it.
        later = head[-1] - head[i] if i + 1 < n else 0.0
        earlier = head[n - i - 2] if n - i - 2 >= 0 else 0.0
        scale = math.sqrt(later * earlier)
        autocorr[i] = abs(cross) / scale if scale > 0 else math.inf
    if autocov[0] <= 0:
        return 1.0
    first_quiet = next(
        (i - kn for i in range(kn, m_max + 1) if np.all(autocorr[i - kn : i] < critical)), None
    )
    m = m_max if first_quiet is None else min(2 * max(first_quiet, 1), m_max)
    k = np.arange(1, m + 1)
    weight = np.where(k / m <= 0.5, 1.0, 2.0 * (1.0 - k / m))
    g = float(np.sum(2.0 * weight * k * autocov[1 : m + 1]))
    long_run = autocov[0] + float(np.sum(2.0 * weight * autocov[1 : m + 1]))
    if long_run == 0:
        return 1.0
    block = (2.0 * g**2 / (2.0 * long_run**2)) ** (1.0 / 3.0) * n ** (1.0 / 3.0)
    return float(min(max(block, 1.0), b_max))


def correlation_influence(x: FloatArray, y: FloatArray) -> FloatArray:
    """The series whose mean drives Pearson's r: z_x z_y − r (z_x² + z_y²) / 2 (standardised)."""
    if not (x.std() > 0 and y.std() > 0):
        raise DataError("a series that does not move has no correlation")
    zx = (x - x.mean()) / x.std()
    zy = (y - y.mean()) / y.std()
    r = float(np.mean(zx * zy))
    return zx * zy - r * (zx**2 + zy**2) / 2.0


def stationary_blocks(
    n: int, block: float, reps: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """The blocks of ``reps`` stationary-bootstrap resamples of ``n`` rows.

    Returns ``(starts, lengths)``, each ``(reps, K)``: block k of resample r covers rows
    ``starts[r, k]``, ``starts[r, k] + 1``, ... (wrapping past the end) for ``lengths[r, k]``
    rows. Lengths are geometric with mean ``block``, the last block used is cut so each
    resample has ``n`` rows, and the blocks after it have length 0. ``K`` leaves eight
    standard deviations of room; a row that still falls short (probability below 1e-15) has
    its last block lengthened.
    """
    expected = n / block
    count = int(min(n, math.ceil(expected + 8.0 * math.sqrt(expected) + 8.0)))
    lengths = np.minimum(rng.geometric(min(1.0, 1.0 / block), size=(reps, count)), n)
    starts = rng.integers(0, n, size=(reps, count))
    ends = np.cumsum(lengths, axis=1)
    short = ends[:, -1] < n
    if short.any():
        lengths[short, -1] += n - ends[short, -1]
        ends[short, -1] = n
    used = np.clip(n - (ends - lengths), 0, lengths)
    return starts, used


def stationary_indices(n: int, block: float, reps: int, rng: np.random.Generator) -> FloatArray:
    """``reps`` rows of ``n`` resampled row numbers (the blocks of :func:`stationary_blocks`)."""
    starts, lengths = stationary_blocks(n, block, reps, rng)
    flat = lengths.ravel()
    first = np.repeat(np.cumsum(flat) - flat, flat)
    offsets = np.arange(reps * n) - first
    return ((np.repeat(starts.ravel(), flat) + offsets) % n).reshape(reps, n)


def _chunks(reps: int, per_rep: int) -> list[int]:
    """Replications per batch so that one batch's arrays stay near 2 M entries."""
    size = max(1, min(reps, 2_000_000 // max(per_rep, 1)))
    return [min(size, reps - start) for start in range(0, reps, size)]


def resample_sums(
    stats: FloatArray, block: float, reps: int, rng: np.random.Generator
) -> FloatArray:
    """Column sums of ``stats`` (n rows, k columns) over ``reps`` stationary-bootstrap resamples.

    A block's sum is a difference of prefix sums, so a resample costs its number of blocks,
    not its number of rows. Equal in distribution to summing ``stats[stationary_indices(...)]``.
    Each column's prefix sums are one contiguous row, small enough to stay in cache while
    every block end is looked up in it (2.4x faster than gathering whole rows).
    """
    n, k = stats.shape
    prefix = np.zeros((k, 2 * n + 1))
    prefix[:, 1:] = np.cumsum(np.vstack([stats, stats]), axis=0).T
    out = np.empty((reps, k))
    done = 0
    expected = n / block
    per_rep = int(min(n, expected + 8.0 * math.sqrt(expected) + 8.0)) * k
    for size in _chunks(reps, per_rep):
        starts, lengths = stationary_blocks(n, block, size, rng)
        ends = starts + lengths
        for column, sums in enumerate(prefix):
            out[done : done + size, column] = sums[ends].sum(axis=1) - sums[starts].sum(axis=1)
        done += size
    return out


def _corr_from_sums(
    count: FloatArray,
    sx: FloatArray,
    sy: FloatArray,
    sxx: FloatArray,
    syy: FloatArray,
    sxy: FloatArray,
) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / count
        var_x = sxx - sx * sx / count
        var_y = syy - sy * sy / count
        out = cov / np.sqrt(var_x * var_y)
    out[(count < 4) | ~(var_x > 0) | ~(var_y > 0)] = np.nan
    return np.clip(out, -1.0, 1.0)


def _centred(*series: FloatArray) -> list[FloatArray]:
    # Centring first keeps the sums' differences (cov = Σxy − Σx Σy / n) free of cancellation.
    return [s - s.mean() for s in series]


@dataclass(frozen=True)
class BootstrapInterval:
    """A stationary-bootstrap percentile interval and how it was made."""

    low: float
    high: float
    block: float
    reps: int
    level: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": finite(self.low),
            "high": finite(self.high),
            "block": finite(self.block),
            "reps": self.reps,
            "level": self.level,
        }


def interval_from(draws: FloatArray, level: float, block: float) -> BootstrapInterval:
    """The percentile interval of bootstrap ``draws`` (NaN draws, from degenerate resamples,
    are left out)."""
    kept = draws[np.isfinite(draws)]
    if kept.size == 0:
        return BootstrapInterval(math.nan, math.nan, block, int(draws.size), level)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(kept, [tail, 1.0 - tail])
    return BootstrapInterval(float(low), float(high), block, int(draws.size), level)


def _check_bootstrap(n: int, reps: int) -> None:
    if n < 10:
        raise DataError(f"a bootstrap interval needs at least 10 sessions, got {n}")
    if reps < 100:
        raise DataError(f"use at least 100 bootstrap replications, got {reps}")


def corr_block_length(x: FloatArray, y: FloatArray) -> float:
    """The block length for resampling corr(x, y): Politis–White on the products' influence."""
    return optimal_block_length(correlation_influence(x, y))


def bootstrap_corr_draws(
    x: FloatArray,
    y: FloatArray,
    *,
    reps: int = DEFAULT_REPS,
    block: float | None = None,
    seed: int = 0,
) -> tuple[FloatArray, float]:
    """``reps`` stationary-bootstrap correlations of ``x`` and ``y``, and the block length.

    ``block`` (mean block length in sessions) defaults to :func:`corr_block_length`: the
    dependence that matters for r is that of the products of standardised returns.
    """
    n = len(x)
    _check_bootstrap(n, reps)
    chosen = corr_block_length(x, y) if block is None else block
    cx, cy = _centred(x, y)
    sums = resample_sums(
        np.column_stack([cx, cy, cx * cx, cy * cy, cx * cy]), chosen, reps,
        np.random.default_rng(seed),
    )  # fmt: skip
    return _corr_from_sums(np.full(reps, float(n)), *sums.T), chosen


def bootstrap_corr(
    x: FloatArray,
    y: FloatArray,
    *,
    reps: int = DEFAULT_REPS,
    level: float = 0.95,
    block: float | None = None,
    seed: int = 0,
) -> BootstrapInterval:
    """Stationary-bootstrap percentile interval for the correlation of ``x`` and ``y``."""
    draws, chosen = bootstrap_corr_draws(x, y, reps=reps, block=block, seed=seed)
    return interval_from(draws, level, chosen)


def bootstrap_shared_draws(
    x: FloatArray,
    a: FloatArray,
    b: FloatArray,
    *,
    reps: int = DEFAULT_REPS,
    block: float | None = None,
    seed: int = 0,
) -> tuple[FloatArray, FloatArray, float]:
    """Bootstrap draws of corr(x, a) and corr(x, b), resampling the three series together."""
    n = len(x)
    _check_bootstrap(n, reps)
    chosen = max(corr_block_length(x, a), corr_block_length(x, b)) if block is None else block
    cx, ca, cb = _centred(x, a, b)
    sums = resample_sums(
        np.column_stack([cx, ca, cb, cx * cx, ca * ca, cb * cb, cx * ca, cx * cb]),
        chosen, reps, np.random.default_rng(seed),
    )  # fmt: skip
    sx, sa, sb, sxx, saa, sbb, sxa, sxb = sums.T
    count = np.full(reps, float(n))
    return (
        _corr_from_sums(count, sx, sa, sxx, saa, sxa),
        _corr_from_sums(count, sx, sb, sxx, sbb, sxb),
        chosen,
    )


def bootstrap_split_draws(
    x: FloatArray,
    y: FloatArray,
    inside: FloatArray,
    *,
    reps: int = DEFAULT_REPS,
    block: float | None = None,
    seed: int = 0,
) -> tuple[FloatArray, FloatArray, float]:
    """Bootstrap draws of corr(x, y) on the sessions ``inside`` and on the others.

    Blocks keep each session's flag with its returns, so regimes that cluster in time are
    resampled as they occur.
    """
    n = len(x)
    _check_bootstrap(n, reps)
    chosen = corr_block_length(x, y) if block is None else block
    cx, cy = _centred(x, y)
    columns = []
    for flags in (inside.astype("float64"), 1.0 - inside.astype("float64")):
        columns += [
            flags,
            flags * cx,
            flags * cy,
            flags * cx * cx,
            flags * cy * cy,
            flags * cx * cy,
        ]
    sums = resample_sums(np.column_stack(columns), chosen, reps, np.random.default_rng(seed))
    return _corr_from_sums(*sums[:, :6].T), _corr_from_sums(*sums[:, 6:].T), chosen


# -- change points ---------------------------------------------------------------------------

#: RiskMetrics decay for the volatility that standardises returns before the CUSUM.
VOLATILITY_DECAY = 0.94


def standardized_products(
    x: FloatArray, y: FloatArray, decay: float = VOLATILITY_DECAY
) -> FloatArray:
    """x_t y_t / (σx_t σy_t), σ an EWMA of earlier squared returns (seeded by the first 20).

    Its mean is the correlation; dividing by a volatility known the session before keeps a
    change in volatility from passing for a change in correlation.
    """
    n = len(x)
    seed_rows = min(20, n)
    out = np.empty(n)
    vx, vy = float(np.mean(x[:seed_rows] ** 2)), float(np.mean(y[:seed_rows] ** 2))
    for t in range(n):
        out[t] = x[t] * y[t] / math.sqrt(vx * vy) if vx > 0 and vy > 0 else 0.0
        vx = decay * vx + (1.0 - decay) * x[t] ** 2
        vy = decay * vy + (1.0 - decay) * y[t] ** 2
    return out


def bartlett_long_run_variance(u: FloatArray) -> float:
    """Newey–West long-run variance of ``u`` with bandwidth ⌊4 (n/100)^(2/9)⌋."""
    n = len(u)
    e = u - u.mean()
    lags = int(4.0 * (n / 100.0) ** (2.0 / 9.0))
    total = float(e @ e) / n
    for lag in range(1, min(lags, n - 1) + 1):
        total += 2.0 * (1.0 - lag / (lags + 1.0)) * float(e[lag:] @ e[:-lag]) / n
    return total


def cusum(u: FloatArray) -> tuple[int, float]:
    """(k, statistic): the split after row k−1 maximising |S_k − k/n S_n| / (σ_LR √n)."""
    n = len(u)
    sigma = math.sqrt(max(bartlett_long_run_variance(u), 0.0))
    partial = np.cumsum(u - u.mean())[:-1]
    if sigma == 0 or n < 2:
        return 0, 0.0
    k = int(np.argmax(np.abs(partial))) + 1
    return k, float(abs(partial[k - 1]) / (sigma * math.sqrt(n)))


@dataclass(frozen=True)
class ChangePoint:
    """A split: the first row of the new regime, the CUSUM statistic and its p-value."""

    row: int
    statistic: float
    p_value: float


def change_points(
    x: FloatArray,
    y: FloatArray,
    *,
    min_size: int = 60,
    level: float = 0.05,
    max_changes: int = 5,
) -> list[ChangePoint]:
    """Rows where the correlation of ``x`` and ``y`` shifted (binary segmentation of the CUSUM).

    A segment is split at its CUSUM maximum when the Kolmogorov p-value is below ``level``
    and both parts keep at least ``min_size`` rows; the parts are searched again, the most
    significant first, until no split passes or ``max_changes`` are found.
    """
    u = standardized_products(x, y)
    found: list[ChangePoint] = []
    segments = [(0, len(u))]
    while segments and len(found) < max_changes:
        candidates = []
        for start, stop in segments:
            if stop - start < 2 * min_size:
                continue
            k, statistic = cusum(u[start:stop])
            row = start + k
            if row - start < min_size or stop - row < min_size:
                # The maximum is too near an end: look for the best split that leaves room.
                part = u[start:stop]
                sigma = math.sqrt(max(bartlett_long_run_variance(part), 0.0))
                partial = np.abs(np.cumsum(part - part.mean()))[min_size - 1 : len(part) - min_size]
                if sigma == 0 or partial.size == 0:
                    continue
                k = int(np.argmax(partial)) + min_size
                row = start + k
                statistic = float(partial[k - min_size]) / (sigma * math.sqrt(len(part)))
            candidates.append((kolmogorov_sf(statistic), row, statistic, start, stop))
        passing = [c for c in candidates if c[0] < level]
        if not passing:
            break
        p_value, row, statistic, start, stop = min(passing)
        found.append(ChangePoint(row, statistic, p_value))
        segments = [s for s in segments if s != (start, stop)] + [(start, row), (row, stop)]
        segments = [s for s in segments if s[1] - s[0] >= 2 * min_size]
    return sorted(found, key=lambda c: c.row)
