"""``comove scan`` end to end: outputs, sorting, the report, bad inputs and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from comove.cli import app as APP
from comove.report.charts import plotly_js

runner = CliRunner()


def _invoke(*args: str) -> object:
    return runner.invoke(APP, ["scan", *args])


def _one_line_error(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def test_csv_output_is_ranked_and_complete(universe_folder, tmp_path: Path) -> None:
    folder, bench = universe_folder
    out = tmp_path / "scan.csv"
    result = _invoke(
        str(folder), "--benchmark", f"csv:{bench}", "--format", "csv", "--out", str(out)
    )
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    table = pd.read_csv(out)
    assert len(table) == 26
    assert table["corr_60"].dropna().is_monotonic_decreasing
    assert table["benchmark"].unique().tolist() == ["BENCH"]
    assert {"corr_30_lo", "beta_90", "lead_lag", "side_sessions", "change"} <= set(table.columns)
    assert "Scanned 26 assets" in result.stderr  # type: ignore[attr-defined]


def test_json_sort_top_and_report(universe_folder, tmp_path: Path) -> None:
    folder, bench = universe_folder
    report = tmp_path / "scan.html"
    result = _invoke(
        str(folder), "--benchmark", f"csv:{bench}", "--format", "json", "--sort", "beta_20",
        "--ascending", "--top", "5", "--windows", "20,40", "--report", str(report),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    document = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert document["windows"] == [20, 40]
    assert document["main_window"] == 40
    betas = [row["beta_20"] for row in document["results"]]
    assert len(betas) == 5
    assert betas == sorted(betas)
    html = report.read_text()
    assert "Plotly.newPlot" in html
    assert "cdn.plot.ly" not in html.replace(plotly_js(), "")
    assert "Ranked table" in html


def test_table_output_to_stdout(universe_folder) -> None:
    folder, bench = universe_folder
    result = _invoke(str(folder), "--benchmark", f"csv:{bench}", "--top", "3")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    lines = [line for line in result.stdout.splitlines() if line.strip()]  # type: ignore[attr-defined]
    assert "corr_60" in lines[0]
    assert len(lines) == 2 + 3


def test_missing_default_benchmark_says_what_to_do(universe_folder) -> None:
    folder, _ = universe_folder
    result = _invoke(str(folder))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    line = _one_line_error(result)
    assert "store:^RUT" in line
    assert "--benchmark" in line
    assert "comove fetch" in line


def test_unreadable_file_stops_naming_it_or_is_skipped(universe_folder, tmp_path: Path) -> None:
    folder, bench = universe_folder
    bad = folder / "BROKEN.csv"
    bad.write_text("Date,Close\n2020-01-02,abc\n")
    out = tmp_path / "out.csv"
    result = _invoke(
        str(folder), "--benchmark", f"csv:{bench}", "--format", "csv", "--out", str(out)
    )
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "BROKEN.csv" in _one_line_error(result)
    assert not out.exists()
    skipped = _invoke(
        str(folder),
        "--benchmark",
        f"csv:{bench}",
        "--format",
        "csv",
        "--out",
        str(out),
        "--skip-bad",
    )
    assert skipped.exit_code == 0, skipped.stderr  # type: ignore[attr-defined]
    stderr = skipped.stderr  # type: ignore[attr-defined]
    assert "warning: skipped" in stderr
    assert "BROKEN.csv" in stderr
    assert "skipped BROKEN: unreadable" in stderr
    assert len(pd.read_csv(out)) == 26


def test_asset_without_overlap_is_listed_as_skipped(universe_folder, tmp_path: Path) -> None:
    folder, bench = universe_folder
    (folder / "OLD.csv").write_text("Date,Close\n2001-01-02,10\n2001-01-03,11\n2001-01-04,12\n")
    result = _invoke(str(folder), "--benchmark", f"csv:{bench}", "--format", "csv")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert "skipped OLD vs BENCH: does not overlap BENCH" in result.stderr  # type: ignore[attr-defined]
    assert "OLD" not in result.stdout  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--windows", "2,30"], "from 3 to 500"),
        (["--sort", "nonsense"], "cannot sort by 'nonsense'"),
        (["--out", "/no/such/folder/x.csv"], "does not exist"),
    ],
)
def test_bad_options_are_one_line_errors(universe_folder, args: list[str], message: str) -> None:
    folder, bench = universe_folder
    result = _invoke(str(folder), "--benchmark", f"csv:{bench}", *args)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert message in _one_line_error(result)


def test_sources_and_several_benchmarks(universe_folder, tmp_path: Path) -> None:
    folder, bench = universe_folder
    files = sorted(folder.glob("*.csv"))[:3]
    twin = tmp_path / "TWIN.csv"
    twin.write_text(bench.read_text())
    result = _invoke(
        *(f"csv:{f}" for f in files), "-b", f"csv:{bench}", "-b", f"csv:{twin}", "--format", "csv"
    )
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    lines = result.stdout.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 + 6


def test_the_benchmark_is_left_out_and_skipped_entries_are_listed(universe_folder) -> None:
    folder, bench = universe_folder
    inside = folder / bench.name
    inside.write_text(bench.read_text())  # the benchmark's file in the scanned folder
    (folder / "old").mkdir()
    (folder / "README.txt").write_text("notes")
    result = _invoke(str(folder), "--benchmark", f"csv:{inside}", "--format", "json")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    document = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert bench.stem not in {row["asset"] for row in document["results"]}
    skipped = {(row["asset"], row["reason"]) for row in document["skipped"]}
    assert (bench.stem, "it is a benchmark of this scan") in skipped
    assert ("old/", "a subfolder: the scan reads one level") in skipped
    assert ("README.txt", "not a .csv or .parquet file") in skipped
    assert f"skipped {bench.stem}: it is a benchmark of this scan" in result.stderr  # type: ignore[attr-defined]
