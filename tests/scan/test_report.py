"""The scan report: offline, escaped, heatmap and ranked table from the result."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from comove.errors import ConfigError
from comove.report.charts import plotly_js
from comove.report.scan import render_scan_report, write_scan_report
from comove.scan.engine import ScanConfig, scan_frames
from comove.scan.universe import prepare_benchmark


def test_report_is_offline_escaped_and_ranked(universe, tmp_path: Path) -> None:
    frames, bench = universe
    name = next(iter(frames))
    evil = "<script>alert(1)</script>"
    renamed = {(evil if n == name else n): f for n, f in frames.items()}
    result = scan_frames(renamed, [prepare_benchmark(bench)], ScanConfig())
    html = render_scan_report(result)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # plotly.js, the figure data, figures.js and the call that draws.
    assert html.count("<script") == 4
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.IGNORECASE)
    assert plotly_js() in html
    top = result.ranked().iloc[0]["asset"]
    first_row = html.split('<table id="ranked">', 1)[1].split("<tr>", 3)[2]
    assert str(top).replace("<", "&lt;").replace(">", "&gt;") in first_row
    written = write_scan_report(result, tmp_path / "scan.html")
    assert written.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ConfigError, match="does not exist"):
        write_scan_report(result, tmp_path / "nope" / "scan.html")
    assert isinstance(result.table, pd.DataFrame)
