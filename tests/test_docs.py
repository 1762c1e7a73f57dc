"""The README stays true: the release-lag table and the command list match the code."""

from __future__ import annotations

from pathlib import Path

from comove.analytics.macro import release_lag_markdown
from comove.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_release_lag_table_is_the_one_in_code() -> None:
    assert release_lag_markdown().strip() in README


def test_every_command_is_documented() -> None:
    names = {
        command.name or command.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
        for command in app.registered_commands
    }
    names |= {group.name for group in app.registered_groups}
    assert names
    for name in names:
        assert f"comove {name}" in README, name
