"""The self-contained HTML report: one file, plotly.js inlined once, opens offline.

Everything shown comes from the :class:`~comove.pipeline.Analysis`; this module only words
and formats it. Text goes through Jinja2 autoescaping; the only markup marked safe is
plotly.js, ``figures.js`` and the figure payload (JSON with ``</`` escaped, so nothing in
a name can close its script element).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from comove.errors import ConfigError
from comove.files import write_text_atomic
from comove.pipeline import Analysis
from comove.report.charts import Figure, build_figures, build_signal_figures, plotly_js
from comove.report.payload import figure_payload, figures_js, payload_json
from comove.report.templates import environment

TEMPLATE = "report.html"
SHIFT_ROWS = 15
HISTORY_ROWS = 20
EPISODE_ROWS = 40
MARK_CLASSES = {"pass": "yes", "fail": "no", "unknown": "unknown"}
STATE_CLASSES = {"on": "yes", "bullish": "yes", "reduce": "warning", "unknown": "unknown"}
MODE_SENTENCES = {
    "daily": (
        "Daily: each session pairs the crypto close of that UTC date (00:00 UTC, a few hours "
        "after the New York close) with the equity close; crypto moves over weekends and "
        "holidays fold into the next session's (Monday's) return."
    ),
    "synchronous": (
        "Synchronous: the crypto price is sampled at the equity close (16:00 New York, or an "
        "early close) from hourly bars, so both returns cover the same hours; weekend and "
        "holiday crypto moves still fold into the next session."
    ),
}
INDICATOR_WORDS = {"rsi": "RSI crossed 50", "macd": "MACD crossed its signal"}


@dataclass(frozen=True)
class Chart:
    """A figure on the page: its heading, caption and the id of the div it is drawn in."""

    key: str
    title: str
    caption: str
    div: str


def _fmt(value: float, spec: str = "+.2f") -> str:
    return "—" if math.isnan(value) else format(value, spec)


def _p(value: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:.1e}" if value < 0.001 else f"{value:.3f}"


def _day(value: object) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")  # type: ignore[arg-type]


def _sessions(n: int) -> str:
    return f"{n} session{'' if abs(n) == 1 else 's'}"


def _chart(key: str, figure: Figure, caption: str, prefix: str = "chart") -> Chart:
    title = str(figure["layout"].get("title", {}).get("text") or key.replace("_", " ").capitalize())
    return Chart(key, title, caption, f"{prefix}-{key}")


def _captions(analysis: Analysis, crypto: str, equity: str) -> dict[str, str]:
    windows = "/".join(str(w) for w in analysis.meta.get("windows", []))
    main = analysis.comparison_window
    n = analysis.lead_lag_best.n
    return {
        "overlay": (
            f"Both closes rebased to 100 on the first session, so the lines show how {crypto} "
            f"and {equity} have performed since then on the same scale."
        ),
        "correlation": (
            f"Rolling correlation of daily log returns over {windows} sessions with shaded 95% "
            f"bands; green spans mark where even the lower band of the {main}-session window is "
            "above 0.5, i.e. a strong link we can be confident about."
        ),
        "correlation_variants": (
            f"The {main}-session Pearson correlation next to Spearman (ranks, robust to outsized "
            f"days) and EWMA (λ = {analysis.ewma_lambda:g}, quicker to react); when they agree "
            "the link is not an artefact of a few extreme days."
        ),
        "synchronicity": (
            "Naive correlation pairs each equity session with the crypto close of the same UTC "
            "date; the synchronous one (when hourly crypto bars are given) samples crypto at the "
            "equity close, and the lag-adjusted one adds the one-session leads and lags that "
            "non-synchronous closes spread the co-movement over."
        ),
        "lead_lag": (
            f"Correlation of {crypto} today with {equity} that many sessions later (negative "
            f"lags: {equity} first); bars beyond the dashed ±1.96/√n lines (n = {n}) would be "
            "significant for a single lag, before correcting for having scanned many."
        ),
        "beta": (
            f"How many percent {crypto} has typically moved per 1% move of {equity} over each "
            "window; above 1 the crypto amplifies the index."
        ),
        "rsi": (
            "RSI(14) of each asset on its own bars: above 70 overbought, below 30 oversold, "
            "crossing 50 a change of momentum; triangles mark RSI shifts matched on both assets."
        ),
        "macd": (
            "MACD(12, 26, 9) of each asset: the histogram is the MACD line minus its signal, so "
            "a change of its sign is a momentum shift; triangles mark shifts matched on both."
        ),
        "relative_volume": (
            "Each asset's volume divided by its recent average: above 1 means more trading than "
            "usual, which lends weight to a move."
        ),
    }


def _lead_lag_words(analysis: Analysis, crypto: str, equity: str) -> dict[str, str]:
    best = analysis.lead_lag_best
    lags = len(analysis.lead_lag)
    if best.best_lag > 0:
        leader = f"{crypto} leads {equity} by {_sessions(best.best_lag)}"
    elif best.best_lag < 0:
        leader = f"{equity} leads {crypto} by {_sessions(-best.best_lag)}"
    else:
        leader = "neither leads: the strongest link is within the same session"
    if best.significant:
        verdict = f"significant after the Bonferroni correction for {lags} lags scanned"
    else:
        verdict = (
            f"not significant after the Bonferroni correction for {lags} lags scanned, "
            "so treat any lead as noise"
        )
    return {
        "best_lag": f"{best.best_lag:+d}" if best.best_lag else "0",
        "corr": _fmt(best.corr),
        "lag0_corr": _fmt(best.lag0_corr),
        "n": str(best.n),
        "p_value": _p(best.p_value),
        "p_adjusted": _p(best.p_adjusted),
        "significant": "yes" if best.significant else "no",
        "leader": leader,
        "verdict": verdict,
        "lags": str(lags),
    }


def _shift_rows(analysis: Analysis) -> list[dict[str, str]]:
    newest_first = analysis.shifts.iloc[::-1].head(SHIFT_ROWS)
    return [
        {
            "date": _day(row["date"]),
            "indicator": INDICATOR_WORDS.get(str(row["indicator"]), str(row["indicator"])),
            "direction": str(row["direction"]),
            "gap": _sessions(int(row["gap"])),
        }
        for _, row in newest_first.iterrows()
    ]


def _value(value: float) -> str:
    if math.isnan(value):
        return "no data"
    return f"{value:+.3f}" if abs(value) < 10 else f"{value:.1f}"


def _pct(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:+.1%}"


def _maybe_day(value: object) -> str:
    return "—" if value is None else _day(value)


def _signal_context(analysis: Analysis) -> dict[str, Any]:
    signals = analysis.signals
    if signals.columns.empty:
        return {"signal_checks": [], "signal_history": [], "signals_present": False}
    checks = [
        {
            "name": check.name,
            "label": check.label,
            "state": check.state,
            "state_class": STATE_CLASSES.get(check.state, "no"),
            "summary": check.summary,
            "conditions": [
                {
                    "label": c.label,
                    "required": c.required,
                    "value": _value(c.value),
                    "threshold": c.threshold_text,
                    "mark": c.mark,
                    "status": c.status,
                    "status_class": MARK_CLASSES[c.status],
                    "since": _maybe_day(c.since),
                }
                for c in check.conditions
            ],
        }
        for check in signals.checklist()
    ]
    history = signals.history.iloc[::-1].head(HISTORY_ROWS)
    return {
        "signals_present": True,
        "signal_checks": checks,
        "signal_history": [
            {
                "date": _day(row["date"]),
                "signal": str(row["signal"]).replace("_", " "),
                "from": str(row["from"]),
                "to": str(row["to"]),
            }
            for _, row in history.iterrows()
        ],
        "history_limit": HISTORY_ROWS,
        "min_duration": _sessions(signals.config.min_duration),
    }


def _evaluation_context(analysis: Analysis) -> dict[str, Any]:
    context: dict[str, Any] = {"event_rows": [], "metric_rows": [], "backtest_present": False}
    if not analysis.event_study.empty:
        context["event_rows"] = [
            {
                "signal": str(row["signal"]).replace("_", " "),
                "horizon": _sessions(int(row["horizon"])),
                "events": str(int(row["events"])),
                "independent": str(int(row["independent_events"])),
                "after": _pct(float(row["mean_after"])),
                "interval": f"[{_pct(float(row['ci_low']))}, {_pct(float(row['ci_high']))}]",
                "all": _pct(float(row["mean_all"])),
                "excess": _pct(float(row["excess"])),
                "excess_interval": (
                    f"[{_pct(float(row['excess_ci_low']))}, {_pct(float(row['excess_ci_high']))}]"
                ),
                "evidence": str(row["evidence"]),
                "weak": "weak evidence" in str(row["evidence"])
                or "includes zero" in str(row["evidence"]),
            }
            for _, row in analysis.event_study.iterrows()
        ]
    result = analysis.backtest
    if result.start is not None:
        names = {
            "strategy": "Stance overlay",
            "buy_and_hold": "Buy-and-hold",
            "always_neutral": "Constant 0.5 exposure",
        }
        context.update(
            backtest_present=True,
            backtest_start=_day(result.start),
            backtest_end=_day(result.end),
            cost_bps=f"{result.cost_bps:g}",
            backtest_notes=list(result.notes),
            metric_rows=[
                {
                    "name": names.get(str(name), str(name)),
                    "total": _pct(float(row["total_return"])),
                    "cagr": _pct(float(row["cagr"])),
                    "volatility": _pct(float(row["volatility"])).lstrip("+"),
                    "sharpe": _fmt(float(row["sharpe"]), ".2f"),
                    "drawdown": _pct(float(row["max_drawdown"])),
                    "turnover": _fmt(float(row["turnover_per_year"]), ".1f"),
                    "in_market": _fmt(float(row["time_in_market"]) * 100, ".0f") + "%",
                }
                for name, row in result.metrics.iterrows()
            ],
        )
    return context


def _claims_context(analysis: Analysis) -> dict[str, Any]:
    claims = analysis.claims
    liquidity = "above_liquidity_positive" in claims.summary
    rows = []
    for _, row in claims.summary.iterrows():
        item = {
            "window": _sessions(int(row["window"])),
            "sessions": str(int(row["sessions"])),
            "above": str(int(row["sessions_above"])),
            "share": _fmt(float(row["share_above"]) * 100, ".0f") + "%",
            "episodes": str(int(row["episodes"])),
        }
        if liquidity:
            item["positive"] = str(int(row["above_liquidity_positive"]))
            item["negative"] = str(int(row["above_liquidity_negative"]))
        rows.append(item)
    episodes = claims.episodes.sort_values("start", ascending=False).head(EPISODE_ROWS)
    return {
        "claims_present": True,
        "claims_level": f"{claims.level:g}",
        "claims_words": list(claims.words),
        "claims_rows": rows,
        "claims_liquidity": liquidity,
        "claims_episodes": [
            {
                "window": _sessions(int(row["window"])),
                "start": _day(row["start"]),
                "end": _day(row["end"]),
                "sessions": str(int(row["sessions"])),
                "above": str(int(row["sessions_above"])),
                "peak": _fmt(float(row["peak"])),
                "liquidity": _fmt(float(row["liquidity_mean"])),
            }
            for _, row in episodes.iterrows()
        ],
        "episode_limit": EPISODE_ROWS,
    }


PANEL_CAPTIONS = {
    "signal_timeline": (
        "Top: each signal on (blue) or off (grey) per session; blank where a required "
        "condition lacks data, so the signal cannot be confirmed. Bottom: the stance as ETH "
        "exposure (1 bullish, 0.5 neutral, 0 reduce)."
    ),
    "equity_curve": (
        "Growth of 1 from the first session with a stance: exposure decided at each close and "
        "held from the next session, costs charged on every change of exposure."
    ),
    "liquidity": (
        "Each macro input's contribution to the liquidity score (areas stacked to the score, "
        "positive ones up and negative ones down; "
        "when the score averages its inputs, each area is the input's standardised value over "
        "the number of inputs available that session) and the score (line); above zero, "
        "liquidity is supportive. Inputs count only from the session after they were published."
    ),
    "benchmarks": (
        "The crypto's rolling correlation with each benchmark, and (dotted) its partial "
        "correlation with the first once the second is held fixed: near zero, the first adds "
        "nothing the second does not already explain."
    ),
    "breadth": (
        "Russell 2000 relative to the S&P 500 (rising: small caps lead) and its change over "
        "the risk-off signal's look-back; a negative change is the 'breadth falling' condition."
    ),
}


def _panel_figures(analysis: Analysis) -> dict[str, Figure]:
    return build_signal_figures(
        analysis,
        signals=analysis.signals,
        backtest=analysis.backtest,
        macro=analysis.macro,
        benchmarks=analysis.commentary.benchmarks,
    )


def _estimate_row(estimate: dict[str, Any], span: str) -> dict[str, str]:
    boot = estimate["bootstrap"]
    ratio = estimate["width_ratio"]
    return {
        "label": str(estimate["label"]),
        "span": span,
        "sessions": str(estimate["sessions"]),
        "r": _fmt(_number(estimate["r"])),
        "fisher": f"[{_fmt(_number(estimate['fisher_low']))}, "
        f"{_fmt(_number(estimate['fisher_high']))}]",
        "bootstrap": f"[{_fmt(_number(boot['low']))}, {_fmt(_number(boot['high']))}]",
        "block": _fmt(_number(boot["block"]), ".1f"),
        "ratio": "n/a" if ratio is None else f"{ratio:.2f}",
        "disagree": "yes" if estimate["disagree"] else "",
    }


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _commentary_context(analysis: Analysis) -> dict[str, Any]:
    result = analysis.commentary.to_dict()
    bench = result["benchmarks"]
    rows: list[dict[str, str]] = []
    if bench is not None:
        rows += [_estimate_row(e, "whole span") for e in bench["whole"]]
        for window, estimates in bench["latest"].items():
            rows += [_estimate_row(e, f"latest {window}") for e in estimates]
    for regime in result["regimes"]:
        rows += [_estimate_row(regime[side], "whole history") for side in ("inside", "outside")]
    return {
        "commentary_present": bench is not None or bool(result["regimes"]),
        # The regimes' sentences are the claims check's; here only the benchmarks speak.
        "commentary_words": [
            *(bench["words"] if bench else []),
            analysis.commentary.shift_words(),
            *result["notes"],
        ],
        "commentary_rows": rows,
        "commentary_disagree": any(row["disagree"] for row in rows),
        "commentary_methods": list(result["methods"].values()),
        "commentary_level": f"{result['level'] * 100:g}%",
    }


def _context(
    analysis: Analysis, data_warnings: Sequence[str], generated_at: datetime
) -> dict[str, Any]:
    meta = analysis.meta
    crypto = str(meta.get("crypto_name", "crypto"))
    equity = str(meta.get("equity_name", "equity"))
    reading = analysis.reading
    mode = str(meta.get("mode", "daily"))
    captions = _captions(analysis, crypto, equity)
    figures = build_figures(analysis)
    charts = [_chart(key, figure, captions.get(key, "")) for key, figure in figures.items()]
    panel_figures = _panel_figures(analysis)
    panels = {
        key: _chart(key, figure, PANEL_CAPTIONS.get(key, ""), prefix="panel")
        for key, figure in panel_figures.items()
    }
    drawn = {chart.div: figures[chart.key] for chart in charts}
    drawn.update({panel.div: panel_figures[key] for key, panel in panels.items()})
    notes = meta.get("notes") or []
    verdict = analysis.verdict()
    return {
        "crypto": crypto,
        "equity": equity,
        "verdict": verdict,
        "verdict_classes": {
            s["signal"]: STATE_CLASSES.get(s["state"], "no") for s in verdict["signals"]
        },
        "stance_class": STATE_CLASSES.get(verdict["stance"]["word"], "no"),
        "synthetic": bool(meta.get("synthetic", False)),
        "headline": reading.headline(),
        "as_of": _day(reading.date),
        "windows": [
            {
                "window": _sessions(w.window),
                "corr": _fmt(w.corr),
                "band": f"[{_fmt(w.lo)}, {_fmt(w.hi)}]",
                "beta": _fmt(w.beta, ".2f"),
                "strength": w.strength,
                "certainty": w.certainty,
            }
            for w in reading.windows
        ],
        "momentum": [
            {
                "asset": m.asset,
                "rsi": _fmt(m.rsi, ".1f"),
                "rsi_zone": m.rsi_zone,
                "macd_state": m.macd_state,
            }
            for m in reading.momentum
        ],
        "lead_lag": _lead_lag_words(analysis, crypto, equity),
        "first_date": _day(reading.first_date),
        "last_date": _day(reading.date),
        "sessions": reading.sessions,
        "crypto_source": str(meta.get("crypto_source") or "not recorded"),
        "equity_source": str(meta.get("equity_source") or "not recorded"),
        "mode": mode,
        "calendar": str(meta.get("calendar", "")),
        "mode_sentence": MODE_SENTENCES.get(mode, ""),
        "notes": [str(note) for note in notes],
        "data_warnings": [str(warning) for warning in data_warnings],
        "plotlyjs": Markup(plotly_js()),
        "figures_js": Markup(figures_js()),
        "figure_data": Markup(payload_json(figure_payload(drawn))),
        "charts": charts,
        "shifts": _shift_rows(analysis),
        "shift_within": _sessions(analysis.shift_within),
        "shift_limit": SHIFT_ROWS,
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        "version": version("comove"),
        "panels": panels,
        **_signal_context(analysis),
        **_evaluation_context(analysis),
        **_claims_context(analysis),
        **_commentary_context(analysis),
    }


def render_report(
    analysis: Analysis,
    *,
    data_warnings: Sequence[str] = (),
    generated_at: datetime | None = None,
) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    when = generated_at if generated_at is not None else datetime.now(UTC)
    template = environment().get_template(TEMPLATE)
    return template.render(**_context(analysis, data_warnings, when))


def write_report(
    analysis: Analysis,
    path: str | Path,
    *,
    data_warnings: Sequence[str] = (),
    generated_at: datetime | None = None,
) -> Path:
    """Write the self-contained HTML report of ``analysis`` to ``path``.

    Parameters
    ----------
    analysis
        From :func:`comove.build_analysis` (or :func:`comove.pipeline.run`).
    path
        The file to write; its folder must exist. An existing file is replaced atomically.
    data_warnings
        Messages about the input (e.g. :class:`comove.DataWarning` texts) shown on the page.
    generated_at
        Time stamp for the footer; now (UTC) by default.

    Returns
    -------
    Path
        The resolved path written.

    Raises
    ------
    ConfigError
        The output folder does not exist, or ``path`` is a folder.
    """
    target = Path(path).expanduser()
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(
            f"report folder {folder} does not exist; create it or choose another path"
        )
    if target.is_dir():
        raise ConfigError(f"report path {target} is a folder; give a file name such as report.html")
    html = render_report(analysis, data_warnings=data_warnings, generated_at=generated_at)
    write_text_atomic(target, html)
    return target.resolve()
