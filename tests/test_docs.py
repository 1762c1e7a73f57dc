"""The README stays true: the release-lag table and the command list match the code."""

from __future__ import annotations

from pathlib import Path

import typer

from comove.analytics.macro import release_lag_markdown
from comove.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_release_lag_table_is_the_one_in_code() -> None:
    assert release_lag_markdown().strip() in README


def test_every_command_is_documented() -> None:
    group = typer.main.get_command(app)
    names = set(group.commands)  # type: ignore[attr-defined]
    assert {"report", "analyze", "import", "store", "serve", "scan"} <= names
    for name in names:
        assert f"comove {name}" in README, name


def test_the_dependency_table_names_the_vendored_plotly_js() -> None:
    from comove.report.charts import PLOTLY_JS_FILE, PLOTLY_JS_VERSION

    assert f'| plotly.js {PLOTLY_JS_VERSION}, "cartesian" partial bundle' in README
    assert f"`{PLOTLY_JS_FILE}`" in README
