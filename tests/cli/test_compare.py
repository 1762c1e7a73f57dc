"""``comove compare``: the three questions from the command line, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from comove.cli import app as APP
from tests.conftest import correlated_pair

runner = CliRunner()


def _section(text: str, heading: str) -> str:
    """The lines from ``heading`` up to the next blank line."""
    start = text.index(heading)
    end = text.find("\n\n", start)
    return text[start : end if end != -1 else len(text)]


def test_compare_demo_table() -> None:
    result = runner.invoke(APP, ["compare", "--demo", "--reps", "200"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "[SYNTHETIC DATA]" in out
    whole = _section(out, "Whole span (95% intervals)")
    assert "Russell 2000" in whole
    assert "S&P 500" in whole
    assert "Latest 60 sessions" in out
    verdict = out[out.index("\n- ") :]
    assert verdict.lstrip("\n- ").startswith(("Yes:", "No:", "No evidence"))
    assert "Williams' t p =" in verdict
    assert "risk-on" in verdict
    assert "crypto-only moves" in verdict
    methods = out[out.index("Methods:") :]
    for name in ("Fisher band", "Stationary block bootstrap", "Williams' t", "Partial correlation"):
        assert name in methods


def test_compare_json_and_csv() -> None:
    result = runner.invoke(APP, ["compare", "--demo", "--reps", "200", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["synthetic"] is True
    bench = payload["benchmarks"]
    assert len(bench["benchmarks"]) == 2
    assert set(bench["latest"]) == {"30", "60", "90"}
    first = bench["whole"][0]
    assert first["fisher_low"] < first["r"] < first["fisher_high"]
    assert first["bootstrap"]["reps"] == 200
    assert {d["method"] for d in bench["differences"][0]["tests"]} == {
        "Williams' t",
        "Steiger's Z",
    }
    assert [r["name"] for r in payload["regimes"]] == ["risk_on", "crypto_only_moves"]
    assert payload["periods"] is None
    assert "change_points" in payload["methods"]
    for shift in payload["change_points"]:
        assert set(shift) == {"date", "statistic", "p_value", "before", "after"}
        assert shift["p_value"] < 0.05
    assert any("CUSUM" in line for line in payload["words"])
    result = runner.invoke(APP, ["compare", "--demo", "--reps", "200", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split(",")
    slugs = bench["slugs"]
    assert header[0] == "date"
    for w in (30, 60, 90):
        assert f"corr_{slugs[0]}_{w}" in header
        assert f"corr_diff_{w}" in header
        assert f"partial_{w}" in header


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str, str]:
    crypto, equity = correlated_pair(start="2021-01-01", end="2023-12-29")
    other = equity.copy()
    rng = np.random.default_rng(7)
    other["close"] = other["close"] * np.exp(np.cumsum(rng.normal(0, 0.004, len(other))))
    paths = []
    for name, bars in (("c", crypto), ("e", equity), ("o", other)):
        path = tmp_path / f"{name}.csv"
        bars.rename(columns=str.title).to_csv(path, index_label="Date")
        paths.append(f"csv:{path}")
    return paths[0], paths[1], paths[2]


def test_compare_files_with_periods(files: tuple[str, str, str]) -> None:
    crypto, small, large = files
    result = runner.invoke(
        APP,
        [
            "compare", "--crypto", crypto, "--benchmark", small, "--benchmark", large,
            "--period", "2021-01-01:2021-12-31", "--period", "2022-01-01:2023-12-31",
            "--reps", "200", "--format", "json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["benchmarks"]["benchmarks"] == ["e", "o"]
    periods = payload["periods"]
    assert [p["label"] for p in periods["periods"]] == [
        "2021-01-01:2021-12-31",
        "2022-01-01:2023-12-31",
    ]
    assert periods["differences"][0]["tests"][0]["method"] == "Fisher's z"
    assert "Fisher's z test" in payload["methods"]["fisher_z"]
    assert "change_points" in payload["methods"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--period", "1990-01-01:1990-12-31"], "does not overlap the data"),
        (["--period", "2022-01-03:2022-01-07"], "at least 10 are needed"),
        ([], "comparing benchmarks needs at least two"),
    ],
)
def test_bad_requests_are_one_line_exit_1(
    files: tuple[str, str, str], extra: list[str], message: str
) -> None:
    crypto, small, _ = files
    result = runner.invoke(
        APP, ["compare", "--crypto", crypto, "--benchmark", small, "--reps", "200", *extra]
    )
    assert result.exit_code == 1, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("error:") == 1


def test_a_malformed_period_is_a_usage_error() -> None:
    result = runner.invoke(APP, ["compare", "--demo", "--period", "2020-01-01"])
    assert result.exit_code == 2
    assert "START:END" in result.stderr


def test_since_and_until_set_the_span_the_benchmarks_are_compared_over() -> None:
    result = runner.invoke(
        APP,
        ["compare", "--demo", "--since", "2024-01-01", "--until", "2024-12-31", "--reps", "200",
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    whole = json.loads(result.stdout)["benchmarks"]["whole"][0]
    assert whole["start"] >= "2024-01-01"
    assert whole["end"] <= "2024-12-31"
    assert 240 <= whole["sessions"] <= 252


def test_a_flat_benchmark_is_named_and_an_identical_one_is_no_crash(
    files: tuple[str, str, str], tmp_path: Path
) -> None:
    crypto, small, large = files
    flat = tmp_path / "flat.csv"
    frame = pd.read_csv(small.removeprefix("csv:"))
    for column in ("Open", "High", "Low", "Close"):
        frame[column] = 100.0
    frame.to_csv(flat, index=False)
    result = runner.invoke(
        APP, ["compare", "--crypto", crypto, "-b", f"csv:{flat}", "-b", large, "--reps", "200"]
    )
    assert result.exit_code == 1
    assert "flat does not move over the span" in result.stderr
    assert "Traceback" not in result.stderr
    result = runner.invoke(
        APP,
        ["compare", "--crypto", small, "-b", small, "-b", large, "--reps", "200",
         "--period", "2021-01-01:2021-12-31", "--period", "2022-01-01:2023-12-31"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
