"""The report's figures: every key in order, titled, drawn from the analysis and nothing else."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import comove
from comove.pipeline import Analysis
from comove.report.charts import STRONG_LEVEL, Figure, build_figures

from ..conftest import correlated_pair

KEYS = [
    "overlay",
    "correlation",
    "correlation_variants",
    "synchronicity",
    "lead_lag",
    "beta",
    "rsi",
    "macd",
    "relative_volume",
]


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return comove.build_analysis(*correlated_pair())


@pytest.fixture(scope="module")
def figures(analysis: Analysis) -> dict[str, Figure]:
    return build_figures(analysis)


def _trace(figure: Figure, name: str) -> dict:
    matches = [t for t in figure["data"] if t["name"] == name]
    assert len(matches) == 1, f"expected one trace named {name!r}"
    return matches[0]


def _values(trace: dict, axis: str = "y") -> np.ndarray:
    return np.asarray(trace[axis], dtype="float64")


def _hline_levels(figure: Figure) -> list[float]:
    return sorted(
        float(s["y0"])
        for s in figure["layout"]["shapes"]
        if s["type"] == "line" and s["y0"] == s["y1"] and s["xref"] in ("x domain", "paper")
    )


def _vrects(figure: Figure) -> list[dict]:
    return [
        s
        for s in figure["layout"]["shapes"]
        if s["type"] == "rect" and s["yref"] in ("y domain", "paper")
    ]


def test_every_key_present_in_display_order(figures: dict[str, Figure]) -> None:
    assert list(figures) == KEYS


@pytest.mark.parametrize("key", KEYS)
def test_each_figure_has_traces_and_a_title(figures: dict[str, Figure], key: str) -> None:
    figure = figures[key]
    assert len(figure["data"]) >= 1
    title = figure["layout"]["title"]["text"]
    assert isinstance(title, str)
    assert title.strip()
    assert figure["layout"]["template"]["layout"]["paper_bgcolor"] == "white"
    assert figure["layout"]["hovermode"] in ("x unified", "closest")


@pytest.mark.parametrize("key", KEYS)
def test_each_figure_is_valid_plotly(figures: dict[str, Figure], key: str) -> None:
    """Plotly's own validator accepts every figure built as plain dicts."""
    import plotly.graph_objects as go

    checked = go.Figure(figures[key])
    assert len(checked.data) == len(figures[key]["data"])


def test_building_figures_does_not_touch_the_analysis() -> None:
    analysis = comove.build_analysis(*correlated_pair())
    before = analysis.table.copy()
    attrs = dict(analysis.table.attrs)
    build_figures(analysis)
    pd.testing.assert_frame_equal(analysis.table, before)
    assert analysis.table.attrs == attrs


def test_overlay_uses_rebased_closes_and_the_names(analysis: Analysis, figures: dict) -> None:
    crypto = _trace(figures["overlay"], "CRYPTO")
    equity = _trace(figures["overlay"], "EQUITY")
    np.testing.assert_array_equal(_values(crypto), analysis.table["crypto_norm"].to_numpy())
    np.testing.assert_array_equal(_values(equity), analysis.table["equity_norm"].to_numpy())
    assert _values(crypto)[0] == pytest.approx(100.0)


def test_correlation_bands_contain_the_correlation(analysis: Analysis, figures: dict) -> None:
    figure = figures["correlation"]
    for w in analysis.meta["windows"]:
        lo = _values(_trace(figure, f"{w}-session band low"))
        hi = _values(_trace(figure, f"{w}-session 95% band"))
        corr = _values(_trace(figure, f"{w}-session"))
        np.testing.assert_array_equal(corr, analysis.table[f"corr_{w}"].to_numpy())
        defined = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(corr)
        assert defined.sum() > 100
        assert (lo[defined] <= corr[defined]).all()
        assert (corr[defined] <= hi[defined]).all()
        assert _trace(figure, f"{w}-session 95% band")["fill"] == "tonexty"


def test_correlation_has_reference_lines_at_half_and_zero(figures: dict) -> None:
    levels = _hline_levels(figures["correlation"])
    assert 0.0 in levels
    assert STRONG_LEVEL in levels


def _runs_above(lower: pd.Series, level: float) -> int:
    flags = (lower > level).to_numpy(dtype=int)
    return int((np.diff(np.concatenate(([0], flags))) == 1).sum())


def test_shaded_regions_where_the_lower_band_clears_half() -> None:
    analysis = comove.build_analysis(*correlated_pair(rho=0.9))
    lower = analysis.table[f"corr_{analysis.comparison_window}_lo"]
    expected = _runs_above(lower, STRONG_LEVEL)
    assert expected > 0
    figure = build_figures(analysis)["correlation"]
    rects = _vrects(figure)
    assert len(rects) == expected
    first_date = lower.index[(lower > STRONG_LEVEL).to_numpy()][0]
    assert pd.Timestamp(rects[0]["x0"]) == first_date


def test_no_shading_when_the_lower_band_never_clears_half(
    analysis: Analysis, figures: dict
) -> None:
    lower = analysis.table[f"corr_{analysis.comparison_window}_lo"]
    assert _runs_above(lower, STRONG_LEVEL) == 0
    assert _vrects(figures["correlation"]) == []


def test_variants_show_pearson_spearman_and_ewma(analysis: Analysis, figures: dict) -> None:
    figure = figures["correlation_variants"]
    w = analysis.comparison_window
    names = [t["name"] for t in figure["data"]]
    assert names[0] == f"Pearson ({w} sessions)"
    spearman = _trace(figure, f"Spearman ({w} sessions)")
    np.testing.assert_array_equal(_values(spearman), analysis.spearman[w].to_numpy())
    ewma = _trace(figure, f"EWMA (λ = {analysis.ewma_lambda:g})")
    np.testing.assert_array_equal(_values(ewma), analysis.ewma.to_numpy())


def test_synchronicity_has_one_line_per_comparison_column(
    analysis: Analysis, figures: dict
) -> None:
    figure = figures["synchronicity"]
    assert len(figure["data"]) == len(analysis.comparison.columns)
    for trace, column in zip(figure["data"], analysis.comparison.columns, strict=True):
        np.testing.assert_array_equal(_values(trace), analysis.comparison[column].to_numpy())


def test_synchronicity_includes_the_synchronous_line_when_given() -> None:
    crypto, equity = correlated_pair(start="2023-01-02", end="2023-12-29")
    hours = pd.date_range(crypto.index[0], crypto.index[-1] + pd.Timedelta(hours=23), freq="h")
    hourly = crypto.reindex(hours.normalize()).set_axis(hours.rename("date"))
    hourly.attrs = {**crypto.attrs, "interval": "1h"}
    synchronous = comove.build_analysis(
        crypto, equity, mode="synchronous", crypto_intraday=hourly, n_boot=20
    )
    figure = build_figures(synchronous)["synchronicity"]
    assert [t["name"].split(" (")[0] for t in figure["data"]] == [
        "Naive",
        "Synchronous",
        "Lag-adjusted",
    ]
    assert "synchronous" in figure["layout"]["title"]["text"]


def test_lead_lag_bars_best_lag_and_significance(analysis: Analysis, figures: dict) -> None:
    figure = figures["lead_lag"]
    best = analysis.lead_lag_best
    lags = np.concatenate([_values(t, "x") for t in figure["data"]])
    corr = np.concatenate([_values(t) for t in figure["data"]])
    order = np.argsort(lags)
    np.testing.assert_array_equal(lags[order], analysis.lead_lag.index.to_numpy())
    np.testing.assert_array_equal(corr[order], analysis.lead_lag.to_numpy())
    highlighted = [t for t in figure["data"] if t["name"].startswith("Best lag")]
    assert len(highlighted) == 1
    assert list(highlighted[0]["x"]) == [best.best_lag]
    limit = 1.96 / math.sqrt(best.n)
    levels = _hline_levels(figure)
    assert any(abs(level - limit) < 1e-12 for level in levels)
    assert any(abs(level + limit) < 1e-12 for level in levels)
    assert "positive lag = crypto leads" in figure["layout"]["xaxis"]["title"]["text"]


def test_beta_has_one_line_per_window(analysis: Analysis, figures: dict) -> None:
    figure = figures["beta"]
    for w in analysis.meta["windows"]:
        trace = _trace(figure, f"{w}-session")
        np.testing.assert_array_equal(_values(trace), analysis.table[f"beta_{w}"].to_numpy())


def test_rsi_two_rows_with_reference_lines(analysis: Analysis, figures: dict) -> None:
    figure = figures["rsi"]
    crypto = _trace(figure, "CRYPTO RSI")
    equity = _trace(figure, "EQUITY RSI")
    assert (crypto.get("yaxis", "y"), equity["yaxis"]) == ("y", "y2")
    assert figure["layout"]["xaxis"]["matches"] == "x2"
    levels = [float(s["y0"]) for s in figure["layout"]["shapes"] if s["y0"] == s["y1"]]
    for level in (30.0, 50.0, 70.0):
        assert levels.count(level) == 2
    np.testing.assert_array_equal(_values(crypto), analysis.table["rsi_crypto"].to_numpy())


def test_matched_shifts_are_marked(analysis: Analysis, figures: dict) -> None:
    shifts = analysis.shifts
    for key in ("rsi", "macd"):
        marked = [t for t in figures[key]["data"] if t["name"].startswith("Matched shift")]
        wanted = int((shifts["indicator"] == key).sum())
        # Each matched shift is marked on both rows.
        assert sum(len(t["x"]) for t in marked) == 2 * wanted


def test_macd_lines_and_histogram_per_asset(analysis: Analysis, figures: dict) -> None:
    figure = figures["macd"]
    bars = [t for t in figure["data"] if t["name"] == "Histogram"]
    # Per asset, one green area (at or above zero) and one red (below) for the histogram.
    assert len(bars) == 4
    assert [t.get("yaxis", "y") for t in bars] == ["y", "y", "y2", "y2"]
    up, down = (_values(t) for t in bars[:2])
    hist = analysis.table["macd_hist_crypto"].to_numpy()
    np.testing.assert_array_equal(up + down, hist)
    assert (up[np.isfinite(up)] >= 0).all()
    assert (down[np.isfinite(down)] <= 0).all()
    assert [t["fill"] for t in bars] == ["tozeroy"] * 4
    assert [t["showlegend"] for t in bars] == [True, False, False, False]
    for name in ("CRYPTO MACD", "EQUITY MACD"):
        _trace(figure, name)
    assert len([t for t in figure["data"] if t["name"] == "Signal"]) == 2


def test_relative_volume_lines_and_reference(analysis: Analysis, figures: dict) -> None:
    figure = figures["relative_volume"]
    assert [t["name"] for t in figure["data"]] == ["CRYPTO", "EQUITY"]
    assert 1.0 in _hline_levels(figure)
    assert not [a for a in figure["layout"]["annotations"] if a["text"] == "no volume data"]


def test_relative_volume_without_volume_says_so() -> None:
    crypto, equity = correlated_pair()
    crypto["volume"] = np.nan
    equity["volume"] = np.nan
    analysis = comove.build_analysis(crypto, equity)
    assert analysis.table[["relvol_crypto", "relvol_equity"]].isna().all().all()
    assert analysis.meta["notes"]
    figure = build_figures(analysis)["relative_volume"]
    assert figure["layout"]["title"]["text"]
    assert [a["text"] for a in figure["layout"]["annotations"]].count("no volume data") == 1


def test_log_axes_carry_readable_labels(analysis: Analysis) -> None:
    from comove.report.charts import equity_curve_figure, log_ticks

    assert log_ticks(0.35, 4.2) == [0.5, 1.0, 2.0, 5.0]
    assert log_ticks(0.01, 500) == [0.01, 0.1, 1.0, 10.0, 100.0]
    figure = equity_curve_figure(analysis.backtest, "ETH")
    axis = figure["layout"]["yaxis"]
    assert axis["type"] == "log"
    labels = list(axis["ticktext"])
    assert labels
    assert all(any(ch in label for ch in ".0125") for label in labels)
    assert labels == [f"{v:g}" for v in axis["tickvals"]]
