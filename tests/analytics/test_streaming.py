"""The streaming correlation against the batch computation, compiled and not."""

from __future__ import annotations

import numpy as np
import pytest

from comove.analytics import rolling, streaming
from comove.analytics.rolling import rolling_stats
from comove.analytics.streaming import RollingCorrelation
from comove.errors import DataError

needs_numba = pytest.mark.skipif(not rolling.numba_available(), reason="numba not installed")


def _pair(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_t(4, n) * 0.02
    y = 0.6 * x + rng.normal(0, 0.015, n)
    return x, y


def _with_gaps(x: np.ndarray, y: np.ndarray, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, y = x.copy(), y.copy()
    x[rng.choice(len(x), len(x) // 15, replace=False)] = np.nan
    y[rng.choice(len(y), len(y) // 25, replace=False)] = np.nan
    x[200:230] = np.nan  # a gap longer than small windows: the window empties
    y[400] = np.inf  # not finite: the pair does not count
    return x, y


def test_streaming_equals_batch_and_update_many_equals_update() -> None:
    x, y = _with_gaps(*_pair(2000, seed=8))
    x[900:1000] = 0.5
    batch = rolling_stats(x, y, 50, 40, ("corr", "beta"), engine="numpy")
    one = RollingCorrelation(50, min_periods=40)
    stepped = np.array([one.update(float(a), float(b)) for a, b in zip(x, y, strict=True)])
    np.testing.assert_array_equal(np.isnan(stepped), np.isnan(batch["corr"]))
    np.testing.assert_allclose(stepped, batch["corr"], atol=1e-12, equal_nan=True)
    assert one.beta == pytest.approx(batch["beta"][-1], abs=1e-12)
    assert one.corr == pytest.approx(batch["corr"][-1], abs=1e-12)
    assert one.count == int((np.isfinite(x[-50:]) & np.isfinite(y[-50:])).sum())
    many = RollingCorrelation(50, min_periods=40)
    parts = [many.update_many(x[:7], y[:7]), many.update_many(x[7:1300], y[7:1300])]
    parts.append(
        np.array(
            [
                many.update(float(a), float(b))
                for a, b in zip(x[1300:1500], y[1300:1500], strict=True)
            ]
        )
    )
    parts.append(many.update_many(x[1500:], y[1500:]))
    combined = np.concatenate(parts)
    np.testing.assert_array_equal(np.isnan(combined), np.isnan(stepped))
    np.testing.assert_allclose(combined, stepped, atol=1e-12, equal_nan=True)
    assert many.beta == pytest.approx(one.beta, abs=1e-12)
    assert many.count == one.count


def test_streaming_without_numba_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "numba_available", lambda: False)
    monkeypatch.setattr(rolling, "numba_available", lambda: False)
    x, y = _pair(300, seed=9)
    got = RollingCorrelation(30).update_many(x, y)
    want = rolling_stats(x, y, 30, engine="numpy")["corr"]
    np.testing.assert_allclose(got, want, atol=1e-12, equal_nan=True)
    with pytest.raises(DataError, match="numba"):
        rolling_stats(x, y, 30, engine="numba")
