"""The report's "small caps or just stocks" section and the claims check's regime sentences."""

from __future__ import annotations

import pytest

from comove.data.demo import demo_macro, demo_pair
from comove.pipeline import Analysis, build_analysis
from comove.report.html import render_report

from ..conftest import correlated_pair
from ..htmltext import element_text


@pytest.fixture(scope="module")
def with_large_caps() -> Analysis:
    crypto, equity = demo_pair()
    series, large_caps = demo_macro(equity)
    return build_analysis(crypto, equity, macro=series, large_caps=large_caps)


def test_the_section_shows_both_intervals_and_the_verdict(with_large_caps: Analysis) -> None:
    page = render_report(with_large_caps)
    words = element_text(page, "commentary-words")
    comparison = with_large_caps.commentary.benchmarks
    assert comparison is not None
    assert words.startswith(comparison.words()[0][:40])
    assert "Williams' t p =" in words
    assert with_large_caps.commentary.shift_words() in words
    assert "(CUSUM" in words
    estimates = element_text(page, "commentary-estimates")
    for label in comparison.benchmarks:
        assert label in estimates
    first = comparison.whole[0]
    assert f"[{first.fisher[0]:+.2f}, {first.fisher[1]:+.2f}]" in estimates
    assert f"[{first.bootstrap.low:+.2f}, {first.bootstrap.high:+.2f}]" in estimates
    assert "latest 60" in estimates
    methods = element_text(page, "methods")
    assert "Politis & White" in methods
    assert "Williams' t" in methods
    assert 'id="panel-benchmarks"' in page


def test_the_claims_check_states_each_regime(with_large_caps: Analysis) -> None:
    page = render_report(with_large_caps)
    claims = element_text(page, "claims-words")
    regimes = with_large_caps.whole.regimes_compared
    assert [r.name for r in regimes] == ["risk_on", "crypto_only_moves"]
    for regime in regimes:
        assert regime.sentence() in claims
    assert "in risk-on sessions" in claims
    assert "around crypto-only moves" in claims


def test_without_large_caps_the_section_says_what_is_missing() -> None:
    page = render_report(build_analysis(*correlated_pair()))
    words = element_text(page, "commentary-words")
    assert "benchmarks not compared: only EQUITY could be loaded" in words
    assert 'id="panel-benchmarks"' not in page
