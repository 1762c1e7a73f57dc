"""The scan report: one self-contained HTML file with a correlation heatmap and a ranked table.

Everything shown comes from a :class:`~comove.scan.engine.ScanResult`; this module only
formats it. Text goes through Jinja2 autoescaping; the only markup marked safe is the
inlined plotly.js, ``figures.js`` and the figure payload, whose JSON has ``</`` escaped (as
in :mod:`comove.report.html`), so an asset named ``</script>`` cannot break out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

import comove
from comove.errors import ConfigError
from comove.files import write_text_atomic
from comove.report.charts import Figure, plotly_js, template
from comove.report.payload import figure_payload, figures_js, payload_json
from comove.report.templates import environment
from comove.scan.engine import ScanResult

TEMPLATE = "scan.html"
HEATMAP_ROWS = 60
TABLE_ROWS = 1000


def _fmt(value: object, spec: str = "+.2f") -> str:
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "—"
    return format(value, spec)


def heatmap_figure(
    ranked: pd.DataFrame, windows: Sequence[int], rows: int = HEATMAP_ROWS
) -> Figure:
    """Latest correlation: assets (ranked, top ``rows``) × benchmark · window."""
    benchmarks = list(dict.fromkeys(ranked["benchmark"]))
    assets = list(dict.fromkeys(ranked["asset"]))[:rows]
    columns = [(b, w) for b in benchmarks for w in windows]
    lookup = ranked.set_index(["asset", "benchmark"])
    z = np.full((len(assets), len(columns)), np.nan)
    for i, asset in enumerate(assets):
        for j, (bench, w) in enumerate(columns):
            if (asset, bench) in lookup.index:
                z[i, j] = float(lookup.loc[(asset, bench), f"corr_{w}"])
    labels = [f"{b} · {w}" if len(benchmarks) > 1 else f"{w} sessions" for b, w in columns]
    text = [[_fmt(v) for v in row] for row in z]
    heatmap = {
        "type": "heatmap",
        "z": z,
        "x": labels,
        "y": assets,
        "text": text,
        "texttemplate": "%{text}",
        "zmin": -1.0,
        "zmax": 1.0,
        "colorscale": "RdBu",
        "reversescale": True,
        "colorbar": {"title": {"text": "corr"}},
        "hovertemplate": "%{y} vs %{x}: %{text}<extra></extra>",
    }
    layout = {
        "title": {"text": "Latest correlation"},
        "height": max(320, 22 * len(assets) + 120),
        "yaxis": {"autorange": "reversed", "type": "category"},
        "xaxis": {"type": "category", "side": "top"},
        "template": template(),
    }
    return {"data": [heatmap], "layout": layout}


def _rows(ranked: pd.DataFrame, main: int) -> list[dict[str, str]]:
    rows = []
    for record in ranked.head(TABLE_ROWS).to_dict("records"):
        lag = record["lead_lag"]
        rows.append(
            {
                "asset": str(record["asset"]),
                "benchmark": str(record["benchmark"]),
                "kind": str(record["kind"]),
                "corr": _fmt(record[f"corr_{main}"]),
                "band": f"[{_fmt(record[f'corr_{main}_lo'])}, {_fmt(record[f'corr_{main}_hi'])}]",
                "beta": _fmt(record[f"beta_{main}"], ".2f"),
                "lead_lag": "—"
                if lag != lag
                else f"{int(lag):+d} ({_fmt(record['lead_lag_corr'])})",
                "side": f"{record['side']} 0.5 for {record['side_sessions']}"
                if record["side"]
                else "—",
                "change": str(record["change"]),
                "as_of": pd.Timestamp(record["as_of"]).strftime("%Y-%m-%d"),
                "others": " / ".join(
                    _fmt(record[c])
                    for c in ranked.columns
                    if c.startswith("corr_") and c.count("_") == 1
                ),
            }
        )
    return rows


def render_scan_report(
    result: ScanResult,
    *,
    sort: str | None = None,
    ascending: bool = False,
    top: int | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The scan report as one HTML string."""
    when = generated_at if generated_at is not None else datetime.now(UTC)
    config = result.config
    ranked = result.ranked(sort, ascending=ascending, top=top)
    figure = heatmap_figure(ranked, config.windows)
    counts = ranked["change"].value_counts()
    context: dict[str, Any] = {
        "title": f"Universe scan: {len(set(result.table['asset']))} assets",
        "benchmarks": [f"{b.name} ({b.source})" for b in result.benchmarks],
        "windows": "/".join(str(w) for w in config.windows),
        "main": config.main,
        "sort": sort or f"corr_{config.main}",
        "engine": result.engine,
        "lead_lag_sessions": config.lead_lag_sessions,
        "max_lag": config.max_lag,
        "change_within": config.change_within,
        "coupled": int(counts.get("newly coupled", 0)),
        "decoupled": int(counts.get("newly decoupled", 0)),
        "synthetic": bool(result.meta.get("synthetic", False)),
        "figure_data": Markup(payload_json(figure_payload({"chart-heatmap": figure}))),
        "figures_js": Markup(figures_js()),
        "heatmap_rows": min(HEATMAP_ROWS, len(ranked)),
        "rows": _rows(ranked, config.main),
        "table_limit": TABLE_ROWS,
        "total_rows": len(ranked),
        "skipped": [
            {"asset": str(a), "benchmark": str(b or "all"), "reason": str(r)}
            for a, b, r in result.skipped.itertuples(index=False)
        ],
        "warnings": [str(w) for w in result.warnings],
        "plotlyjs": Markup(plotly_js()),
        "generated_at": when.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        "version": comove.__version__,
    }
    return environment().get_template(TEMPLATE).render(**context)


def write_scan_report(result: ScanResult, path: str | Path, **options: Any) -> Path:
    """Write the scan report to ``path`` atomically; its folder must exist."""
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise ConfigError(
            f"report folder {target.parent} does not exist; create it or choose another path"
        )
    if target.is_dir():
        raise ConfigError(f"report path {target} is a folder; give a file name such as scan.html")
    write_text_atomic(target, render_scan_report(result, **options))
    return target.resolve()
