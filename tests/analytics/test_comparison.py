"""The assembled comparisons: verdicts in words, rolling columns, periods, regimes, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comove.analytics.comparison import (
    Regime,
    compare_benchmarks,
    compare_periods,
    compare_regimes,
    shifts_of,
    slug,
)
from comove.errors import DataError


def _returns(n: int, r_small: float, r_large: float, seed: int = 0) -> pd.DataFrame:
    """Crypto, small caps and large caps with the given correlations to the crypto."""
    rng = np.random.default_rng(seed)
    r_between = 0.8
    cov = np.array([[1.0, r_small, r_large], [r_small, 1.0, r_between], [r_large, r_between, 1.0]])
    data = rng.multivariate_normal(np.zeros(3), cov, size=n) * 0.01
    index = pd.bdate_range("2020-01-01", periods=n, name="date")
    return pd.DataFrame(data, index=index, columns=["crypto", "^RUT", "^GSPC"])


def test_small_caps_that_matter_are_said_to_matter() -> None:
    result = compare_benchmarks(_returns(1500, 0.6, 0.4), ["^RUT", "^GSPC"], crypto="ETH", reps=500)
    assert result.small_caps_matter_more
    assert result.words()[0].startswith("Yes: ETH moves more with ^RUT than with ^GSPC")
    assert result.differences[0].significant
    assert result.partial.r > 0.3


def test_equal_links_give_no_evidence() -> None:
    result = compare_benchmarks(
        _returns(600, 0.5, 0.5, seed=2), ["^RUT", "^GSPC"], crypto="ETH", reps=500
    )
    assert not result.small_caps_matter_more
    assert result.words()[0].startswith("No evidence that ^RUT matters more than ^GSPC for ETH")


def test_rolling_columns_equal_pandas_and_the_partial_formula() -> None:
    returns = _returns(200, 0.6, 0.4)
    result = compare_benchmarks(returns, ["^RUT", "^GSPC"], windows=(30,), reps=200)
    table = result.rolling
    assert list(table.columns) == ["corr_rut_30", "corr_gspc_30", "corr_diff_30", "partial_30"]
    expected = returns["crypto"].rolling(30).corr(returns["^RUT"])
    pd.testing.assert_series_equal(table["corr_rut_30"], expected, check_names=False, rtol=1e-10)
    r = np.corrcoef(returns.iloc[-30:].to_numpy().T)  # crypto, ^RUT, ^GSPC
    partial = (r[0, 1] - r[0, 2] * r[1, 2]) / np.sqrt((1 - r[0, 2] ** 2) * (1 - r[1, 2] ** 2))
    assert table["partial_30"].iloc[-1] == pytest.approx(partial, rel=1e-9)
    assert result.latest[30][0].sessions == 30


def test_fewer_than_two_benchmarks_is_refused() -> None:
    with pytest.raises(DataError, match="at least two"):
        compare_benchmarks(_returns(100, 0.5, 0.5)[["crypto", "^RUT"]], ["^RUT"])


def _pair(returns: pd.DataFrame) -> pd.DataFrame:
    return returns[["crypto", "^RUT"]].set_axis(["crypto", "benchmark"], axis=1)


def test_periods_compare_and_find_the_change() -> None:
    calm = _returns(400, 0.05, 0.05, seed=3)
    linked = _returns(400, 0.6, 0.6, seed=4)
    linked.index = pd.bdate_range(calm.index[-1] + pd.Timedelta(days=1), periods=400, name="date")
    returns = _pair(pd.concat([calm, linked]))
    periods = [
        (calm.index[0], calm.index[-1]),
        (linked.index[0], linked.index[-1]),
    ]
    result = compare_periods(returns, periods, crypto="BTC", benchmark="SPY", reps=500)
    assert [p.sessions for p in result.periods] == [400, 400]
    assert result.differences[0].significant
    assert result.differences[0].estimate > 0.4
    assert "changed" in result.words()[2]
    shifts = shifts_of(returns)
    assert shifts
    assert abs(shifts[0].date - linked.index[0]) <= pd.Timedelta(days=40)
    assert shifts[0].before < 0.2 < 0.4 < shifts[0].after


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (("1990-01-01", "1990-12-31"), "does not overlap the data"),
        (("2020-01-06", "2020-01-10"), "holds 5 sessions"),
        (("2020-03-01", "2020-02-01"), "ends before it starts"),
    ],
)
def test_bad_periods_are_named(period: tuple[str, str], message: str) -> None:
    returns = _pair(_returns(300, 0.5, 0.5))
    with pytest.raises(DataError, match=message):
        compare_periods(returns, [(pd.Timestamp(period[0]), pd.Timestamp(period[1]))], reps=200)


def test_regimes_compare_inside_and_outside() -> None:
    returns = _pair(_returns(800, 0.5, 0.5, seed=5))
    rng = np.random.default_rng(1)
    # Inside the regime the crypto moves on its own.
    flags = np.zeros(800)
    flags[100:300] = 1.0
    returns.loc[returns.index[100:300], "crypto"] = rng.standard_normal(200) * 0.01
    mask = pd.Series(flags, index=returns.index)
    mask.iloc[:20] = np.nan
    unknown = pd.Series(np.nan, index=returns.index)
    results = compare_regimes(
        returns,
        [Regime("quiet", "in quiet sessions", "test", mask), Regime("none", "x", "y", unknown)],
        reps=500,
    )
    assert len(results) == 1
    (quiet,) = results
    assert quiet.inside.sessions == 200
    assert quiet.outside.sessions == 580
    assert quiet.difference.significant
    assert quiet.sentence().startswith("The link is weaker in quiet sessions")


def test_slugs_are_column_safe() -> None:
    assert slug("^RUT") == "rut"
    assert slug("csv:/data/SPY.csv") == "spy"
    assert slug("exchange:coinbase:ETH/USD") == "eth_usd"
    assert slug("^^^") == "series"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(10, 150),
    seed=st.integers(0, 10**6),
    scale=st.sampled_from([1e-8, 1e-3, 1.0, 50.0]),
    ties=st.booleans(),
)
def test_any_short_fat_tailed_or_tied_sample_gives_an_answer_or_a_data_error(
    n: int, seed: int, scale: float, ties: bool
) -> None:
    rng = np.random.default_rng(seed)
    data = rng.standard_t(2, (n, 3)) * scale
    if ties:
        data = np.round(data, 1)  # small scales round to all zeros: a series that does not move
    index = pd.bdate_range("2020-01-01", periods=n, name="date")
    returns = pd.DataFrame(data, index=index, columns=["crypto", "a", "b"])
    if (returns.std() == 0).any():
        with pytest.raises(DataError, match="does not move"):
            compare_benchmarks(returns, ["a", "b"], reps=100)
    else:
        result = compare_benchmarks(returns, ["a", "b"], reps=100)
        assert result.words()
        assert result.to_dict()["benchmarks"] == ["a", "b"]
    pair = _pair(returns.rename(columns={"a": "^RUT"}))
    halves = [(index[0], index[n // 2]), (index[n // 2 + 1], index[-1])]
    # The first period that is too short or does not move is the one named.
    problems = [
        "at least 10" if len(part) < 10 else "does not move" if (part.std() == 0).any() else ""
        for part in (pair.loc[a:b] for a, b in halves)
    ]
    problem = next((p for p in problems if p), "")
    if problem:
        with pytest.raises(DataError, match=problem):
            compare_periods(pair, halves, reps=100)
    else:
        assert len(compare_periods(pair, halves, reps=100).periods) == 2
    mask = pd.Series((rng.random(n) < 0.5).astype("float64"), index=index)
    for regime in compare_regimes(pair, [Regime("x", "in x", "test", mask)], reps=100):
        assert regime.sentence()
