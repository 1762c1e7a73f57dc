"""The report in a real headless chromium: every chart draws, offline, with no script errors."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pandas as pd
import pytest

import comove
from comove.report.charts import build_figures, build_signal_figures
from comove.report.html import write_report

from ..conftest import correlated_pair
from .test_charts import KEYS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ALL_CHARTS_DRAWN = """() => {
    const charts = [...document.querySelectorAll('div[id^=chart-]')];
    return charts.length > 0 && charts.every((d) => d.querySelector('.main-svg'));
}"""
TRACES_PER_CHART = """() => Object.fromEntries(
    [...document.querySelectorAll('div[id^=chart-]')].map((d) => [
        d.id,
        d.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
    ])
)"""


def _unavailable(reason: str) -> NoReturn:
    # CI installs chromium, so a missing browser there is a broken setup, not a skip.
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this must not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).is_file():
        _unavailable(f"chromium not found on PATH or at {executable} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Visit:
    """A page opened from file:// that records errors, dialogs and any network request."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.external: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("dialog", self._dialog)
        page.route("**/*", self._route)

    def _console(self, message: Any) -> None:
        # plotly.js reports bad figure data as "WARN: ..." log lines, not as errors.
        if message.type in ("error", "warning") or message.text.startswith("WARN"):
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri())
        self.page.wait_for_function(ALL_CHARTS_DRAWN, timeout=30_000)


def _visit(browser: Browser, path: Path, width: int = 1200) -> Visit:
    page = browser.new_page(viewport={"width": width, "height": 900})
    visit = Visit(page)
    visit.open(path)
    return visit


def test_every_chart_renders_without_errors(
    browser: Browser, pair: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    report = write_report(comove.build_analysis(*pair), tmp_path / "report.html")
    visit = _visit(browser, report)
    try:
        traces = visit.page.evaluate(TRACES_PER_CHART)
        assert list(traces) == [f"chart-{key}" for key in KEYS]
        empty = [chart for chart, count in traces.items() if count < 1]
        assert not empty, f"charts drawn without any trace: {empty}"
        assert visit.errors == []
        assert visit.external == []
        screenshot = tmp_path / "report.png"
        visit.page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.is_file()
        assert screenshot.stat().st_size > 50_000
    finally:
        visit.page.close()


def test_phone_width_renders_without_errors(browser: Browser, tmp_path: Path) -> None:
    report = write_report(comove.build_analysis(*correlated_pair()), tmp_path / "report.html")
    visit = _visit(browser, report, width=390)
    try:
        assert visit.errors == []
        widths = visit.page.evaluate(
            "() => [...document.querySelectorAll('div[id^=chart-] .main-svg')]"
            ".map((svg) => svg.getBoundingClientRect().width)"
        )
        assert widths
        assert max(widths) <= 390
    finally:
        visit.page.close()


def test_injected_name_runs_no_script(browser: Browser, tmp_path: Path) -> None:
    crypto, equity = correlated_pair()
    crypto.attrs["name"] = "</script><script>alert(1)</script>"
    report = write_report(comove.build_analysis(crypto, equity), tmp_path / "report.html")
    visit = _visit(browser, report)
    try:
        assert visit.dialogs == []
        assert visit.errors == []
        heading = visit.page.inner_text("h1")
        assert heading.startswith("</script><script>alert(1)</script> vs EQUITY")
    finally:
        visit.page.close()


EVERY_COLUMN_REACHABLE = """() => {
    const problems = [];
    for (const table of document.querySelectorAll('table')) {
        const last = table.querySelector('tr > :last-child');
        if (!last) continue;
        const wrap = table.closest('.table-wrap');
        if (wrap) wrap.scrollLeft = wrap.scrollWidth;
        const box = last.getBoundingClientRect();
        const limit = wrap ? wrap.getBoundingClientRect().right : window.innerWidth;
        if (box.width === 0 || box.right > limit + 1) problems.push(table.id || table.className);
    }
    return problems;
}"""


def test_every_table_column_is_reachable_at_1400_px(browser: Browser, tmp_path: Path) -> None:
    from comove.data.demo import demo_macro, demo_pair

    crypto, equity = demo_pair(seed=5)
    macro, large_caps = demo_macro(equity)
    analysis = comove.build_analysis(crypto, equity, macro=macro, large_caps=large_caps)
    report = write_report(analysis, tmp_path / "report.html")
    visit = _visit(browser, report, width=1400)
    try:
        assert visit.page.evaluate("() => document.querySelectorAll('table').length") >= 8
        assert visit.page.evaluate(EVERY_COLUMN_REACHABLE) == []
        # The verdict at the top links to each checklist.
        links = visit.page.eval_on_selector_all(
            "#verdict a", "(anchors) => anchors.map((a) => a.getAttribute('href'))"
        )
        assert set(links) >= {f"#signal-{name}" for name in ("synchronized_breakout", "stance")}
        visit.page.click("#verdict a[href='#signal-risk_off_alignment']")
        top = visit.page.evaluate(
            "() => document.getElementById('signal-risk_off_alignment').getBoundingClientRect().top"
        )
        assert 0 <= top < 200
        assert visit.errors == []
    finally:
        visit.page.close()


def test_every_column_of_the_scan_page_is_reachable_at_1400_px(
    browser: Browser, tmp_path: Path
) -> None:
    from comove.report.scan import write_scan_report
    from comove.scan.engine import ScanConfig, scan_frames
    from comove.scan.synthetic import generate_universe
    from comove.scan.universe import prepare_benchmark

    frames, bench = generate_universe(12, 300, seed=2)
    result = scan_frames(
        frames,
        [prepare_benchmark(bench, name="A"), prepare_benchmark(bench, name="B")],
        ScanConfig(),
    )
    page_path = tmp_path / "scan.html"
    write_scan_report(result, page_path)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(page_path.as_uri())
        page.wait_for_function(ALL_CHARTS_DRAWN, timeout=30_000)
        assert page.evaluate(EVERY_COLUMN_REACHABLE) == []
    finally:
        page.close()


def test_the_vendored_plotly_js_has_every_trace_type_the_figures_use(
    browser: Browser, pair: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    # The report inlines plotly.js's "cartesian" partial bundle: a trace type it lacks would
    # draw nothing, silently. Compare what plotly.js registered with what the figures ask for.
    analysis = comove.build_analysis(*pair)
    signal_figures = build_signal_figures(analysis, signals=analysis.signals)
    figures = {**build_figures(analysis), **signal_figures}
    used = {trace.get("type", "scatter") for f in figures.values() for trace in f["data"]}
    visit = _visit(browser, write_report(analysis, tmp_path / "report.html"))
    try:
        registered = set(visit.page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces)"))
        assert {"scatter", "bar", "heatmap"} <= used
        assert used <= registered
        assert "scatter3d" not in registered  # the partial bundle, not the full one
    finally:
        visit.page.close()
