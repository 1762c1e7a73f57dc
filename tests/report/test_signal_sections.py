"""The report's signal, evaluation, claims, macro and breadth sections: shown only with data."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

import comove
from comove.pipeline import Analysis
from comove.report.charts import (
    build_signal_figures,
    liquidity_figure,
    signal_timeline_figure,
)
from comove.report.html import render_report
from comove.signals.evaluate import Evaluation, evaluate_all

from ..conftest import correlated_pair
from .test_charts import KEYS


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return comove.build_analysis(*correlated_pair())


@pytest.fixture(scope="module")
def evaluation(analysis: Analysis) -> Evaluation:
    return evaluate_all(analysis.table, n_boot=200)


@pytest.fixture(scope="module")
def macro(analysis: Analysis) -> pd.DataFrame:
    n = len(analysis.table)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "contrib_net_liquidity": rng.normal(0, 0.5, n),
            "contrib_dollar": rng.normal(0, 0.3, n),
        },
        index=analysis.table.index,
    )
    frame["liquidity_score"] = frame.sum(axis=1)
    return frame


def test_liquidity_areas_stack_to_a_mean_score(macro: pd.DataFrame) -> None:
    averaged = macro.assign(
        liquidity_score=macro[["contrib_net_liquidity", "contrib_dollar"]].mean(axis=1)
    )
    averaged.iloc[:5, 1] = np.nan  # one input missing: the score is the other one alone
    averaged.iloc[:5, 2] = averaged.iloc[:5, 0]
    figure = liquidity_figure(averaged)
    parts = [np.asarray(t["y"], dtype="float64") for t in figure["data"] if "stackgroup" in t]
    stacked = np.nansum(np.vstack(parts), axis=0)
    np.testing.assert_allclose(stacked, averaged["liquidity_score"], atol=1e-12)


def _page(analysis: Analysis, macro: pd.DataFrame) -> str:
    return render_report(dataclasses.replace(analysis, macro_history=macro))


def test_every_analysis_has_the_signal_sections(analysis: Analysis) -> None:
    page = render_report(analysis)
    for marker in ('id="signals"', 'id="evaluation"', 'id="claims"', "panel-"):
        assert marker in page


def test_sections_present_with_data(
    analysis: Analysis, evaluation: Evaluation, macro: pd.DataFrame
) -> None:
    page = _page(analysis, macro)
    for marker in (
        'id="signals"',
        'id="signal-synchronized_breakout"',
        'id="signal-history"',
        'id="evaluation"',
        'id="event-study"',
        'id="strategy-metrics"',
        'id="claims"',
        'id="claims-episodes"',
        'id="macro"',
        'id="panel-signal_timeline"',
        'id="panel-equity_curve"',
        'id="panel-liquidity"',
    ):
        assert marker in page, marker
    # The original charts are unchanged: the new panels use their own id prefix.
    assert len(re.findall(r'<div class="plot" id="chart-', page)) == len(KEYS)
    assert "cannot be confirmed" in page  # no macro column in the table: breakout unknown
    assert "60-session correlation" in page
    assert "weak evidence" in page or "includes zero" in page
    assert "Stance overlay" in page
    assert "Buy-and-hold" in page
    assert "rose above 0.6" in page
    claims = page[page.index('<section id="claims">') :]
    claims = claims[: claims.index("</section>")]
    # Whose claim it checks, since the user supplied none.
    assert "A claim from the market commentary comove was built around" in claims
    assert "periodically rose above 0.6 during risk-on phases" in claims


def test_breadth_panel_follows_the_table(analysis: Analysis) -> None:
    history = analysis.history.copy()
    history["breadth"] = np.linspace(0.5, 0.6, len(history))
    page = render_report(dataclasses.replace(analysis, history=history))
    assert 'id="signals"' in page
    assert 'id="evaluation"' in page
    assert 'id="panel-breadth"' in page
    assert 'id="panel-liquidity"' not in page


def test_signal_figures_draw_the_data(
    analysis: Analysis, evaluation: Evaluation, macro: pd.DataFrame
) -> None:
    figures = build_signal_figures(
        analysis, signals=evaluation.signals, backtest=evaluation.backtest, macro=macro
    )
    assert list(figures) == ["signal_timeline", "equity_curve", "liquidity"]
    timeline = signal_timeline_figure(evaluation.signals)
    heat = timeline["data"][0]
    z = np.asarray(heat["z"], dtype="float64")
    expected = (
        evaluation.signals.columns[
            ["signal_decoupling", "signal_risk_off_alignment", "signal_synchronized_breakout"]
        ]
        .to_numpy()
        .T
    )
    np.testing.assert_array_equal(z, expected)
    stance = np.asarray(timeline["data"][1]["y"], dtype="float64")
    np.testing.assert_array_equal(stance, evaluation.signals.columns["stance"].to_numpy())
    curve = figures["equity_curve"]
    names = [t["name"] for t in curve["data"]]
    assert names == ["Stance overlay", "Buy-and-hold CRYPTO", "Constant 0.5 exposure"]
    np.testing.assert_allclose(
        np.asarray(curve["data"][0]["y"], dtype="float64"), evaluation.backtest.equity["strategy"]
    )
    liquidity = liquidity_figure(macro)
    areas = [t for t in liquidity["data"] if "stackgroup" in t]
    assert [t["name"] for t in areas if t["showlegend"]] == ["net liquidity", "dollar"]
    up, down = (np.asarray(t["y"], dtype="float64") for t in areas[:2])
    np.testing.assert_allclose(up + down, macro["contrib_net_liquidity"])
    assert [t["stackgroup"] for t in areas] == ["contributions+", "contributions-"] * 2
