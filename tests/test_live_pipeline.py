"""`comove report` from live sources: refresh into the store, or fall back to it when offline."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from comove.cli import app
from comove.data.store import Store
from tests.conftest import correlated_pair

runner = CliRunner()


def _stored_pair(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """A store holding the pair, and a config whose chains name it (COMOVE_HOME points there)."""
    crypto, equity = correlated_pair()
    store_path = Path(os.environ["COMOVE_HOME"]) / "comove.duckdb"
    with Store(store_path) as store:
        store.write_bars("yahoo", "ETH-USD", "1d", crypto)
        store.write_bars("yahoo", "^RUT", "1d", equity)
    config = tmp_path / "comove.toml"
    config.write_text('[pair]\ncrypto = ["yahoo:ETH-USD"]\nequity = ["yahoo:^RUT"]\n')
    return config, equity


def test_offline_report_uses_the_store_and_says_how_stale(tmp_path: Path) -> None:
    config, equity = _stored_pair(tmp_path)
    out = tmp_path / "report.html"
    # Providers point at a closed port (tests/conftest.py): the refresh fails.
    result = runner.invoke(app, ["report", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    last = equity.index[-1].date()
    assert f"data as of {last}, refresh failed" in result.stderr
    html = out.read_text(encoding="utf-8")
    assert f"data as of {last}, refresh failed" in html
    assert "cannot reach" in html


def test_offline_flag_reads_the_store_without_trying(tmp_path: Path) -> None:
    config, _ = _stored_pair(tmp_path)
    result = runner.invoke(
        app, ["analyze", "--config", str(config), "--offline", "--format", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    assert "refresh failed" not in result.stderr
    assert result.stdout.startswith("date,crypto_close,")


def test_store_source_on_the_command_line(tmp_path: Path) -> None:
    config, equity = _stored_pair(tmp_path)
    result = runner.invoke(
        app,
        [
            "analyze",
            "--config",
            str(config),
            "--crypto",
            "store:ETH-USD",
            "--equity",
            "store:^RUT",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert f'"date": "{equity.index[-1].date()}"' in result.stdout
    missing = runner.invoke(
        app,
        ["analyze", "--config", str(config), "--crypto", "store:BTC-USD", "--equity", "store:^RUT"],
    )
    assert missing.exit_code == 1
    assert "stored symbols" in missing.stderr
