"""The command line: outputs, exit codes, one-line errors, nothing written on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from comove.cli import app
from tests.conftest import correlated_pair

runner = CliRunner()


def _write_pair(folder: Path) -> tuple[Path, Path]:
    crypto, equity = correlated_pair()
    crypto_path, equity_path = folder / "ETH-USD.csv", folder / "RUT.csv"
    crypto.rename(columns=str.title).to_csv(crypto_path, index_label="Date")
    equity.rename(columns=str.title).to_csv(equity_path, index_label="Date")
    return crypto_path, equity_path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return _write_pair(tmp_path)


def _one_line_error(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def test_analyze_csv_is_the_analysis_table(files: tuple[Path, Path], tmp_path: Path) -> None:
    crypto, equity = files
    out = tmp_path / "table.csv"
    result = runner.invoke(
        app,
        [
            "analyze",
            "--crypto",
            f"csv:{crypto}",
            "--equity",
            f"csv:{equity}",
            "--format",
            "csv",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out, index_col="date")
    assert table.columns[0] == "crypto_close"
    assert "corr_60_lo" in table.columns
    assert table.index[0] == "2022-01-03"
    assert "60-session correlation" in result.stderr


def test_analyze_json_to_stdout(files: tuple[Path, Path]) -> None:
    crypto, equity = files
    result = runner.invoke(
        app,
        [
            "analyze",
            "--crypto",
            str(crypto),
            "--equity",
            str(equity),
            "--format",
            "json",
            "--windows",
            "30",
        ],
    )
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows[0]["date"] == "2022-01-03"
    assert rows[0]["crypto_ret"] is None
    assert isinstance(rows[-1]["corr_30"], float)
    assert "corr_60" not in rows[-1]


def test_analyze_table_with_since(files: tuple[Path, Path]) -> None:
    crypto, equity = files
    result = runner.invoke(
        app,
        [
            "analyze",
            "--crypto",
            str(crypto),
            "--equity",
            str(equity),
            "--since",
            "2023-06-01",
            "--until",
            "2023-06-30",
            "--rows",
            "3",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "2023-06-30" in result.stdout
    assert "2023-06-26" not in result.stdout
    assert "daily alignment on XNYS" in result.stdout


def test_report_demo_writes_labelled_file(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    result = runner.invoke(app, ["report", "--demo", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert f"Report written to {out}" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert "SYNTHETIC" in html
    assert "[SYNTHETIC DATA]" in result.stderr


def test_report_from_files(files: tuple[Path, Path], tmp_path: Path) -> None:
    crypto, equity = files
    out = tmp_path / "report.html"
    result = runner.invoke(
        app, ["report", "--crypto", f"csv:{crypto}", "--equity", f"csv:{equity}", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 100_000


BAD_FILES = {
    "missing column": (
        "Date,Open,High,Low,Volume\n2024-01-02,1,2,0.5,10\n",
        "missing required column 'close'",
    ),
    "bad date": ("Date,Close\n2024-01-02,10\nnot-a-date,11\n", "line 3: column 'Date'"),
    "bad number": ("Date,Close\n2024-01-02,10\n2024-01-03,abc\n", "line 3: column 'Close'"),
    "duplicate": (
        "Date,Close\n2024-01-02,10\n2024-01-03,11\n2024-01-03,12\n",
        "line 4: column 'Date' repeats",
    ),
    "non-positive": (
        "Date,Close\n2024-01-02,10\n2024-01-03,0\n",
        "line 3: column 'Close' must be positive",
    ),
    "high below low": ("Date,High,Low,Close\n2024-01-02,9,10,9.5\n", "line 2: column 'High'"),
    "empty": ("", "the file is empty"),
    "header only": ("Date,Close\n", "no data rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_equity_file_exits_1_with_one_line(
    case: str, files: tuple[Path, Path], tmp_path: Path
) -> None:
    content, expected = BAD_FILES[case]
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    out = tmp_path / "never.html"
    result = runner.invoke(
        app, ["report", "--crypto", str(files[0]), "--equity", f"csv:{bad}", "--out", str(out)]
    )
    assert result.exit_code == 1
    line = _one_line_error(result)
    assert "bad.csv" in line
    assert expected in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("windows", "expected"),
    [("2", "from 3 to 500"), ("30,900", "from 3 to 500"), ("30,x", None), ("30,٣٠", None)],
)
def test_window_errors(windows: str, expected: str | None, files: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app, ["analyze", "--crypto", str(files[0]), "--equity", str(files[1]), "--windows", windows]
    )
    if expected is None:
        assert result.exit_code == 2  # a usage error, not a data error
        return
    assert result.exit_code == 1
    assert expected in _one_line_error(result)


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_malformed_dates_are_usage_errors(option: str) -> None:
    result = runner.invoke(app, ["analyze", "--demo", option, "2024-13-45"])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "expected a date" in result.stderr


def test_series_that_do_not_overlap(tmp_path: Path) -> None:
    crypto, equity = correlated_pair()
    crypto.loc[:"2022-06-30"].rename(columns=str.title).to_csv(
        tmp_path / "c.csv", index_label="Date"
    )
    equity.loc["2023-01-01":].rename(columns=str.title).to_csv(
        tmp_path / "e.csv", index_label="Date"
    )
    result = runner.invoke(
        app, ["analyze", "--crypto", str(tmp_path / "c.csv"), "--equity", str(tmp_path / "e.csv")]
    )
    assert result.exit_code == 1
    assert "do not overlap" in _one_line_error(result)


def test_crypto_file_given_as_equity_warns(files: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app, ["analyze", "--crypto", str(files[0]), "--equity", str(files[0]), "--rows", "1"]
    )
    assert result.exit_code == 0, result.stderr
    assert "is this a crypto file?" in result.stderr


def test_equity_without_volume_is_noted_not_fatal(tmp_path: Path) -> None:
    crypto, equity = correlated_pair()
    crypto.rename(columns=str.title).to_csv(tmp_path / "c.csv", index_label="Date")
    equity[["close"]].to_csv(tmp_path / "e.csv", index_label="date")
    result = runner.invoke(
        app, ["analyze", "--crypto", str(tmp_path / "c.csv"), "--equity", str(tmp_path / "e.csv")]
    )
    assert result.exit_code == 0, result.stderr
    assert "relative volume left out for e" in result.stdout


def test_report_into_missing_folder(files: tuple[Path, Path], tmp_path: Path) -> None:
    target = tmp_path / "nope" / "report.html"
    result = runner.invoke(
        app, ["report", "--crypto", str(files[0]), "--equity", str(files[1]), "--out", str(target)]
    )
    assert result.exit_code == 1
    assert "does not exist" in _one_line_error(result)
    assert not target.parent.exists()


def test_no_sources_and_unknown_provider(files: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["report", "--out", str(files[0].parent / "live.html")])
    assert result.exit_code == 3  # the live default chain cannot be reached, nothing stored
    assert "no source worked" in _one_line_error(result)
    assert not (files[0].parent / "live.html").exists()
    result = runner.invoke(app, ["analyze", "--crypto", "ftp:ETH", "--equity", str(files[1])])
    assert result.exit_code == 1
    assert "unknown provider 'ftp'" in _one_line_error(result)
    result = runner.invoke(app, ["report", "--demo", "--crypto", str(files[0])])
    assert result.exit_code == 2


def test_synchronous_needs_hourly_bars(files: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app,
        ["analyze", "--crypto", str(files[0]), "--equity", str(files[1]), "--mode", "synchronous"],
    )
    assert result.exit_code == 1
    assert "--crypto-hourly" in _one_line_error(result)


def _run_python(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter (start-up state must not leak into this process)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "120"},
        check=False,
    )


def _run_entry_point(
    *args: str, cwd: Path, call: str = "main()"
) -> subprocess.CompletedProcess[str]:
    code = f"import sys; from comove.cli import app, main; sys.argv = ['comove', *sys.argv[1:]]; {call}"
    return _run_python(code, *args, cwd=cwd)


def test_entry_point_exit_code_and_clean_error(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("Date,Close\n2024-01-02,-5\n")
    result = _run_entry_point("analyze", "--demo", "--windows", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: window 1 is invalid: windows are whole sessions from 3 to 500"
    )


def test_help_does_not_import_heavy_modules(tmp_path: Path) -> None:
    code = (
        "import sys; from comove.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('pandas', 'numpy', 'scipy', 'plotly', 'exchange_calendars') if m in sys.modules)\n"
        "print('HEAVY', heavy)"
    )
    result = _run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout
    assert "report" in result.stdout
    assert "analyze" in result.stdout


@pytest.mark.parametrize("name", ["bad[/x].csv", "bad[red].csv", "[bold]x[/bold].csv"])
def test_bracketed_file_names_are_printed_as_written(tmp_path: Path, name: str) -> None:
    (tmp_path / "bad").mkdir()
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Date,Close\n2024-01-02,-5\n")
    result = runner.invoke(app, ["analyze", "--crypto", f"csv:{path}", "--equity", str(path)])
    assert result.exit_code == 1
    line = _one_line_error(result)
    assert str(path) in line


def test_an_unknown_config_key_names_key_section_and_file(tmp_path: Path) -> None:
    config = tmp_path / "comove.toml"
    config.write_text("[analysis]\nwindos = [30, 60]\n")
    result = runner.invoke(app, ["analyze", "--demo", "--config", str(config)])
    assert result.exit_code == 1
    line = _one_line_error(result)
    assert "'windos'" in line
    assert "[analysis]" in line
    assert str(config) in line
    assert "did you mean 'windows'" in line
    config.write_text('[pair]\ncrypo = "yahoo:BTC-USD"\n')
    result = runner.invoke(app, ["analyze", "--demo", "--config", str(config)])
    assert result.exit_code == 1
    assert "'crypo'" in _one_line_error(result)


def test_help_shows_the_defaults_and_config_keys_as_written() -> None:
    result = runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "[default: 30,60,90, or [analysis] windows]" in text
    assert "[default: XNYS, or [analysis] calendar]" in text
    assert "[default: 10; x>=1]" in text
    assert "[default: table]" in text


def test_version_prints_the_package_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"comove {version('comove')}"


def test_each_command_is_registered_under_its_name() -> None:
    import typer.main

    from comove.cli import COMMANDS, build_app

    whole = typer.main.get_command(build_app())
    assert list(whole.commands) == list(COMMANDS)  # type: ignore[attr-defined]
    for name in COMMANDS:
        alone = typer.main.get_command(build_app(name))
        assert list(alone.commands) == [name]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "argv", [["analyze", "--help"], ["store", "info", "--help"], ["--help"], ["analyse"]]
)
def test_the_entry_point_answers_as_the_whole_app(tmp_path: Path, argv: list[str]) -> None:
    # main() registers only the command asked for; what the user sees must not change.
    result = _run_entry_point(*argv, cwd=tmp_path)
    whole = _run_entry_point(*argv, cwd=tmp_path, call="app()")
    assert (result.returncode, result.stdout, result.stderr) == (
        whole.returncode,
        whole.stdout,
        whole.stderr,
    )
    assert result.stdout or result.stderr


def test_start_up_pauses_the_garbage_collector_and_commands_run_with_it(tmp_path: Path) -> None:
    code = (
        "import gc\n"
        "from comove.cli.common import pause_collection, run_command\n"
        "pause_collection()\n"
        "paused = gc.isenabled()\n"
        "inside = run_command(lambda caught: (gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "print(paused, *inside)\n"
    )
    result = _run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def test_without_the_console_entry_the_collector_is_left_alone() -> None:
    import gc

    from comove.cli.common import run_command

    frozen = gc.get_freeze_count()
    assert run_command(lambda caught: gc.isenabled()) is True
    assert gc.get_freeze_count() == frozen
