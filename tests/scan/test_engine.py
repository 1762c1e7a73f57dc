"""Scan numbers against per-asset references: align, log returns, rolling corr/beta, lead_lag."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import comove
from comove.analytics import scan as scan_stats
from comove.analytics.correlation import rolling_corr_beta
from comove.analytics.scan import NEWLY_COUPLED, NEWLY_DECOUPLED
from comove.errors import ConfigError
from comove.scan.engine import ScanConfig, scan_closes, scan_columns, scan_frames
from comove.scan.universe import Benchmark, prepare_benchmark

CONFIG = ScanConfig(windows=(20, 40, 60), lead_lag_sessions=120, max_lag=5, block_size=7)
needs_numba = pytest.mark.skipif(not scan_stats.numba_available(), reason="numba not installed")
PATHS = [pytest.param("compiled", marks=needs_numba), "exact"]


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on the compiled one-pass kernel, then on the exact numpy path."""
    if request.param == "exact":
        monkeypatch.setattr(scan_stats, "numba_available", lambda: False)
    return str(request.param)


def _reference(frame: pd.DataFrame, bench: pd.DataFrame, config: ScanConfig) -> dict[str, object]:
    """The same row from the per-pair functions and plain loops."""
    table = comove.align(frame, bench)
    x = comove.log_returns(table["crypto_close"])
    y = comove.log_returns(table["equity_close"])
    row: dict[str, object] = {"sessions": len(table), "as_of": table.index[-1]}
    main_corr = None
    for w in config.windows:
        corr, beta = rolling_corr_beta(x, y, w)
        row[f"corr_{w}"] = corr.iloc[-1]
        lo, hi = comove.fisher_ci(float(corr.iloc[-1]), w)
        row[f"corr_{w}_lo"], row[f"corr_{w}_hi"] = lo, hi
        row[f"beta_{w}"] = beta.iloc[-1]
        if w == config.main:
            main_corr = corr.to_numpy()
    ccf = comove.lead_lag(
        x.iloc[-config.lead_lag_sessions :], y.iloc[-config.lead_lag_sessions :], config.max_lag
    )
    best = int(ccf.index[int(np.argmax(ccf.abs().fillna(-1.0).to_numpy()))])
    row["lead_lag"], row["lead_lag_corr"] = best, ccf.loc[best]
    # Plain loop over the main-window correlation: run on the latest side of 0.5.
    assert main_corr is not None

    def side(v: float) -> int:
        return -1 if math.isnan(v) else int(v > config.threshold)

    last = side(main_corr[-1])
    run, i = 0, len(main_corr) - 1
    while i >= 0 and side(main_corr[i]) == last:
        run, i = run + 1, i - 1
    before = side(main_corr[i]) if i >= 0 else -1
    row["side"] = {1: "above", 0: "below", -1: ""}[last]
    row["side_sessions"] = run if last >= 0 else 0
    flip = last >= 0 and before >= 0 and run <= config.change_within
    row["change"] = (NEWLY_COUPLED if last == 1 else NEWLY_DECOUPLED) if flip else ""
    return row


def test_every_row_matches_the_per_pair_reference(universe, path: str) -> None:
    frames, bench_bars = universe
    result = scan_frames(frames, [prepare_benchmark(bench_bars)], CONFIG)
    assert list(result.table.columns) == scan_columns(CONFIG.windows)
    assert len(result.table) == len(frames)
    assert result.skipped.empty
    table = result.table.set_index("asset")
    assert {"C", "E"} <= {name[0] for name in table.index}
    assert any("holes" in name for name in table.index)
    for name, frame in frames.items():
        expected = _reference(frame, bench_bars, CONFIG)
        got = table.loc[name]
        for key, value in expected.items():
            if isinstance(value, float | np.floating):
                if math.isnan(value):
                    assert math.isnan(got[key]), (name, key)
                else:
                    assert got[key] == pytest.approx(value, abs=1e-10), (name, key)
            else:
                assert got[key] == value, (name, key)


def test_assets_that_do_not_overlap_are_skipped_with_the_reason(universe) -> None:
    frames, bench_bars = universe
    frame = next(iter(frames.values()))
    late = frame.copy()
    late.index = late.index + pd.Timedelta(days=3000)
    late.attrs = dict(frame.attrs)
    short = frame.iloc[:30].copy()
    short.attrs = dict(frame.attrs)
    one = {"LATE": late, "SHORT": short, "FULL": frame}
    result = scan_frames(one, [prepare_benchmark(bench_bars)], CONFIG)
    assert list(result.table["asset"]) == ["SHORT", "FULL"]
    assert list(result.skipped["asset"]) == ["LATE"]
    assert "does not overlap BENCH" in result.skipped["reason"].iloc[0]
    short_row = result.table.iloc[0]
    assert math.isnan(short_row["corr_60"])
    assert short_row["side"] == ""


def test_blocks_do_not_change_the_numbers_and_sorting(universe) -> None:
    frames, bench_bars = universe
    bench = prepare_benchmark(bench_bars)
    one = scan_frames(frames, [bench], ScanConfig(block_size=1000))
    many = scan_frames(frames, [bench], ScanConfig(block_size=5))
    pd.testing.assert_frame_equal(one.table, many.table, check_exact=True)
    ranked = one.ranked()
    values = ranked["corr_60"].to_numpy()
    finite = values[np.isfinite(values)]
    assert (np.diff(finite) <= 0).all()
    assert len(one.ranked("beta_30", ascending=True, top=3)) == 3
    with pytest.raises(ConfigError, match="cannot sort by 'nope'"):
        one.ranked("nope")


def test_two_benchmarks_give_a_row_per_asset_and_benchmark(universe) -> None:
    frames, bench_bars = universe
    other = bench_bars.copy()
    other["close"] = other["close"] ** 0.5
    other.attrs = dict(bench_bars.attrs)
    benches = [prepare_benchmark(bench_bars), prepare_benchmark(other, name="SQRT")]
    result = scan_frames(frames, benches, CONFIG)
    assert len(result.table) == 2 * len(frames)
    assert set(result.table["benchmark"]) == {"BENCH", "SQRT"}
    # corr is scale-free in the benchmark's log returns: sqrt halves them.
    pivot = result.table.pivot(index="asset", columns="benchmark", values="corr_40")
    np.testing.assert_allclose(pivot["BENCH"], pivot["SQRT"], atol=1e-12)


def test_bad_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        ScanConfig(windows=(2,))
    with pytest.raises(ConfigError):
        ScanConfig(windows=(30, 60), main_window=90)


def _edge_panel() -> tuple[np.ndarray, Benchmark]:
    """Closes on 400 sessions with the cases a scan kernel must get right."""
    rng = np.random.default_rng(21)
    n = 400
    bench_close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    bench_ret = np.diff(np.log(bench_close), prepend=np.nan)
    dates = pd.bdate_range("2020-01-01", periods=n)
    columns = []
    for beta in (1.5, 0.8, -0.5, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0):
        ret = beta * np.nan_to_num(bench_ret) + rng.normal(0, 0.012, n)
        columns.append(50 * np.exp(np.cumsum(ret)))
    closes = np.column_stack(columns)
    closes[200:290, 4] = closes[199, 4]  # a stablecoin-like flat stretch: constant windows
    closes[300:, 5] = closes[299, 5]  # flat to the end: NaN now, run undefined
    closes[150, 6] = 0.0  # a zero close: infinite returns inside the span
    closes[:330, 7] = np.nan  # listed late: fewer returns than the lead-lag span
    closes[260:, 8] = np.nan  # delisted: ends early
    closes[:370, 9] = np.nan  # shorter than the main window
    return np.asfortranarray(closes), Benchmark("B", "b", dates, bench_close)


@needs_numba
@pytest.mark.parametrize("threshold", [0.5, -0.2, 0.0])
def test_compiled_scan_equals_the_exact_path_on_edge_cases(
    monkeypatch: pytest.MonkeyPatch, threshold: float
) -> None:
    closes, bench = _edge_panel()
    config = ScanConfig(windows=(20, 40, 60), lead_lag_sessions=120, max_lag=8, threshold=threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        compiled = scan_closes(closes, bench, config)
        monkeypatch.setattr(scan_stats, "numba_available", lambda: False)
        exact = scan_closes(closes, bench, config)
    for name, got in compiled.stats.items():
        want = exact.stats[name]
        if got.dtype == object or name == "side_sessions":
            assert list(got) == list(want), name
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=name)
    stats = compiled.stats
    assert math.isnan(stats["corr_40"][5])  # flat at the end
    assert stats["side"][5] == ""
    assert math.isnan(stats["corr_60"][9])  # shorter than the main window
    assert not math.isnan(stats["corr_20"][9])
    assert np.isfinite(stats["lead_lag"]).all()


@needs_numba
def test_lead_lag_takes_the_lags_with_at_least_three_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closes, bench = _edge_panel()
    young = closes[:, 0].copy()
    young[:392] = np.nan  # 8 closes, 7 returns: lags up to 4 have three pairs
    panel = np.column_stack([closes[:, 0], closes[:, 8], young])  # full, delisted, young
    config = ScanConfig(windows=(5, 20), lead_lag_sessions=12, max_lag=10)
    compiled = scan_closes(panel, bench, config)
    monkeypatch.setattr(scan_stats, "numba_available", lambda: False)
    exact = scan_closes(panel, bench, config)
    np.testing.assert_allclose(compiled.stats["lead_lag_corr"], exact.stats["lead_lag_corr"])
    np.testing.assert_array_equal(compiled.stats["lead_lag"], exact.stats["lead_lag"])
    x = np.diff(np.log(young[391:]))
    y = np.diff(np.log(bench.close[391:]))
    ccf = comove.lead_lag(pd.Series(x), pd.Series(y), 4)
    best = int(ccf.index[int(np.argmax(ccf.abs().to_numpy()))])
    assert compiled.stats["lead_lag"][2] == best
    assert abs(compiled.stats["lead_lag"][2]) <= 4


def test_threshold_outside_minus_one_to_one_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        ScanConfig(threshold=1.0)
