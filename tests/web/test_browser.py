"""The dashboard in a real headless chromium, served by uvicorn on 127.0.0.1 from a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from comove.report.charts import PLOTLY_JS_FILE

from ..report.test_browser import browser  # noqa: F401 - the shared chromium fixture
from .conftest import settings_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytest.importorskip("uvicorn")

pytestmark = pytest.mark.browser

CHARTS_DRAWN = """(expected) => {
    const charts = [...document.querySelectorAll('div[id^=chart-]')];
    return charts.length === expected && charts.every((d) => d.querySelector('.main-svg'));
}"""
TRACES = """(id) => document.getElementById(id).querySelectorAll(
    '.scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm').length"""
# Collect CSP violations before any page script runs.
CSP_LISTENER = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(stored: Path) -> Iterator[str]:
    import uvicorn

    from comove.web.app import create_app

    port = _free_port()
    app = create_app(settings_for(stored), refresh_seconds=600)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(timeout=10)


class Visit:
    """A page that records console errors, page errors, dialogs and requests elsewhere."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.external: list[str] = []
        page.add_init_script(CSP_LISTENER)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("dialog", self._dialog)
        page.route("**/*", self._route)

    def _console(self, message: Any) -> None:
        # plotly.js reports bad figure data as "WARN: ..." log lines, not as errors.
        if message.type in ("error", "warning") or message.text.startswith("WARN"):
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith((self.base + "/", "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def csp(self) -> list[str]:
        return list(self.page.evaluate("() => window.__csp"))


def _open(browser: Browser, base: str, width: int) -> tuple[Visit, int]:  # noqa: F811
    import httpx

    expected = len(httpx.get(f"{base}/api/figures", timeout=60).json()["figures"])
    page = browser.new_page(viewport={"width": width, "height": 900})
    visit = Visit(page, base)
    page.goto(base + "/")
    page.wait_for_function(CHARTS_DRAWN, arg=expected, timeout=60_000)
    return visit, expected


def test_dashboard_draws_and_pickers_update_the_charts(
    browser: Browser,  # noqa: F811
    server: str,
    tmp_path: Path,
) -> None:
    visit, expected = _open(browser, server, 1200)
    page = visit.page
    try:
        assert expected >= 12
        for chart in page.query_selector_all("div[id^=chart-]"):
            assert page.evaluate(TRACES, chart.get_attribute("id")) >= 1, chart.get_attribute("id")
        signals = page.query_selector_all("#checklist .signal")
        assert len(signals) >= 3
        for block in signals:
            state = block.query_selector("h3 span[class^=state-]")
            assert state is not None
            assert state.inner_text().strip()
            assert block.query_selector_all("td.status-pass, td.status-fail, td.status-unknown")
        assert "ETH-USD" in page.inner_text("h1")
        # The current reading carries the verdict, linked to each checklist.
        assert page.inner_text("#stance").startswith("Stance for ETH-USD exposure: ")
        links = page.eval_on_selector_all(
            "#verdict-signals a", "(anchors) => anchors.map((a) => a.getAttribute('href'))"
        )
        assert links == [
            "#signal-synchronized_breakout",
            "#signal-risk_off_alignment",
            "#signal-decoupling",
        ]
        assert all(page.query_selector(link) for link in links)
        assert page.query_selector_all("#freshness tbody tr")
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        before = page.evaluate(TRACES, "chart-correlation")
        loaded = page.get_attribute("body", "data-loaded")
        page.select_option("#windows", "30")
        page.wait_for_function(
            "(n) => document.body.dataset.loaded !== n", arg=loaded, timeout=60_000
        )
        after = page.evaluate(TRACES, "chart-correlation")
        assert after < before, (before, after)
        assert "windows 30" in page.inner_text("#status")

        loaded = page.get_attribute("body", "data-loaded")
        page.select_option("#equity", "^GSPC")
        page.wait_for_function(
            "(n) => document.body.dataset.loaded !== n", arg=loaded, timeout=60_000
        )
        assert "^GSPC" in page.inner_text("h1")
        page.screenshot(path=str(tmp_path / "dashboard-gspc.png"), full_page=True)
        assert (tmp_path / "dashboard.png").stat().st_size > 50_000

        assert visit.errors == []
        assert visit.csp() == []
        assert visit.external == []
    finally:
        page.close()


COUNT_REDRAWS = """() => {
    window.__redraws = 0;
    const react = window.Plotly.react;
    window.Plotly.react = function (...args) {
        window.__redraws += 1;
        return react.apply(this, args);
    };
}"""


def test_a_refresh_without_new_data_redraws_no_chart(browser: Browser, server: str) -> None:  # noqa: F811
    visit, expected = _open(browser, server, 1200)
    page = visit.page
    try:
        page.evaluate(COUNT_REDRAWS)
        loaded = page.get_attribute("body", "data-loaded")
        page.evaluate("() => document.getElementById('pickers').requestSubmit()")
        page.wait_for_function(
            "(n) => document.body.dataset.loaded !== n", arg=loaded, timeout=60_000
        )
        assert page.evaluate("() => window.__redraws") == 0
        assert page.inner_text("#status").startswith("Updated")

        loaded = page.get_attribute("body", "data-loaded")
        page.select_option("#windows", "30")
        page.wait_for_function(
            "(n) => document.body.dataset.loaded !== n", arg=loaded, timeout=60_000
        )
        charts = page.evaluate("() => document.querySelectorAll('div[id^=chart-]').length")
        assert page.evaluate("() => window.__redraws") == charts >= expected - 2
        assert visit.errors == []
    finally:
        page.close()


def test_the_numbers_show_before_plotly_js_has_loaded(browser: Browser, server: str) -> None:  # noqa: F811
    import httpx

    expected = len(httpx.get(f"{server}/api/figures", timeout=60).json()["figures"])
    page = browser.new_page()
    held: list[Any] = []
    page.route(f"**/static/{PLOTLY_JS_FILE}", lambda route: held.append(route))
    try:
        page.goto(server + "/", wait_until="commit")
        page.wait_for_function(
            "() => document.getElementById('headline').textContent.length > 0", timeout=60_000
        )
        assert page.evaluate("() => typeof window.Plotly") == "undefined"
        assert page.inner_text("#reading-list").count("corr") >= 1
        assert len(held) == 1
        held[0].continue_()
        page.wait_for_function(CHARTS_DRAWN, arg=expected, timeout=60_000)
    finally:
        page.close()


def test_dashboard_at_phone_width(browser: Browser, server: str, tmp_path: Path) -> None:  # noqa: F811
    visit, _ = _open(browser, server, 390)
    page = visit.page
    try:
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 390
        widths = page.evaluate(
            "() => [...document.querySelectorAll('div[id^=chart-] .main-svg')]"
            ".map((svg) => svg.getBoundingClientRect().width)"
        )
        assert widths
        assert max(widths) <= 390
        page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
        assert visit.errors == []
        assert visit.csp() == []
    finally:
        page.close()
