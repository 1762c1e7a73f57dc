"""``comove import`` and ``comove store info|export`` through the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from comove.cli import app
from comove.data.bars import read_bars
from comove.data.store import Store
from tests.conftest import correlated_pair

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    crypto, equity = correlated_pair()
    crypto_path, equity_path = tmp_path / "ETH-USD.csv", tmp_path / "RUT.csv"
    crypto.rename(columns=str.title).to_csv(crypto_path, index_label="Date")
    equity.rename(columns=str.title).to_csv(equity_path, index_label="Date")
    return crypto_path, equity_path


def _error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def test_import_then_reimport_is_idempotent(files: tuple[Path, Path], tmp_path: Path) -> None:
    store = tmp_path / "store" / "s.duckdb"
    crypto, _ = files
    direct = read_bars(crypto)
    first = runner.invoke(
        app, ["import", f"csv:{crypto}", "--as", "ETH-USD", "--store", str(store)]
    )
    assert first.exit_code == 0, first.output
    assert f"{len(direct)} inserted, 0 updated, 0 unchanged" in first.stderr
    again = runner.invoke(app, ["import", str(crypto), "--as", "ETH-USD", "--store", str(store)])
    assert again.exit_code == 0
    assert f"0 inserted, 0 updated, {len(direct)} unchanged" in again.stderr
    with Store(store, read_only=True) as db:
        back = db.read_bars("ETH-USD", source="csv")
    pd.testing.assert_frame_equal(back, direct, check_exact=True, check_freq=False)


def test_import_reports_revisions(files: tuple[Path, Path], tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    crypto, _ = files
    runner.invoke(app, ["import", f"csv:{crypto}", "--as", "ETH", "--store", str(store)])
    frame = pd.read_csv(crypto)
    close = frame["Close"].to_numpy(dtype="float64", copy=True)
    close[5] *= 1.01
    frame["Close"] = close
    frame["High"] = np.maximum(frame["High"].to_numpy(dtype="float64"), close)
    day = str(frame["Date"].iloc[5])
    changed = tmp_path / "changed.csv"
    frame.to_csv(changed, index=False)
    stored_close = float(pd.read_csv(crypto)["Close"].iloc[5])
    # By default a file that disagrees with finished stored bars leaves them as stored.
    result = runner.invoke(app, ["import", f"csv:{changed}", "--as", "ETH", "--store", str(store)])
    assert result.exit_code == 0
    assert "0 updated" in result.stderr
    assert "1 stored bars differ from the file and were kept" in result.stderr
    assert "largest 1.00%" in result.stderr
    assert f"{day}: stored" in result.stderr
    with Store(store, read_only=True) as db:
        assert db.read_bars("ETH").loc[day, "close"] == pytest.approx(stored_close)
    # --revisions take replaces them, and says so.
    result = runner.invoke(
        app,
        ["import", f"csv:{changed}", "--as", "ETH", "--store", str(store), "--revisions", "take"],
    )
    assert result.exit_code == 0
    assert "1 updated" in result.stderr
    assert "were replaced" in result.stderr
    with Store(store, read_only=True) as db:
        assert db.read_bars("ETH").loc[day, "close"] == pytest.approx(close[5])


def test_bad_file_exits_1_with_one_line_and_store_unchanged(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    store = tmp_path / "s.duckdb"
    crypto, _ = files
    runner.invoke(app, ["import", f"csv:{crypto}", "--as", "ETH", "--store", str(store)])
    before = store.read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Close\n2024-01-01,10\n2024-01-02,-3\n", encoding="utf-8")
    result = runner.invoke(app, ["import", f"csv:{bad}", "--as", "ETH", "--store", str(store)])
    assert result.exit_code == 1
    line = _error_line(result.stderr)
    assert "bad.csv, line 3" in line
    assert "'Close'" in line
    assert store.read_bytes() == before
    missing = runner.invoke(
        app, ["import", "csv:nope.csv", "--as", "ETH", "--store", str(tmp_path / "new.duckdb")]
    )
    assert missing.exit_code == 1
    assert "no such file" in _error_line(missing.stderr)
    assert not (tmp_path / "new.duckdb").exists()


def test_import_refuses_a_wrong_interval_and_non_files(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    crypto, _ = files
    store = tmp_path / "s.duckdb"
    wrong = runner.invoke(
        app, ["import", f"csv:{crypto}", "--as", "E", "--interval", "1h", "--store", str(store)]
    )
    assert wrong.exit_code == 1
    assert "does not match" in _error_line(wrong.stderr)
    provider = runner.invoke(app, ["import", "yahoo:^RUT", "--as", "R", "--store", str(store)])
    assert provider.exit_code == 1
    assert "csv:FILE" in _error_line(provider.stderr)


def test_store_info_formats(files: tuple[Path, Path], tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    crypto, equity = files
    runner.invoke(app, ["import", f"csv:{crypto}", "--as", "ETH-USD", "--store", str(store)])
    runner.invoke(app, ["import", f"csv:{equity}", "--as", "^RUT", "--store", str(store)])
    table = runner.invoke(app, ["store", "info", "--store", str(store)])
    assert table.exit_code == 0
    assert "ETH-USD" in table.stdout
    assert "^RUT" in table.stdout
    eth = read_bars(crypto).index
    assert f"{eth[0]:%Y-%m-%d} to {eth[-1]:%Y-%m-%d}" in table.stdout
    assert "2022-01-03 to 2023-12-29" in table.stdout
    assert "never" in table.stdout
    assert " days" in table.stdout
    as_json = runner.invoke(app, ["store", "info", "--store", str(store), "--format", "json"])
    records = json.loads(as_json.stdout)
    assert {r["symbol"] for r in records} == {"ETH-USD", "^RUT"}
    assert {r["rows"] for r in records} == {len(eth), 501}
    as_csv = runner.invoke(app, ["store", "info", "--store", str(store), "--format", "csv"])
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    assert list(frame["symbol"]) == ["ETH-USD", "^RUT"]


def test_store_info_of_an_empty_store_and_comove_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMOVE_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["store", "info"])
    assert result.exit_code == 0
    assert "is empty" in result.stderr
    assert str(tmp_path / "home" / "comove.duckdb") in result.stderr
    assert not (tmp_path / "home").exists()  # looking does not create anything


def test_store_export_csv_and_parquet_round_trip(files: tuple[Path, Path], tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    crypto, _ = files
    runner.invoke(app, ["import", f"csv:{crypto}", "--as", "ETH-USD", "--store", str(store)])
    direct = read_bars(crypto)
    out = runner.invoke(app, ["store", "export", "ETH-USD", "--store", str(store)])
    assert out.exit_code == 0
    exported = tmp_path / "exported.csv"
    exported.write_text(out.stdout, encoding="utf-8")
    pd.testing.assert_frame_equal(read_bars(exported), direct, check_exact=True, check_freq=False)
    parquet = tmp_path / "eth.parquet"
    written = runner.invoke(
        app,
        ["store", "export", "ETH-USD", "--format", "parquet", "--out", str(parquet), "--store", str(store)],
    )  # fmt: skip
    assert written.exit_code == 0
    pd.testing.assert_frame_equal(read_bars(parquet), direct, check_exact=True, check_freq=False)
    needs_out = runner.invoke(
        app, ["store", "export", "ETH-USD", "--format", "parquet", "--store", str(store)]
    )
    assert needs_out.exit_code == 1
    unknown = runner.invoke(app, ["store", "export", "ETH-USDT", "--store", str(store)])
    assert unknown.exit_code == 1
    assert "stored symbols: ETH-USD" in _error_line(unknown.stderr)
