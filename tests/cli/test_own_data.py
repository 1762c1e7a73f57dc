"""The user's own files through the command line: every input imported, analysed from the store.

Seeded synthetic files written here; the same workflow on the real files is in
``tests/realdata/test_own_files.py``.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from comove.cli import app
from comove.data.demo import demo_macro
from comove.data.store import Store
from tests.conftest import correlated_pair

runner = CliRunner()


def _ok(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result


def _store() -> Path:
    return Path(os.environ["COMOVE_HOME"]) / "comove.duckdb"


def _bars_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.rename(columns=str.title).to_csv(path, index_label="Date")
    return path


@pytest.fixture
def own_files(tmp_path: Path) -> dict[str, Path]:
    """The pair, the S&P 500 and the seven FRED series as files, in the shapes users have."""
    crypto, equity = correlated_pair()
    series, large_caps = demo_macro(equity)
    files = {
        "ETH-USD": _bars_csv(crypto, tmp_path / "ETH-USD.csv"),
        "RUT": _bars_csv(equity, tmp_path / "RUT.csv"),
        "SPY": _bars_csv(large_caps, tmp_path / "SPY.csv"),
    }
    shapes = ("observation_date,{id}", "DATE,VALUE", "date,{id}", "observation_date,{lower}")
    for i, (sid, values) in enumerate(series.items()):
        header = shapes[i % len(shapes)].format(id=sid, lower=sid.lower())
        lines = [header]
        for j, (day, value) in enumerate(values.items()):
            # FRED's missing values: a blank cell or a dot.
            cell = "" if j == 3 else "." if j == 5 else repr(float(value))
            lines.append(f"{day:%Y-%m-%d},{cell}")
        path = tmp_path / f"{sid}.csv"
        path.write_text("\n".join(lines) + "\n")
        files[sid] = path
    return files


def _import_all(files: dict[str, Path]) -> None:
    for name in ("ETH-USD", "RUT", "SPY"):
        _ok("import", f"csv:{files[name]}", "--as", name)
    for name, path in files.items():
        if name not in ("ETH-USD", "RUT", "SPY"):
            _ok("import", f"csv:{path}", "--as", f"fred:{name}")


def test_fred_exports_in_their_usual_shapes_are_imported_with_units(
    own_files: dict[str, Path],
) -> None:
    result = _ok("import", f"csv:{own_files['WALCL']}", "--as", "fred:WALCL")
    assert "WALCL (macro series, Millions of U.S. Dollars)" in result.stderr
    # A FRED-shaped file named without fred: is detected as a series.
    result = _ok("import", f"csv:{own_files['NFCI']}", "--as", "NFCI")
    assert "NFCI (macro series, Index)" in result.stderr
    with Store(_store(), read_only=True) as store:
        walcl = store.read_series("WALCL")
        assert walcl.attrs["units"] == "Millions of U.S. Dollars"
        lines = own_files["WALCL"].read_text().splitlines()[1:]
        assert len(walcl) == len(lines) - 2  # the blank and the dot are missing values
    info = json.loads(_ok("store", "info", "--format", "json").stdout)
    assert {(row["kind"], row["symbol"]) for row in info} == {
        ("series", "WALCL"),
        ("series", "NFCI"),
    }


def test_value_columns_and_unknown_units_need_a_word(tmp_path: Path) -> None:
    odd = tmp_path / "custom.csv"
    odd.write_text("DATE,VALUE\n2024-01-02,1.5\n2024-01-03,.\n")
    result = runner.invoke(app, ["import", f"csv:{odd}", "--as", "fred:MYSERIES"])
    assert result.exit_code == 1
    assert "--units" in result.stderr
    _ok("import", f"csv:{odd}", "--as", "fred:MYSERIES", "--units", "Percent")
    with Store(_store(), read_only=True) as store:
        assert store.read_series("MYSERIES").attrs["units"] == "Percent"


def test_imported_files_satisfy_the_default_chains_offline(own_files: dict[str, Path]) -> None:
    _import_all(own_files)
    result = _ok("analyze", "--offline", "--format", "json")
    records = json.loads(result.stdout)
    assert records[-1]["liquidity_score"] is not None
    assert records[-1]["breadth"] is not None
    assert "missing:" not in result.stderr
    assert "ETH-USD vs RUT" in result.stderr
    assert "stance for ETH-USD exposure" in result.stderr
    # store: entries in the configuration work too, offline and online (nothing to fetch).
    config = Path("comove.toml")
    config.write_text('[pair]\ncrypto = ["store:ETH-USD"]\nequity = ["store:^RUT"]\n')
    for flags in (["--offline"], []):
        result = _ok("signals", "--config", str(config), "--format", "json", *flags)
        assert json.loads(result.stdout)["verdict"]["gaps"] == []


def test_a_missing_input_is_named_with_the_command_that_adds_it(
    own_files: dict[str, Path], tmp_path: Path
) -> None:
    for name in ("ETH-USD", "RUT"):
        _ok("import", f"csv:{own_files[name]}", "--as", name)
    result = _ok("analyze", "--offline", "--format", "csv")
    lines = [line for line in result.stderr.splitlines() if "missing:" in line]
    assert len(lines) == 2
    assert "liquidity score has no value since" in lines[0]
    assert "synchronized breakout cannot use its liquidity score condition" in lines[0]
    assert "comove fetch fred:WALCL" in lines[0]
    assert "comove import csv:WALCL.csv --as fred:WALCL" in lines[0]
    assert "breadth" in lines[1]
    assert "comove import csv:SPY.csv --as SPY" in lines[1]
    assert "computed without the liquidity score and breadth" in result.stderr
    out = tmp_path / "r.html"
    _ok("report", "--offline", "--out", str(out))
    html = out.read_text(encoding="utf-8")
    verdict = html[html.index('<div id="verdict">') :]
    verdict = verdict[: verdict.index("</div>")]
    assert 'id="missing-inputs"' in verdict
    assert "comove fetch fred:WALCL" in verdict
    assert "never bullish" in verdict


def test_hourly_bars_are_imported_and_used_for_synchronous_mode(tmp_path: Path) -> None:
    crypto, equity = correlated_pair(start="2023-01-02", end="2023-06-30")
    hours = pd.date_range("2023-01-01", "2023-06-30 23:00", freq="h")
    rng = np.random.default_rng(3)
    close = 2000 * np.exp(np.cumsum(rng.normal(0, 0.004, len(hours))))
    hourly = pd.DataFrame({"timestamp": hours.strftime("%Y-%m-%d %H:%M:%S"), "close": close})
    hourly_path = tmp_path / "ETHUSDT_1h.csv"
    hourly.to_csv(hourly_path, index=False)
    _ok("import", f"csv:{_bars_csv(crypto, tmp_path / 'e.csv')}", "--as", "ETH-USD")
    _ok("import", f"csv:{_bars_csv(equity, tmp_path / 'r.csv')}", "--as", "RUT")
    result = _ok("import", f"csv:{hourly_path}", "--as", "ETH-USD")
    assert "ETH-USD (1h bars)" in result.stderr
    result = _ok("analyze", "--offline", "--mode", "synchronous", "--format", "csv")
    assert "synchronous alignment" in result.stderr


def test_partial_last_bars_are_dropped_with_a_reason(tmp_path: Path) -> None:
    _, equity = correlated_pair()
    partial = equity.copy()
    partial.loc[partial.index[-1], "volume"] = 0.0
    path = _bars_csv(partial, tmp_path / "RUT.csv")
    result = runner.invoke(app, ["import", f"csv:{path}", "--as", "RUT"])
    last = f"{equity.index[-1]:%Y-%m-%d}"
    assert result.exit_code == 0
    assert f"RUT.csv: last bar {last} dropped: it has no volume" in result.stderr
    assert f"{len(equity) - 1} inserted" in result.stderr
    kept = runner.invoke(app, ["import", f"csv:{path}", "--as", "RUT2", "--keep-last"])
    assert f"{len(equity)} inserted" in kept.stderr
    # A daily bar stamped during its session, unlike every bar before it.
    stamped = tmp_path / "stamped.csv"
    lines = ["Date,Close,Volume"]
    for day, row in equity.iloc[:30].iterrows():
        lines.append(f"{day:%Y-%m-%d} 21:00:00+00:00,{row['close']},{row['volume']}")
    lines[-1] = lines[-1].replace("21:00:00", "15:32:00")
    stamped.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["import", f"csv:{stamped}", "--as", "X"])
    assert "stamped 15:32 UTC while the bars before it are stamped 21:00" in result.stderr


def test_reimporting_at_lower_precision_changes_nothing(tmp_path: Path) -> None:
    crypto, _ = correlated_pair()
    full = _bars_csv(crypto, tmp_path / "full.csv")
    _ok("import", f"csv:{full}", "--as", "ETH-USD")
    rounded = crypto.round(6)
    day = rounded.index[7]
    rounded.loc[day, ["close", "high"]] *= 1.03  # one real revision
    lower = _bars_csv(rounded, tmp_path / "lower.csv")
    result = _ok("import", f"csv:{lower}", "--as", "ETH-USD")
    assert f"0 inserted, 0 updated, {len(crypto)} unchanged" in result.stderr
    assert "1 stored bars differ from the file and were kept" in result.stderr
    assert "largest 3.00%" in result.stderr
    assert result.stderr.count(": stored ") == 1


def test_the_stance_names_the_crypto_of_the_pair(tmp_path: Path) -> None:
    crypto, equity = correlated_pair()
    btc = _bars_csv(crypto, tmp_path / "BTC-USD.csv")
    rut = _bars_csv(equity, tmp_path / "RUT.csv")
    result = _ok(
        "analyze", "--crypto", f"csv:{btc}", "--equity", f"csv:{rut}", "--offline", "-f", "csv"
    )
    assert "stance for BTC-USD exposure" in result.stderr
    out = tmp_path / "r.html"
    _ok(
        "report", "--crypto", f"csv:{btc}", "--equity", f"csv:{rut}", "--offline", "--out", str(out)
    )
    assert "Stance for BTC-USD exposure" in out.read_text(encoding="utf-8")


def test_no_network_report_suggests_the_demo_and_own_files() -> None:
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 3
    line = next(x for x in result.stderr.splitlines() if x.startswith("error:"))
    assert "--demo" in line
    assert "--crypto csv:FILE" in line
    for source in ("exchange:coinbase:ETH/USD", "yahoo:ETH-USD"):
        assert line.count(source) == 1, line


def test_export_writes_shortest_floats_and_shared_parquet(tmp_path: Path) -> None:
    crypto, _ = correlated_pair()
    _ok("import", f"csv:{_bars_csv(crypto, tmp_path / 'e.csv')}", "--as", "ETH-USD")
    text = _ok("store", "export", "ETH-USD").stdout
    first = text.splitlines()[1].split(",")
    assert first[4] == repr(float(crypto["close"].iloc[0]))
    out = tmp_path / "e.parquet"
    _ok("store", "export", "ETH-USD", "--format", "parquet", "--out", str(out))
    csv_out = tmp_path / "e2.csv"
    _ok("store", "export", "ETH-USD", "--out", str(csv_out))
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(csv_out.stat().st_mode) == 0o644


def test_store_aliases_show_what_is_stored(tmp_path: Path) -> None:
    _, equity = correlated_pair()
    _ok("import", f"csv:{_bars_csv(equity, tmp_path / 'r.csv')}", "--as", "RUT")
    config = tmp_path / "comove.toml"
    config.write_text('[aliases]\n"^RUT" = ["R2K"]\n')
    out = _ok("store", "aliases", "--config", str(config)).stdout
    assert "^RUT = RUT (stored) = RTY = R2K" in out


def _readme_recipe() -> list[list[str]]:
    import shlex

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Your own files") :]
    block = section[
        section.index("```bash") + len("```bash") : section.index(
            "```", section.index("```bash") + 7
        )
    ]
    return [shlex.split(line) for line in block.strip().splitlines()]


def test_the_readme_recipe_gives_the_full_analysis(
    own_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import comove
    from comove.data.series import KNOWN_UNITS, read_series

    monkeypatch.chdir(tmp_path)  # the recipe names the files relative to here
    commands = _readme_recipe()
    assert commands[0][0] == "comove"
    for command in commands:
        assert command[0] == "comove", command
        result = runner.invoke(app, command[1:])
        assert result.exit_code == 0, (command, result.stderr)
    cycle = result.stdout  # the last command: comove watch --once
    assert "partial" in cycle  # the refresh failed (no network), the analysis ran
    signals = json.loads(_ok("signals", "--offline", "--format", "json", "--history").stdout)
    eth = comove.read_bars("ETH-USD.csv")
    rut = comove.read_bars("RUT.csv")
    spy = comove.read_bars("SPY.csv")
    macro = {}
    for name, path in own_files.items():
        if name in KNOWN_UNITS:
            macro[name] = read_series(path, name)
            macro[name].attrs["units"] = KNOWN_UNITS[name]
    direct = comove.build_analysis(eth, rut, macro=macro, large_caps=spy)
    assert signals["history"] == direct.signals.to_dict()["history"]
    assert signals["verdict"] == direct.verdict()
    table = json.loads(_ok("analyze", "--offline", "--format", "json").stdout)
    scores = [row["liquidity_score"] for row in table]
    want = direct.table["liquidity_score"].to_numpy()
    np.testing.assert_array_equal(np.array(scores, dtype="float64"), want)
