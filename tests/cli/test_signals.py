"""``comove signals`` and ``comove backtest`` through the command line, on the demo pair."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from comove.cli import app as APP

runner = CliRunner()


def test_signals_prints_the_checklist() -> None:
    result = runner.invoke(APP, ["signals", "--demo"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Signals as of" in out
    assert "[SYNTHETIC DATA]" in out
    for words in ("Synchronized breakout", "Risk-off alignment", "Decoupling", "Stance"):
        assert words in out
    assert any(words in out for words in ("is on", "is off", "cannot be confirmed"))
    assert "60-session correlation" in out
    assert "(exit < 0.45)" in out
    assert "✓" in out or "✗" in out
    assert "State changes" not in out


def test_signals_history_and_json() -> None:
    result = runner.invoke(APP, ["signals", "--demo", "--history"])
    assert result.exit_code == 0, result.stderr
    assert "State changes" in result.stdout
    result = runner.invoke(APP, ["signals", "--demo", "--history", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["synthetic"] is True
    names = [item["signal"] for item in payload["checklist"]]
    assert names == ["synchronized_breakout", "risk_off_alignment", "decoupling", "stance"]
    breakout = payload["checklist"][0]
    assert breakout["state"] in {"on", "off", "unknown"}
    liquidity = next(c for c in breakout["conditions"] if c["name"] == "liquidity")
    assert set(liquidity) == {
        "name", "label", "value", "comparison", "threshold", "exit", "status", "required", "since",
    }  # fmt: skip
    assert liquidity["comparison"] == ">"
    assert liquidity["threshold"] == 0.0
    assert liquidity["exit"] == -0.1
    assert liquidity["status"] in {"pass", "fail", "unknown"}
    assert (liquidity["value"] is None) == (liquidity["status"] == "unknown")
    assert payload["history"]
    assert set(payload["history"][0]) == {"date", "signal", "from", "to"}


def test_backtest_table_json_and_report(tmp_path: Path) -> None:
    result = runner.invoke(APP, ["backtest", "--demo"])
    assert result.exit_code == 0, result.stderr
    assert "Stance overlay vs buy-and-hold" in result.stdout
    assert "cost 10 bps" in result.stdout
    assert "weak evidence" in result.stdout
    target = tmp_path / "bt.html"
    result = runner.invoke(
        APP,
        ["backtest", "--demo", "--cost-bps", "25", "--format", "json", "--report", str(target)],
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["cost_bps"] == 25.0
    assert set(payload["metrics"]) == {"strategy", "buy_and_hold", "always_neutral"}
    assert payload["metrics"]["buy_and_hold"]["time_in_market"] == 1.0
    assert len(payload["event_study"]) == 9
    assert payload["claims"]["episodes"]
    page = target.read_text(encoding="utf-8")
    for section in ('id="signals"', 'id="evaluation"', 'id="claims"', 'id="panel-equity_curve"'):
        assert section in page


def test_errors_are_one_line(tmp_path: Path) -> None:
    missing = f"csv:{tmp_path / 'missing.csv'}"
    result = runner.invoke(APP, ["backtest", "--crypto", missing, "--equity", missing])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("error:") == 1
    result = runner.invoke(APP, ["backtest", "--demo", "--cost-bps", "-5"])
    assert result.exit_code == 2
    result = runner.invoke(APP, ["signals", "--demo", "--report", "x.html"])
    assert result.exit_code == 2


@pytest.mark.parametrize("module", ["comove.cli", "comove.cli.signals", "comove.cli.backtest"])
def test_importing_the_commands_does_not_load_pandas(module: str) -> None:
    code = f"import sys, {module}; assert 'pandas' not in sys.modules, 'pandas loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)
