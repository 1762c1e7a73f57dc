"""The HTML report: one self-contained file, escaped text, the banner, the errors users see."""

from __future__ import annotations

import dataclasses
import html as htmllib
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import comove
import comove.files
from comove.data.calendar import sessions
from comove.errors import ConfigError
from comove.pipeline import Analysis
from comove.report.charts import PLOTLY_JS_VERSION, plotly_js
from comove.report.html import write_report

from ..conftest import correlated_pair, make_bars
from ..htmltext import element_text
from .test_charts import KEYS

EVIL = "</script><script>alert(1)</script>"


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return comove.build_analysis(*correlated_pair())


@pytest.fixture(scope="module")
def page(analysis: Analysis, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_report(
        analysis,
        tmp_path_factory.mktemp("report") / "report.html",
        generated_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    return path.read_text(encoding="utf-8")


def _with_attrs(analysis: Analysis, **attrs: object) -> Analysis:
    history = analysis.history.copy()
    history.attrs = dict(analysis.history.attrs) | attrs
    return dataclasses.replace(analysis, history=history)


def _without_plotlyjs(page: str) -> str:
    return page.replace(plotly_js(), "")


def test_writes_the_file_and_returns_the_resolved_path(
    analysis: Analysis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    written = write_report(analysis, "out.html")
    assert written == (tmp_path / "out.html").resolve()
    assert written.is_absolute()
    text = written.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert text.rstrip().endswith("</html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.html"]  # no temporary left


def test_overwrites_an_existing_report(analysis: Analysis, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    write_report(analysis, target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_title_and_every_chart_div(page: str) -> None:
    assert "<title>CRYPTO vs EQUITY co-movement</title>" in page
    assert "<h1>CRYPTO vs EQUITY co-movement</h1>" in page
    positions = [page.index(f'id="chart-{key}"') for key in KEYS]
    assert positions == sorted(positions)  # charts appear in display order
    assert len(re.findall(r'<div class="plot" id="chart-', page)) == len(KEYS)


def test_no_external_resources(page: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    assert not re.search(r"<img\b", page, re.IGNORECASE)
    rest = _without_plotlyjs(page)
    assert "cdn.plot.ly" not in rest
    assert "https://" not in rest
    assert "http://" not in rest
    assert "@import" not in rest


def test_plotlyjs_inlined_exactly_once(page: str) -> None:
    assert page.count(plotly_js()) == 1
    banner = plotly_js()[:200]
    assert page.count(banner) == 1
    # The vendored partial bundle is the version the README and PLOTLY_JS_VERSION name.
    assert f"plotly.js (cartesian - minified) v{PLOTLY_JS_VERSION}\n" in banner


def test_no_synthetic_banner_for_real_data(page: str) -> None:
    assert "SYNTHETIC DATA" not in page


def test_synthetic_banner_when_meta_says_so(analysis: Analysis, tmp_path: Path) -> None:
    text = write_report(_with_attrs(analysis, synthetic=True), tmp_path / "r.html").read_text(
        encoding="utf-8"
    )
    assert "SYNTHETIC DATA — not market prices" in text
    assert 'id="synthetic-banner"' in text


def test_current_reading_in_words(analysis: Analysis, page: str) -> None:
    assert "Current reading" in page
    assert htmllib.escape(analysis.reading.headline(), quote=False) in page
    for window in analysis.reading.windows:
        assert f"{window.corr:+.2f}" in page
        assert f"[{window.lo:+.2f}, {window.hi:+.2f}]" in page
        assert f"{window.beta:.2f}" in page
        assert window.strength in page
        assert window.certainty in page
    for momentum in analysis.reading.momentum:
        assert f"{momentum.rsi:.1f}" in page
        assert htmllib.escape(momentum.rsi_zone, quote=False) in page
        assert momentum.macd_state in page


def test_lead_lag_summary(analysis: Analysis, page: str) -> None:
    best = analysis.lead_lag_best
    assert best.best_lag == 0  # the fixture has no lead: same-session link only
    assert "neither leads" in page
    assert f"{best.corr:+.2f}" in page
    assert f"{best.p_value:.1e}" in page
    assert f"{best.p_adjusted:.1e}" in page
    assert "Bonferroni" in page
    assert f"{len(analysis.lead_lag)} lags" in page


def _report(analysis: Analysis, folder: Path) -> str:
    return write_report(analysis, folder / "r.html").read_text(encoding="utf-8")


def _leading_pair(lag: int, strength: float, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bars on XNYS sessions where the equity's return echoes the crypto's ``lag`` sessions
    later (a negative ``lag``: the crypto echoes the equity's)."""
    rng = np.random.default_rng(seed)
    days = sessions(pd.Timestamp("2022-01-03"), pd.Timestamp("2023-12-29"))
    leader = rng.normal(0, 0.02, len(days))
    follower = strength * np.roll(leader, abs(lag)) + rng.normal(0, 0.02, len(days))
    crypto, equity = (leader, follower) if lag > 0 else (follower, leader)
    return (
        make_bars(days, crypto, seed=1, name="CRYPTO"),
        make_bars(days, equity, seed=2, name="EQUITY"),
    )


@pytest.mark.parametrize(
    ("lag", "words"),
    [(2, "CRYPTO leads EQUITY by 2 sessions"), (-1, "EQUITY leads CRYPTO by 1 session")],
)
def test_lead_lag_says_which_leads(tmp_path: Path, lag: int, words: str) -> None:
    analysis = comove.build_analysis(*_leading_pair(lag, strength=0.8), n_boot=20)
    assert analysis.lead_lag_best.best_lag == lag
    section = element_text(_report(analysis, tmp_path), "lead-lag")
    assert words in section
    assert "significant after the Bonferroni correction" in section
    assert "not significant" not in section


def test_lead_lag_without_a_link_is_called_noise(tmp_path: Path) -> None:
    analysis = comove.build_analysis(*_leading_pair(1, strength=0.0, seed=6), n_boot=20)
    assert not analysis.lead_lag_best.significant
    assert "so treat any lead as noise" in element_text(_report(analysis, tmp_path), "lead-lag")


def test_data_span_sources_and_alignment(analysis: Analysis, page: str) -> None:
    assert "2022-01-03" in page
    assert "2023-12-29" in page
    assert f"{len(analysis.table)} aligned sessions" in page
    assert "test:CRYPTO" in page
    assert "test:EQUITY" in page
    assert "<code>daily</code>" in page
    assert "<code>XNYS</code>" in page
    assert "weekends and holidays fold into the next session" in page


def test_synchronous_mode_is_explained(analysis: Analysis, tmp_path: Path) -> None:
    text = write_report(_with_attrs(analysis, mode="synchronous"), tmp_path / "r.html").read_text(
        encoding="utf-8"
    )
    assert "sampled at the equity close" in text
    assert "hourly bars" in text


def test_notes_and_data_warnings_appear_escaped(tmp_path: Path) -> None:
    crypto, equity = correlated_pair()
    crypto["volume"] = np.nan
    analysis = comove.build_analysis(crypto, equity)
    notes = analysis.meta["notes"]
    assert notes
    text = write_report(
        analysis,
        tmp_path / "r.html",
        data_warnings=["3 crypto days missing", "odd <b>row</b> in equity.csv"],
    ).read_text(encoding="utf-8")
    for note in notes:
        assert htmllib.escape(note) in text
    assert "3 crypto days missing" in text
    assert "odd &lt;b&gt;row&lt;/b&gt; in equity.csv" in text
    assert "<b>row</b>" not in text


def test_shift_table_newest_first_and_capped(analysis: Analysis, page: str) -> None:
    section = page[page.index('id="shifts"') :]
    section = section[: section.index("</section>")]
    dates = re.findall(r'<td class="num">(\d{4}-\d{2}-\d{2})</td>', section)
    expected = [
        pd.Timestamp(d).strftime("%Y-%m-%d") for d in analysis.shifts["date"].iloc[::-1][:15]
    ]
    assert len(analysis.shifts) > 15
    assert dates == expected


def test_shift_table_says_none_when_empty(analysis: Analysis, tmp_path: Path) -> None:
    quiet = analysis.span(since=analysis.table.index[-3])
    assert quiet.shifts.empty
    assert element_text(_report(quiet, tmp_path), "shifts").endswith("none")


def test_footer_has_time_and_version(page: str) -> None:
    assert "2024-01-02 03:04:05 UTC" in page
    assert f"comove {comove.__version__}" in page


def test_injected_name_cannot_break_out(tmp_path: Path) -> None:
    crypto, equity = correlated_pair()
    crypto.attrs["name"] = EVIL
    analysis = comove.build_analysis(crypto, equity)
    assert analysis.meta["crypto_name"] == EVIL
    text = write_report(analysis, tmp_path / "r.html").read_text(encoding="utf-8")
    assert EVIL not in text
    assert "<script>alert(1)" not in text
    # plotly.js, the figure data, figures.js and the call that draws: nothing else opens
    # or closes a script.
    assert len(re.findall(r"<script\b", text, re.IGNORECASE)) == 4
    assert len(re.findall(r"</script", text, re.IGNORECASE)) == 4
    assert htmllib.escape(EVIL, quote=False) in text  # shown, as text, in the headings
    assert "\\u003cscript\\u003ealert(1)" in text  # and escaped inside the figure data


def test_missing_folder_is_a_config_error(analysis: Analysis, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="nowhere") as caught:
        write_report(analysis, missing / "report.html")
    assert "\n" not in str(caught.value)
    assert not missing.exists()


def test_folder_as_path_is_a_config_error(analysis: Analysis, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder"):
        write_report(analysis, tmp_path)


def test_failed_write_leaves_no_temporary(
    analysis: Analysis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(comove.files.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_report(analysis, tmp_path / "r.html")
    assert list(tmp_path.iterdir()) == []


def test_write_report_is_public() -> None:
    assert comove.write_report is write_report


def test_short_history_still_renders(tmp_path: Path) -> None:
    crypto, equity = correlated_pair("2023-01-02", "2023-01-12")
    analysis = comove.build_analysis(crypto, equity, windows=(3,))
    assert analysis.shifts.empty
    text = write_report(analysis, tmp_path / "r.html").read_text(encoding="utf-8")
    assert all(f'id="chart-{key}"' in text for key in KEYS)
    assert "[—, —]" in text  # a band not yet defined is a dash, not "nan"
    assert "<p>none</p>" in text
