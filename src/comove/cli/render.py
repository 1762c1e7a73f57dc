"""Text the analysis commands print: summaries, tables, checklists, the backtest.

Views only: every number comes from the pipeline's :class:`~comove.pipeline.Analysis`
and the domain types' ``to_dict()``; this module formats.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from comove._json import day, dumps

if TYPE_CHECKING:
    import pandas as pd

    from comove.pipeline import Analysis
    from comove.signals.evaluate import Evaluation
    from comove.signals.rules import SignalCheck

WIDTH = 120
SYNTHETIC = "  [SYNTHETIC DATA]"


def _render(printables: list[Any], width: int = WIDTH) -> str:
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), highlight=False, markup=False)
    for item in printables:
        console.print(item)
    return console.export_text()


def _fmt(value: float, spec: str) -> str:
    return "n/a" if not math.isfinite(value) else format(value, spec)


def summary_lines(analysis: Analysis) -> list[str]:
    """The latest reading and verdict in a few lines (what ``report`` and ``analyze`` print)."""
    meta = analysis.meta
    reading = analysis.reading
    lines = [
        f"{meta['crypto_name']} vs {meta['equity_name']}, {reading.first_date.date()} to "
        f"{reading.date.date()} ({reading.sessions} sessions, {meta['mode']} alignment on "
        f"{meta['calendar']})" + (SYNTHETIC if meta.get("synthetic") else ""),
        reading.headline(),
    ]
    for w in reading.windows:
        lines.append(
            f"  corr {w.window:>3}: {_fmt(w.corr, '+.3f')} [{_fmt(w.lo, '+.3f')}, "
            f"{_fmt(w.hi, '+.3f')}]  beta {_fmt(w.beta, '+.2f')}  {w.strength}"
        )
    for m in reading.momentum:
        lines.append(f"  {m.asset}: RSI {_fmt(m.rsi, '.1f')} {m.rsi_zone}; {m.macd_state}")
    best = analysis.lead_lag_best
    lines.append(
        f"  lead-lag: strongest at lag {best.best_lag:+d} (r {_fmt(best.corr, '+.3f')}, "
        f"adjusted p {_fmt(best.p_adjusted, '.3g')})"
    )
    verdict = analysis.verdict()
    states = ", ".join(f"{s['signal']} {s['state']}" for s in verdict["signals"])
    stance = verdict["stance"]
    exposure = "" if stance["exposure"] is None else f" ({stance['exposure']:.1f})"
    word = "unknown (warming up)" if stance["word"] == "unknown" else stance["word"] + exposure
    caveat = f" [{stance['caveat']}]" if stance["caveat"] else ""
    lines.append(f"  signals: {states}; stance for {stance['crypto']} exposure: {word}{caveat}")
    lines.extend(f"  missing: {gap['sentence']}" for gap in verdict["gaps"])
    lines.extend(f"  note: {note}" for note in meta.get("notes", []))
    return lines


def table_csv(table: pd.DataFrame) -> str:
    """The whole analysis table as CSV: shortest round-trip floats, empty for NaN.

    Arrow's writer, about three times faster than ``DataFrame.to_csv`` on the table; the
    header is written here since Arrow quotes every column name.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    dates = pd.DatetimeIndex(table.index).strftime("%Y-%m-%d")
    columns = {"date": pa.array(dates.to_numpy(dtype=object), pa.string())}
    for name in table.columns:
        values = table[name].to_numpy(dtype="float64")
        columns[str(name)] = pa.array(values, pa.float64(), mask=np.isnan(values))
    sink = io.BytesIO()
    pa_csv.write_csv(pa.table(columns), sink, pa_csv.WriteOptions(include_header=False))
    return ",".join(columns) + "\n" + sink.getvalue().decode("utf-8")


def table_json(table: pd.DataFrame) -> str:
    """The whole analysis table as JSON records (NaN as null)."""
    from comove._json import records

    frame = table.reset_index()
    frame["date"] = [day(d) for d in frame["date"]]
    return dumps(records(frame), indent=1) + "\n"


def table_text(table: pd.DataFrame, summary: list[str]) -> str:
    """The latest rows of the analysis table and the summary, for the terminal."""
    from rich.table import Table

    windows = [c for c in table.columns if c.startswith("corr_") and c.count("_") == 1]
    shown = ["crypto_close", "equity_close", *windows, "rsi_crypto", "rsi_equity"]
    shown += ["macd_hist_crypto", "macd_hist_equity"]
    grid = Table(show_edge=False, header_style="bold")
    grid.add_column("date")
    for column in shown:
        grid.add_column(column, justify="right")
    for date, row in zip(table.index, table[shown].itertuples(index=False), strict=True):
        cells = []
        for column, value in zip(shown, row, strict=True):
            spec = ",.2f" if "close" in column else ".3f"
            cells.append("" if value != value else format(value, spec))
        grid.add_row(day(date) or "", *cells)
    return _render([grid, *summary], width=160)


def _value_text(value: float | None) -> str:
    if value is None:
        return "no data"
    return f"{value:+.3f}" if abs(value) < 10 else f"{value:.1f}"


def checklist_text(checks: list[SignalCheck], synthetic: bool = False) -> str:
    from rich.table import Table

    printables: list[Any] = []
    if checks:
        printables.append(f"Signals as of {day(checks[0].date)}" + (SYNTHETIC if synthetic else ""))
    for check in checks:
        grid = Table(title=check.summary, title_justify="left", show_edge=False)
        grid.add_column("condition")
        grid.add_column("value", justify="right")
        grid.add_column("threshold")
        grid.add_column("", justify="center")
        grid.add_column("since")
        for c in check.conditions:
            label = c.label if c.required else f"  · {c.label}"
            value = c.value if math.isfinite(c.value) else None
            grid.add_row(label, _value_text(value), c.threshold_text, c.mark, day(c.since) or "")
        printables.append(grid)
    return _render(printables)


def history_text(history: list[dict[str, Any]]) -> str:
    from rich.table import Table

    if not history:
        return "No state changes.\n"
    grid = Table(title="State changes", title_justify="left", show_edge=False)
    for column in ("date", "signal", "from", "to"):
        grid.add_column(column)
    for row in history:
        grid.add_row(row["date"] or "", row["signal"], row["from"], row["to"])
    return _render([grid])


def _pct(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:+.1%}"


def backtest_text(evaluation: Evaluation, synthetic: bool, crypto: str = "ETH") -> str:
    from rich.table import Table

    result = evaluation.backtest
    printables: list[Any] = [
        f"Stance overlay vs buy-and-hold {crypto}, {day(result.start)} to {day(result.end)}, "
        f"cost {result.cost_bps:g} bps per unit of turnover" + (SYNTHETIC if synthetic else "")
    ]
    grid = Table(show_edge=False)
    for column in ("", "CAGR", "volatility", "Sharpe", "max drawdown", "turnover/yr", "in market"):
        grid.add_column(column, justify="right" if column else "left")
    for name, row in result.metrics.iterrows():
        grid.add_row(
            str(name).replace("_", "-"),
            _pct(row["cagr"]),
            _pct(row["volatility"]).lstrip("+"),
            _fmt(row["sharpe"], ".2f").replace("n/a", "—"),
            _pct(row["max_drawdown"]),
            _fmt(row["turnover_per_year"], ".1f").replace("n/a", "—"),
            _fmt(row["time_in_market"], ".0%").replace("n/a", "—"),
        )
    printables.append(grid)
    printables.extend(f"note: {note}" for note in result.notes)
    printables.append(
        f"{crypto} forward log return after each onset vs all sessions "
        "(95% block-bootstrap interval)"
    )
    study = Table(show_edge=False)
    for column in ("signal", "h", "events", "indep.", "after", "interval", "all", "excess"):
        study.add_column(column, justify="left" if column == "signal" else "right")
    for _, row in evaluation.event_study.iterrows():
        study.add_row(
            str(row["signal"]),
            str(row["horizon"]),
            str(row["events"]),
            str(row["independent_events"]),
            _pct(row["mean_after"]),
            f"[{_pct(row['ci_low'])}, {_pct(row['ci_high'])}]",
            _pct(row["mean_all"]),
            _pct(row["excess"]),
        )
    printables.append(study)
    for _, row in evaluation.event_study.iterrows():
        printables.append(f"{row['signal']} ({row['horizon']} sessions): {row['evidence']}")
    printables.extend(evaluation.claims.words)
    return _render(printables)


def _interval(low: float, high: float) -> str:
    return f"[{_fmt(low, '+.2f')}, {_fmt(high, '+.2f')}]"


def _estimates_table(title: str, estimates: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    grid = Table(title=title, title_justify="left", show_edge=False)
    for column in (
        "",
        "from",
        "to",
        "sessions",
        "r",
        "Fisher",
        "bootstrap",
        "block",
        "boot/Fisher",
    ):
        grid.add_column(column, justify="left" if column in ("", "from", "to") else "right")
    for e in estimates:
        boot = e["bootstrap"]
        ratio = e["width_ratio"]
        grid.add_row(
            str(e["label"]),
            str(e["start"]),
            str(e["end"]),
            str(e["sessions"]),
            _fmt(e["r"] if e["r"] is not None else math.nan, "+.3f"),
            _interval(*(math.nan if v is None else v for v in (e["fisher_low"], e["fisher_high"]))),
            _interval(*(math.nan if v is None else v for v in (boot["low"], boot["high"]))),
            _fmt(boot["block"] if boot["block"] is not None else math.nan, ".1f"),
            ("n/a" if ratio is None else f"{ratio:.2f}") + (" *" if e["disagree"] else ""),
        )
    return grid


def comparison_text(result: dict[str, Any], synthetic: bool = False) -> str:
    """``comove compare`` as text, from :meth:`Comparison.to_dict`."""
    printables: list[Any] = []
    benchmarks = result["benchmarks"]
    level = f"{result['level'] * 100:g}%"
    if benchmarks is not None:
        first = benchmarks["whole"][0]
        printables.append(
            f"{result['crypto']} against {', '.join(benchmarks['benchmarks'])}, "
            f"{first['start']} to {first['end']}" + (SYNTHETIC if synthetic else "")
        )
        printables.append(_estimates_table(f"Whole span ({level} intervals)", benchmarks["whole"]))
        for window, estimates in benchmarks["latest"].items():
            printables.append(_estimates_table(f"Latest {window} sessions", estimates))
    periods = result["periods"]
    if periods is not None:
        printables.append(
            _estimates_table(
                f"{periods['crypto']} vs {periods['benchmark']} by period", periods["periods"]
            )
        )
    regimes = result["regimes"]
    if regimes:
        printables.append(
            _estimates_table(
                "Regimes",
                [part for r in regimes for part in (r["inside"], r["outside"])],
            )
        )
    if any(
        e["disagree"]
        for group in (
            benchmarks["whole"] if benchmarks else [],
            *(benchmarks["latest"].values() if benchmarks else []),
            periods["periods"] if periods else [],
        )
        for e in group
    ):
        printables.append(
            "* the bootstrap and Fisher intervals disagree (width ratio beyond 1.25, or only "
            "one excludes zero). Over a few hundred sessions or more trust the bootstrap: it "
            "keeps fat tails and clustering; on short windows neither interval is exact"
        )
    printables.append("")
    printables.extend(f"- {line}" for line in result["words"])
    printables.append("")
    printables.append("Methods:")
    printables.extend(f"- {text}" for text in result["methods"].values())
    return _render(printables)
