"""The JSON API through the real app: answers, bad parameters, errors, caching, headers, tokens."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from comove.config import Settings
from comove.data.store import Store
from comove.errors import ConfigError
from comove.report.charts import PLOTLY_JS_FILE, plotly_js

from ..conftest import correlated_pair
from .conftest import TEST_HOSTS, make_client, settings_for, write_store

pytest.importorskip("fastapi")

from comove.web.app import create_app

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

ENDPOINTS = ["/api/analysis", "/api/signals", "/api/backtest", "/api/figures", "/api/compare"]


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert isinstance(body["error"], str)
    assert body["error"]
    return body


def test_health_shows_the_store_by_name_only(client: TestClient, stored: Path) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["store"] == "comove.duckdb"
    assert str(stored.parent) not in response.text
    symbols = {(row["kind"], row["symbol"]) for row in body["freshness"]}
    assert {
        ("bars", "ETH-USD"),
        ("bars", "^RUT"),
        ("bars", "^GSPC"),
        ("series", "WALCL"),
    } <= symbols
    eth = next(row for row in body["freshness"] if row["symbol"] == "ETH-USD")
    assert eth["last"] == "2023-12-29"
    assert eth["staleness_hours"] > 0


def test_pairs_lists_stored_symbols_and_the_default(client: TestClient) -> None:
    body = client.get("/api/pairs").json()
    assert body["crypto"] == ["ETH-USD"]
    assert body["equity"] == ["^GSPC", "^RUT"]
    assert body["default"] == {"crypto": "ETH-USD", "equity": "^RUT"}
    assert body["windows"] == [30, 60, 90]


def test_analysis_records_match_an_independent_rolling_correlation(client: TestClient) -> None:
    response = client.get("/api/analysis", params={"windows": "20,45"})
    assert response.status_code == 200
    body = response.json()
    frame = pd.DataFrame.from_records(body["records"]).set_index("date")
    assert list(frame.columns) == body["columns"][1:]
    assert {"corr_20", "corr_45_lo", "beta_45", "rsi_crypto", "signal_decoupling"} <= set(frame)
    # NaN went out as null: the first rows of a rolling window are empty.
    assert body["records"][0]["corr_20"] is None
    expected = frame["crypto_ret"].astype(float).rolling(45).corr(frame["equity_ret"].astype(float))
    got = frame["corr_45"].astype(float)
    assert np.allclose(got.dropna(), expected.dropna(), atol=1e-9)
    assert got.notna().sum() == expected.notna().sum()
    assert body["meta"]["windows"] == [20, 45]
    latest = body["latest"]
    assert latest["date"] == frame.index[-1]
    assert [w["window"] for w in latest["windows"]] == [20, 45]
    assert latest["windows"][1]["corr"] == pytest.approx(got.iloc[-1])


def test_since_and_until_limit_the_rows(client: TestClient) -> None:
    body = client.get("/api/analysis", params={"since": "2023-03-01", "until": "2023-06-30"}).json()
    dates = [row["date"] for row in body["records"]]
    assert dates[0] >= "2023-03-01"
    assert dates[-1] <= "2023-06-30"
    # Earlier data warmed the windows up: defined from the first row shown.
    assert body["records"][0]["corr_90"] is not None


def test_signals_and_backtest(client: TestClient) -> None:
    signals = client.get("/api/signals").json()
    names = [check["signal"] for check in signals["checklist"]]
    assert "stance" in names or len(names) >= 3
    for check in signals["checklist"]:
        assert check["state"]
        assert check["conditions"]
        for condition in check["conditions"]:
            assert condition["status"] in {"pass", "fail", "unknown"}
    assert signals["date"] == "2023-12-29"
    assert all({"date", "signal", "from", "to"} == set(row) for row in signals["history"])
    backtest = client.get("/api/backtest").json()
    assert {"strategy", "buy_and_hold"} <= set(backtest["metrics"])
    assert backtest["event_study"]
    assert backtest["meta"]["crypto_name"] == "ETH-USD"


def test_figures_are_the_reports_charts(client: TestClient) -> None:
    from comove.report.charts import FIGURES

    body = client.get("/api/figures").json()
    assert list(body["figures"])[: len(FIGURES)] == list(FIGURES)
    assert {"signal_timeline", "equity_curve", "liquidity", "breadth"} <= set(body["figures"])
    for entry in body["figures"].values():
        assert entry["title"]
        assert entry["figure"]["data"]


def test_alerts_empty_then_recorded(tmp_path: Path) -> None:
    path = write_store(tmp_path / "alerts.duckdb")
    app = create_app(settings_for(path), allowed_hosts=TEST_HOSTS)
    with make_client(app) as client:
        assert client.get("/api/alerts").json() == {"alerts": []}
        with Store(path) as store:
            store.record_alert(
                "k1", "console", kind="signal", subject="<b>decoupling on</b>", body="x", ok=True
            )
        body = client.get("/api/alerts", params={"limit": 5}).json()
    assert [a["subject"] for a in body["alerts"]] == ["<b>decoupling on</b>"]
    assert body["alerts"][0]["ok"] is True


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"since": "not-a-date"}, "since"),
        ({"until": "2023-13-45"}, "until"),
        ({"since": "2023-06-01", "until": "2023-01-01"}, "since"),
        ({"windows": "2"}, "windows"),
        ({"windows": "501"}, "windows"),
        ({"windows": "30,abc"}, "windows"),
        ({"windows": "-5"}, "windows"),
        ({"windows": "3,4,5,6,7,8,9,10,11"}, "windows"),
        ({"windows": "30,30"}, "windows"),
        ({"windows": "9" * 40}, "windows"),
        ({"windows": "³"}, "windows"),
        ({"windows": "٣٠"}, "windows"),
        ({"windows": "30,６０"}, "windows"),
        ({"since": "٢٠٢٤-01-01"}, "since"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    for endpoint in ENDPOINTS:
        body = _error(client.get(endpoint, params=params), 422)
        assert body["error"].startswith(parameter), body


def test_unknown_symbol_is_404_listing_valid_ones(client: TestClient) -> None:
    body = _error(client.get("/api/analysis", params={"crypto": "BTC-USD"}), 404)
    assert "BTC-USD" in body["error"]
    assert "ETH-USD" in body["error"]
    assert body["detail"] == {"parameter": "crypto", "valid": ["ETH-USD"]}
    body = _error(client.get("/api/signals", params={"equity": "ETH-USD"}), 404)
    assert body["detail"]["valid"] == ["^GSPC", "^RUT"]
    # A path never comes from a request: a symbol like a path is just an unknown symbol.
    _error(client.get("/api/analysis", params={"crypto": "../../etc/passwd"}), 404)


def test_span_without_data_is_422_and_other_errors_are_json(client: TestClient) -> None:
    body = _error(client.get("/api/analysis", params={"since": "2030-01-01"}), 422)
    assert body["error"].startswith("since: 2030-01-01 is after the last session")
    body = _error(client.get("/api/analysis", params={"until": "2263-01-01"}), 422)
    assert body["error"].startswith("until")
    # Inside the stored span but without two sessions to align: the pipeline says so.
    body = _error(
        client.get("/api/analysis", params={"since": "2023-12-23", "until": "2023-12-25"}), 422
    )
    assert "no aligned sessions" in body["error"]
    _error(client.get("/api/alerts", params={"limit": "0"}), 422)
    _error(client.get("/api/nothing"), 404)
    _error(client.get("/static/../pyproject.toml"), 404)
    _error(client.get("/static/secrets.txt"), 404)
    _error(client.post("/api/analysis"), 405)


def test_unexpected_error_is_500_json_without_details(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> None:
        raise RuntimeError("secret /home/user/.config password=hunter2")

    monkeypatch.setattr(app.state.dashboard, "pairs", boom)
    response = client.get("/api/pairs")
    assert _error(response, 500) == {"error": "internal error", "detail": None}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_repeated_requests_use_the_cache_until_the_store_changes(tmp_path: Path) -> None:
    path = write_store(tmp_path / "cache.duckdb")
    app = create_app(settings_for(path), allowed_hosts=TEST_HOSTS)
    board = app.state.dashboard
    board.state_seconds = 0.0  # see the write below at once
    with make_client(app) as client:
        first = client.get("/api/analysis", params={"windows": "30"})
        for endpoint in ENDPOINTS:
            assert client.get(endpoint, params={"windows": "30"}).status_code == 200
        assert board.computations == 1
        plain = client.get(
            "/api/analysis", params={"windows": "30"}, headers={"Accept-Encoding": "identity"}
        )
        assert "content-encoding" not in plain.headers
        assert first.headers["content-encoding"] == "gzip"
        assert plain.json() == first.json()
        assert int(first.headers["content-length"]) < len(plain.content) / 3
        assert board.computations == 1
        assert client.get("/api/analysis", params={"windows": "60"}).status_code == 200
        assert board.computations == 2
        with Store(path) as store:
            crypto, _ = correlated_pair(end="2024-01-05")
            store.write_bars("yahoo", "ETH-USD", "1d", crypto)
        again = client.get("/api/analysis", params={"windows": "30"})
        assert board.computations == 3
    assert first.json()["records"][-1]["date"] == again.json()["records"][-1]["date"]


def test_security_headers_and_no_inline_script(client: TestClient) -> None:
    for url in ("/", "/api/health", "/static/app.js", "/api/nothing"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        script = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
        assert script.strip() == "script-src 'self'"
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    html = client.get("/").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert scripts
    assert all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "inline event handler"
    assert "cdn" not in html.lower()
    js = client.get(f"/static/{PLOTLY_JS_FILE}")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert js.text == plotly_js()


def test_data_derived_text_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "escape.duckdb"
    crypto, equity = correlated_pair()
    with Store(path) as store:
        store.write_bars("csv", "<img src=x onerror=alert(1)>", "1d", crypto)
        store.write_bars("csv", "RUT", "1d", equity)
    app = create_app(Settings(store_path=path), allowed_hosts=TEST_HOSTS)
    with make_client(app) as client:
        html = client.get("/").text
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_loopback_app_refuses_other_host_names(stored: Path) -> None:
    app = create_app(settings_for(stored))
    with make_client(app, base_url="http://127.0.0.1:8050") as client:
        assert client.get("/api/pairs").status_code == 200
        _error(client.get("/api/pairs", headers={"host": "evil.example:8050"}), 400)
    with make_client(app, base_url="http://localhost:8050") as client:
        assert client.get("/api/health").status_code == 200


def test_non_loopback_needs_a_token(stored: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMOVE_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="COMOVE_TOKEN"):
        create_app(settings_for(stored), host="0.0.0.0")
    monkeypatch.setenv("COMOVE_TOKEN", "s3cret-token")
    app = create_app(settings_for(stored), host="0.0.0.0")
    with make_client(app, base_url="http://192.0.2.10:8050") as client:
        _error(client.get("/api/pairs"), 401)
        _error(client.get("/api/pairs", headers={"Authorization": "Bearer wrong"}), 401)
        _error(client.get("/api/pairs", params={"token": "s3cret-toke"}), 401)
        _error(client.get("/static/app.js"), 401)
        _error(client.get("/openapi.json"), 401)
        ok = client.get("/api/pairs", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200
        assert ok.json()["crypto"] == ["ETH-USD"]
        # the query-string token only opens the page; API calls carry the header or cookie
        _error(client.get("/api/pairs", params={"token": "s3cret-token"}), 401)
    with make_client(app, base_url="http://192.0.2.10:8050") as browser:
        page = browser.get("/", params={"token": "s3cret-token"})
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert "httponly" in cookie.lower()
        assert "samesite=strict" in cookie.lower()
        # The page's own requests (scripts, API) carry the cookie, not the token in the URL.
        assert browser.get("/static/app.js").status_code == 200
        assert browser.get("/api/health").status_code == 200


def test_serve_refuses_a_public_address_without_a_token(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from comove.cli import app as cli

    monkeypatch.delenv("COMOVE_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--store", str(stored)])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "COMOVE_TOKEN" in lines[0]


def test_missing_store_answers_empty_not_500(tmp_path: Path) -> None:
    app = create_app(Settings(store_path=tmp_path / "none.duckdb"), allowed_hosts=TEST_HOSTS)
    with make_client(app) as client:
        health = client.get("/api/health").json()
        assert health["ok"] is False
        assert health["store_exists"] is False
        assert health["freshness"] == []
        assert client.get("/api/pairs").json()["crypto"] == []
        assert client.get("/").status_code == 200
        body = _error(client.get("/api/analysis"), 404)
        assert "no crypto bars" in body["error"]
        assert client.get("/api/alerts").json() == {"alerts": []}
    assert not (tmp_path / "none.duckdb").exists()


def test_compare_answers_the_commentarys_questions(client: TestClient) -> None:
    response = client.get("/api/compare")
    assert response.status_code == 200, response.text
    body = response.json()
    bench = body["benchmarks"]
    assert bench["benchmarks"][1] == "^GSPC"
    whole = bench["whole"][0]
    assert whole["fisher_low"] < whole["r"] < whole["fisher_high"]
    assert whole["bootstrap"]["low"] < whole["bootstrap"]["high"]
    assert [r["name"] for r in body["regimes"]] == ["risk_on", "crypto_only_moves"]
    assert body["periods"] is None
    assert "bootstrap" in body["methods"]
    assert body["words"][0].startswith(("Yes:", "No:", "No evidence"))


def test_compare_with_periods_and_bad_ones(client: TestClient) -> None:
    response = client.get(
        "/api/compare", params={"periods": "2022-01-01:2022-12-31,2023-01-01:2023-12-31"}
    )
    assert response.status_code == 200, response.text
    periods = response.json()["periods"]
    assert [p["label"] for p in periods["periods"]] == [
        "2022-01-01:2022-12-31",
        "2023-01-01:2023-12-31",
    ]
    assert periods["differences"][0]["tests"][0]["method"] == "Fisher's z"
    error = _error(client.get("/api/compare", params={"periods": "1990-01-01:1990-12-31"}), 422)
    assert "does not overlap the data" in error["error"]
    error = _error(client.get("/api/compare", params={"periods": "2020-01-01"}), 400)
    assert "START:END" in error["error"]
