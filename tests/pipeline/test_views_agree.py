"""The CLI, ``watch --once`` and the dashboard's API give one analysis table for one store.

All three go through :mod:`comove.pipeline`; this checks they also resolve the same
stored sources, macro series and large caps from the same configuration.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from comove.cli import app as cli
from comove.config import load_settings
from comove.watch import watch_loop
from tests.web.conftest import TEST_HOSTS, make_client, write_store

CONFIG = """\
[pair]
crypto = ["exchange:coinbase:ETH/USD", "yahoo:ETH-USD"]
equity = ["yahoo:^RUT"]
large_caps = ["yahoo:^GSPC"]
macro = ["fred:WALCL", "fred:WTREGEN", "fred:RRPONTSYD", "fred:DGS2", "fred:NFCI", "fred:BAMLH0A0HYM2", "fred:DTWEXBGS"]

[analysis]
windows = [20, 60, 90]
"""


def _frame(records: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(records).set_index("date")
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame.astype("float64")


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    write_store(Path(os.environ["COMOVE_HOME"]) / "comove.duckdb")
    config = tmp_path / "comove.toml"
    config.write_text(CONFIG)
    return config


def test_cli_watch_and_dashboard_give_the_same_table(configured: Path) -> None:
    pytest.importorskip("fastapi")
    from comove.web.app import create_app

    result = CliRunner().invoke(
        cli, ["analyze", "--offline", "--format", "json", "--config", str(configured)]
    )
    assert result.exit_code == 0, result.stderr
    from_cli = _frame(json.loads(result.stdout))

    settings = load_settings(configured)
    # Providers point at a closed port (tests/conftest.py): every refresh fails, and the
    # cycle analyses what the store holds, as it does offline.
    cycles = watch_loop(settings, once=True, notifiers=[])
    assert cycles[0].analysis is not None, cycles[0].message
    from_watch = cycles[0].analysis.table

    with make_client(create_app(settings, allowed_hosts=TEST_HOSTS)) as client:
        answer = client.get("/api/analysis")
    assert answer.status_code == 200, answer.text
    from_api = _frame(answer.json()["records"])

    assert list(from_cli.columns) == list(from_watch.columns) == list(from_api.columns)
    assert from_cli.index.equals(from_watch.index)
    assert from_api.index.equals(from_watch.index)
    assert from_watch["liquidity_score"].notna().any()
    assert from_watch["breadth"].notna().any()
    # The CLI writes every float in full; the API rounds to 15 decimal places.
    np.testing.assert_array_equal(from_cli.to_numpy(), from_watch.to_numpy())
    np.testing.assert_allclose(
        from_api.to_numpy(), from_watch.to_numpy(), rtol=1e-12, atol=1e-15, equal_nan=True
    )
