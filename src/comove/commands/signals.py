"""``comove signals`` (the checklist of the latest session) and ``comove backtest``.

Heavy modules (pandas, plotly) are imported inside the command bodies so ``comove --help``
stays fast.
"""

from __future__ import annotations

import io
import json
import math
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from comove.commands.common import check_output_path, run_command, stderr_console, step
from comove.commands.pair import (
    CalendarOpt,
    ConfigOpt,
    CryptoOpt,
    DemoOpt,
    EquityOpt,
    HourlyOpt,
    LambdaOpt,
    LastBarOpt,
    Mode,
    ModeOpt,
    OfflineOpt,
    PairOptions,
    Price,
    PriceOpt,
    SinceOpt,
    StoreOpt,
    UntilOpt,
    WindowsOpt,
    build_pair_analysis,
)

if TYPE_CHECKING:
    from comove.pipeline import Analysis
    from comove.signals.evaluate import BacktestResult, Evaluation
    from comove.signals.rules import SignalCheck


class SignalsFormat(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[
    SignalsFormat,
    typer.Option("--format", "-f", help="table: for reading; json: for programs."),
]
WIDTH = 120


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _date(value: object) -> str | None:
    import pandas as pd

    return None if value is None else pd.Timestamp(value).strftime("%Y-%m-%d")  # type: ignore[arg-type]


def _value_text(value: float) -> str:
    if not math.isfinite(value):
        return "no data"
    return f"{value:+.3f}" if abs(value) < 10 else f"{value:.1f}"


def _evaluation(analysis: Analysis) -> Evaluation:
    """The evaluation the pipeline attached to the analysis (whole aligned history)."""
    from comove.signals.evaluate import Evaluation

    return Evaluation(
        signals=analysis.signals,
        backtest=analysis.backtest,
        event_study=analysis.event_study,
        claims=analysis.claims,
    )


def checklist_json(checks: list[SignalCheck]) -> list[dict[str, Any]]:
    return [
        {
            "signal": check.name,
            "label": check.label,
            "date": _date(check.date),
            "state": check.state,
            "since": _date(check.since),
            "summary": check.summary,
            "conditions": [
                {
                    "name": c.name,
                    "label": c.label,
                    "value": _finite(c.value),
                    "comparison": c.comparison,
                    "threshold": _finite(c.threshold),
                    "exit": _finite(c.exit),
                    "status": c.status,
                    "required": c.required,
                    "since": _date(c.since),
                }
                for c in check.conditions
            ],
        }
        for check in checks
    ]


def _render(printables: list[Any]) -> str:
    from rich.console import Console

    console = Console(record=True, width=WIDTH, file=io.StringIO(), highlight=False)
    for item in printables:
        console.print(item)
    return console.export_text()


def checklist_text(checks: list[SignalCheck], synthetic: bool = False) -> str:
    from rich.table import Table

    printables: list[Any] = []
    if checks:
        printables.append(
            f"Signals as of {_date(checks[0].date)}" + ("  [SYNTHETIC DATA]" if synthetic else "")
        )
    for check in checks:
        grid = Table(title=check.summary, title_justify="left", show_edge=False)
        grid.add_column("condition")
        grid.add_column("value", justify="right")
        grid.add_column("threshold")
        grid.add_column("", justify="center")
        grid.add_column("since")
        for c in check.conditions:
            label = c.label if c.required else f"  · {c.label}"
            grid.add_row(
                label, _value_text(c.value), c.threshold_text, c.mark, _date(c.since) or ""
            )
        printables.append(grid)
    return _render(printables)


def history_text(history: Any) -> str:
    from rich.table import Table

    grid = Table(title="State changes", title_justify="left", show_edge=False)
    for column in ("date", "signal", "from", "to"):
        grid.add_column(column)
    for _, row in history.iterrows():
        grid.add_row(_date(row["date"]) or "", str(row["signal"]), str(row["from"]), str(row["to"]))
    if history.empty:
        return "No state changes.\n"
    return _render([grid])


def _history_json(history: Any) -> list[dict[str, Any]]:
    return [
        {"date": _date(row["date"]), "signal": row["signal"], "from": row["from"], "to": row["to"]}
        for _, row in history.iterrows()
    ]


def _records(frame: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for record in frame.to_dict(orient="records"):
        out.append({str(k): (_finite(v) if isinstance(v, float) else v) for k, v in record.items()})
    return out


def backtest_json(evaluation: Evaluation, synthetic: bool) -> dict[str, Any]:
    result = evaluation.backtest
    metrics = {
        str(name): {str(k): _finite(float(v)) for k, v in row.items()}
        for name, row in result.metrics.iterrows()
    }
    episodes = evaluation.claims.episodes.copy()
    for column in ("start", "end"):
        episodes[column] = [_date(v) for v in episodes[column]]
    return {
        "synthetic": synthetic,
        "start": _date(result.start),
        "end": _date(result.end),
        "cost_bps": result.cost_bps,
        "metrics": metrics,
        "notes": result.notes,
        "event_study": _records(evaluation.event_study),
        "claims": {
            "level": evaluation.claims.level,
            "summary": _records(evaluation.claims.summary),
            "episodes": _records(episodes),
            "words": evaluation.claims.words,
        },
    }


def _pct(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:+.1%}"


def backtest_text(evaluation: Evaluation, synthetic: bool) -> str:
    from rich.table import Table

    result: BacktestResult = evaluation.backtest
    printables: list[Any] = []
    title = (
        f"Stance overlay vs buy-and-hold, {_date(result.start)} to {_date(result.end)}, "
        f"cost {result.cost_bps:g} bps per unit of turnover"
        + ("  [SYNTHETIC DATA]" if synthetic else "")
    )
    grid = Table(title=title, title_justify="left", show_edge=False)
    for column in ("", "CAGR", "volatility", "Sharpe", "max drawdown", "turnover/yr", "in market"):
        grid.add_column(column, justify="right" if column else "left")
    for name, row in result.metrics.iterrows():
        grid.add_row(
            str(name).replace("_", "-"),
            _pct(row["cagr"]),
            _pct(row["volatility"]).lstrip("+"),
            "—" if not math.isfinite(row["sharpe"]) else f"{row['sharpe']:.2f}",
            _pct(row["max_drawdown"]),
            "—"
            if not math.isfinite(row["turnover_per_year"])
            else f"{row['turnover_per_year']:.1f}",
            "—" if not math.isfinite(row["time_in_market"]) else f"{row['time_in_market']:.0%}",
        )
    printables.append(grid)
    printables.extend(f"note: {note}" for note in result.notes)
    study = Table(
        title="ETH forward log return after each onset vs all sessions (95% block-bootstrap interval)",
        title_justify="left",
        show_edge=False,
    )
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


def _options(**values: Any) -> PairOptions:
    return PairOptions(**values)


def register(app: typer.Typer) -> None:
    """Add ``comove signals`` and ``comove backtest`` to ``app``."""

    @app.command()
    def signals(
        crypto: CryptoOpt = None,
        equity: EquityOpt = None,
        demo: DemoOpt = False,
        history: Annotated[
            bool, typer.Option("--history", help="Also list every change of state.")
        ] = False,
        output_format: FormatOpt = SignalsFormat.table,
        crypto_hourly: HourlyOpt = None,
        mode: ModeOpt = Mode.daily,
        calendar: CalendarOpt = None,
        windows: WindowsOpt = None,
        since: SinceOpt = None,
        until: UntilOpt = None,
        price: PriceOpt = Price.auto,
        drop_last: LastBarOpt = None,
        ewma_lambda: LambdaOpt = 0.94,
        store: StoreOpt = None,
        offline: OfflineOpt = False,
        config: ConfigOpt = None,
    ) -> None:
        """The signal checklist of the latest session: every condition, its value and since when."""
        console = stderr_console()
        options = _options(
            crypto=crypto, equity=equity, demo=demo, crypto_hourly=crypto_hourly, mode=mode,
            calendar=calendar, windows=windows, since=since, until=until, price=price,
            drop_last=drop_last, ewma_lambda=ewma_lambda, store=store, offline=offline,
            config=config,
        )  # fmt: skip

        def body(caught: list[warnings.WarningMessage]) -> None:
            analysis = build_pair_analysis(console, options)
            result = analysis.signals
            checks = result.checklist()
            synthetic = bool(analysis.meta.get("synthetic"))
            if output_format is SignalsFormat.json:
                payload: dict[str, Any] = {
                    "synthetic": synthetic,
                    "checklist": checklist_json(checks),
                }
                if history:
                    payload["history"] = _history_json(result.history)
                sys.stdout.write(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
            else:
                text = checklist_text(checks, synthetic)
                if history:
                    text += "\n" + history_text(result.history)
                sys.stdout.write(text)

        run_command(body)

    @app.command()
    def backtest(
        crypto: CryptoOpt = None,
        equity: EquityOpt = None,
        demo: DemoOpt = False,
        cost_bps: Annotated[
            float,
            typer.Option("--cost-bps", help="Cost per unit of turnover in basis points.", min=0),
        ] = 10.0,
        output_format: FormatOpt = SignalsFormat.table,
        report: Annotated[
            Path | None,
            typer.Option(
                "--report",
                help="Also write the HTML report with the evaluation to this file.",
                show_default=False,
            ),
        ] = None,
        crypto_hourly: HourlyOpt = None,
        mode: ModeOpt = Mode.daily,
        calendar: CalendarOpt = None,
        windows: WindowsOpt = None,
        since: SinceOpt = None,
        until: UntilOpt = None,
        price: PriceOpt = Price.auto,
        drop_last: LastBarOpt = None,
        ewma_lambda: LambdaOpt = 0.94,
        store: StoreOpt = None,
        offline: OfflineOpt = False,
        config: ConfigOpt = None,
    ) -> None:
        """What the signals were worth: event study, the stance overlay vs buy-and-hold ETH."""
        console = stderr_console()
        options = _options(
            crypto=crypto, equity=equity, demo=demo, crypto_hourly=crypto_hourly, mode=mode,
            calendar=calendar, windows=windows, since=since, until=until, price=price,
            drop_last=drop_last, ewma_lambda=ewma_lambda, store=store, offline=offline,
            config=config,
        )  # fmt: skip

        def body(caught: list[warnings.WarningMessage]) -> None:
            target = check_output_path(report) if report is not None else None
            analysis = build_pair_analysis(console, options, cost_bps=cost_bps)
            evaluation = _evaluation(analysis)
            synthetic = bool(analysis.meta.get("synthetic"))
            if output_format is SignalsFormat.json:
                text = json.dumps(
                    backtest_json(evaluation, synthetic), indent=1, ensure_ascii=False
                )
                sys.stdout.write(text + "\n")
            else:
                sys.stdout.write(backtest_text(evaluation, synthetic))
            if target is not None:
                from comove.report.html import write_report

                with step(console, "Rendering the report"):
                    written = write_report(
                        analysis,
                        target,
                        data_warnings=[str(w.message) for w in caught],
                        signals=evaluation.signals,
                        backtest=evaluation.backtest,
                        event_study=evaluation.event_study,
                        claims=evaluation.claims,
                    )
                console.print(f"Report written to {written}", markup=False)

        run_command(body)


__all__ = ["register"]
