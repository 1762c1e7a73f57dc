"""The scan statistics' numpy twins against per-column references (comove.lead_lag, rolling)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import comove
from comove.analytics.correlation import rolling_corr_beta
from comove.analytics.scan import (
    NEWLY_COUPLED,
    NEWLY_DECOUPLED,
    _side_run,
    latest_corr_beta,
    lead_lag_panel,
)


def test_lead_lag_panel_equals_lead_lag_per_column() -> None:
    rng = np.random.default_rng(3)
    y = rng.standard_t(4, 300) * 0.01
    x = np.column_stack([0.5 * np.roll(y, s) + rng.normal(0, 0.01, 300) for s in (-2, 0, 3)])
    x += 5.0  # far from zero: the centring keeps the sums well conditioned
    ccf = lead_lag_panel(x, y, 6)
    for k in range(x.shape[1]):
        expected = comove.lead_lag(pd.Series(x[:, k]), pd.Series(y), 6).to_numpy()
        np.testing.assert_allclose(ccf[:, k], expected, rtol=0, atol=1e-12)
    # x_t = y_{t+2} leads y by two sessions (lag +2); x_t = y_{t-3} lags it (lag -3).
    assert [int(np.argmax(np.abs(ccf[:, k]))) - 6 for k in range(3)] == [2, 0, -3]


def test_side_run_and_change_flags_on_a_hand_made_path() -> None:
    nan = np.nan
    corr = np.array(
        [
            [nan, 0.6, 0.4, nan],
            [0.3, 0.6, 0.4, nan],
            [0.4, 0.6, 0.4, 0.7],
            [0.6, 0.6, 0.6, 0.7],
            [0.7, 0.4, 0.6, 0.7],
        ]
    )
    side, run, change = _side_run(corr, np.array([4, 4, 4, 4]), 0.5, 2)
    assert list(side) == ["above", "below", "above", "above"]
    assert list(run) == [2, 1, 2, 3]
    assert list(change) == [NEWLY_COUPLED, NEWLY_DECOUPLED, NEWLY_COUPLED, ""]


def test_latest_window_equals_the_last_rolling_value_edge_cases() -> None:
    rng = np.random.default_rng(8)
    n = 80
    y = rng.normal(0, 0.01, n)
    x = np.column_stack([0.3 * y + rng.normal(0, 0.01, n) for _ in range(5)])
    x[:, 1] = 0.02  # constant: NaN
    x[70, 2] = np.nan  # a hole inside the last window: NaN (min_periods = window)
    x[:, 3] = 1e6 + x[:, 3]  # far from zero: still exact
    ends = np.array([n - 1, n - 1, n - 1, n - 1, 40])  # the last column ends early
    corr, beta = latest_corr_beta(x, y, ends, 20)
    for k in range(5):
        c, b = rolling_corr_beta(pd.Series(x[:, k]), pd.Series(y), 20)
        for got, want in ((corr[k], c.iloc[ends[k]]), (beta[k], b.iloc[ends[k]])):
            if math.isnan(want):
                assert math.isnan(got), k
            else:
                assert got == pytest.approx(want, abs=1e-12), k
    assert math.isnan(corr[1])
    assert math.isnan(corr[2])


def test_side_run_walks_back_in_steps_without_changing_the_answer() -> None:
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.normal(0, 0.03, (400, 30)), axis=0) + 0.5
    walk[:50] = np.nan
    walk[200:230, 3] = np.nan
    ends = rng.integers(60, 400, 30)
    whole = _side_run(walk, ends, 0.5, 5, step=10_000)
    for step in (1, 3, 128):
        for got, want in zip(_side_run(walk, ends, 0.5, 5, step=step), whole, strict=True):
            assert list(got) == list(want)
    assert max(whole[1]) > 128
