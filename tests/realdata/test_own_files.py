"""The user's own files give the full analysis: the real files imported through the CLI.

ETH-USD, the Russell 2000, SPY and every FRED series the liquidity score uses go into a
fresh store with ``comove import``; then ``comove signals --offline``, ``comove analyze
--offline``, the report's current reading, ``watch --once`` and the dashboard's API must
give the states, the stance and the liquidity score the Python API gives when fed the same
files directly, on every session, with the default configuration.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import comove
from comove.cli import app
from comove.config import load_settings
from comove.data.series import read_series
from comove.pipeline import Analysis
from comove.watch import watch_loop

SERIES = ("WALCL", "WTREGEN", "RRPONTSYD", "DGS2", "NFCI", "BAMLH0A0HYM2", "DTWEXBGS")
STATE_COLUMNS = [
    "signal_synchronized_breakout",
    "signal_risk_off_alignment",
    "signal_decoupling",
    "stance",
]
runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def home(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh store filled from the shared files through ``comove import`` only."""
    folder = tmp_path_factory.mktemp("own-files")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMOVE_HOME", str(folder / "home"))
        patch.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        patch.chdir(folder)
        prices, macro = data_dir / "prices", data_dir / "macro"
        for name in ("ETH-USD", "RUT", "SPY"):
            _run("import", f"csv:{prices / name}.csv", "--as", name)
        for series in SERIES:
            _run("import", f"csv:{macro / series}.csv", "--as", f"fred:{series}")
        _run(
            "import",
            f"csv:{macro / 'BAMLH0A0HYM2_2023-08_to_2026-07.csv'}",
            "--as",
            "fred:BAMLH0A0HYM2",
        )
        yield folder


@pytest.fixture(scope="module")
def direct(data_dir: Path) -> Analysis:
    """The Python API fed the same files."""
    prices, macro = data_dir / "prices", data_dir / "macro"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", comove.DataWarning)  # the partial RUT bar
        eth = comove.read_bars(prices / "ETH-USD.csv")
        rut = comove.read_bars(prices / "RUT.csv")
        spy = comove.read_bars(prices / "SPY.csv")
    series = {sid: read_series(macro / f"{sid}.csv") for sid in SERIES}
    extension = read_series(macro / "BAMLH0A0HYM2_2023-08_to_2026-07.csv")
    main = series["BAMLH0A0HYM2"]
    series["BAMLH0A0HYM2"] = pd.concat([main, extension[extension.index > main.index[-1]]])
    from comove.data.series import KNOWN_UNITS

    for sid, values in series.items():
        values.attrs["units"] = KNOWN_UNITS[sid]
    return comove.build_analysis(eth, rut, macro=series, large_caps=spy)


def _states(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[*STATE_COLUMNS, "liquidity_score"]].astype("float64")


def _records(records: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(records).set_index("date")
    frame.index = pd.DatetimeIndex(frame.index, name="date").as_unit("ns")
    return frame


def test_the_python_api_has_the_full_analysis(direct: Analysis) -> None:
    table = direct.table
    assert table["liquidity_score"].notna().all()
    assert table["breadth"].notna().all()
    assert direct.gaps == ()
    # Every signal is decided on the latest session (nothing "cannot be confirmed").
    assert direct.verdict()["stance"]["word"] in ("bullish", "neutral", "reduce")
    assert direct.verdict()["stance"]["caveat"] == ""


def test_analyze_offline_equals_the_python_api(home: Path, direct: Analysis) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMOVE_HOME", str(home / "home"))
        patch.chdir(home)
        out = _run("analyze", "--offline", "--format", "json")
    got = _records(json.loads(out))
    want = direct.table
    assert got.index.equals(want.index)
    pd.testing.assert_frame_equal(_states(got), _states(want), check_exact=True, check_names=False)


def test_signals_offline_equals_the_python_api(home: Path, direct: Analysis) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMOVE_HOME", str(home / "home"))
        patch.chdir(home)
        payload = json.loads(_run("signals", "--offline", "--format", "json", "--history"))
    want = direct.signals.to_dict()
    assert payload["checklist"] == want["checklist"]
    assert payload["history"] == want["history"]  # every state change: every session agrees
    assert payload["verdict"] == direct.verdict()


def test_the_report_reading_shows_the_same_verdict(
    home: Path, direct: Analysis, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMOVE_HOME", str(home / "home"))
        patch.chdir(home)
        _run("report", "--offline", "--out", str(out))
    html = out.read_text(encoding="utf-8")
    section = html[
        html.index('<div id="verdict">') : html.index("</div>", html.index('<div id="verdict">'))
    ]
    verdict = direct.verdict()
    stance = verdict["stance"]
    assert f"Stance for {stance['crypto']} exposure:" in section
    assert re.search(rf">{stance['word']}</strong>", section)
    for signal in verdict["signals"]:
        assert re.search(
            rf'href="#signal-{signal["signal"]}">[^<]+</a>: <span class="[^"]+">{signal["state"]}</span>',
            section,
        ), signal
    assert 'id="missing-inputs"' not in section  # nothing missing


def test_watch_once_and_the_dashboard_agree(home: Path, direct: Analysis) -> None:
    pytest.importorskip("fastapi")
    from comove.web.app import create_app
    from tests.web.conftest import TEST_HOSTS, make_client

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMOVE_HOME", str(home / "home"))
        patch.chdir(home)
        settings = load_settings()
        # Providers point at a closed port (tests/conftest.py): every refresh fails.
        cycle = watch_loop(settings, once=True, notifiers=[])[0]
        assert cycle.outcome == "partial", cycle.message
        assert cycle.analysis is not None
        pd.testing.assert_frame_equal(
            _states(cycle.analysis.table), _states(direct.table), check_exact=True
        )
        with make_client(create_app(settings, allowed_hosts=TEST_HOSTS)) as client:
            analysis = client.get("/api/analysis").json()
            signals = client.get("/api/signals").json()
    got = _records(analysis["records"])
    np.testing.assert_allclose(
        _states(got).to_numpy(dtype="float64"),
        _states(direct.table).to_numpy(),
        rtol=1e-12,
        atol=1e-15,
        equal_nan=True,
    )
    assert signals["verdict"] == direct.verdict()
    assert analysis["latest"]["verdict"] == direct.verdict()
