"""Plotly figures of an :class:`~comove.pipeline.Analysis`: pure functions, no I/O, no maths.

Every number drawn here comes from the analysis object; this module only chooses how it
looks. :func:`build_figures` returns the figures in the order the report shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from comove.pipeline import Analysis

if TYPE_CHECKING:
    from comove.signals.evaluate import BacktestResult
    from comove.signals.rules import SignalResult

# Shaded where even the lower confidence bound of the middle window clears this level.
STRONG_LEVEL = 0.5
LEAD_LAG_Z = 1.96

CRYPTO_COLOR = "#6d4bd8"
EQUITY_COLOR = "#e07b24"
WINDOW_COLORS = ("#2f6db5", "#1b9e77", "#c2185b", "#8c6d31", "#636363")
VARIANT_COLORS = {"pearson": "#2f6db5", "spearman": "#1b9e77", "ewma": "#c2185b"}
COMPARISON_STYLE = {
    "naive": ("Naive (UTC-date closes)", "#2f6db5"),
    "synchronous": ("Synchronous (crypto at the equity close)", "#1b9e77"),
    "lag_adjusted": ("Lag-adjusted (±1 session)", "#c2185b"),
}
SHORT_LABELS = {"naive": "naive", "synchronous": "synchronous", "lag_adjusted": "lag-adjusted"}
UP_COLOR = "#1a9850"
DOWN_COLOR = "#d73027"
REFERENCE_COLOR = "#7f7f7f"
SHADE_COLOR = "rgba(27, 158, 119, 0.13)"

SINGLE_HEIGHT = 420
DOUBLE_HEIGHT = 520


def _rgba(hex_color: str, alpha: float) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _names(analysis: Analysis) -> tuple[str, str]:
    meta = analysis.meta
    return str(meta.get("crypto_name", "crypto")), str(meta.get("equity_name", "equity"))


def _windows(analysis: Analysis) -> list[int]:
    return [int(w) for w in analysis.meta.get("windows", [])]


def _style(
    fig: go.Figure,
    title: str,
    *,
    height: int = SINGLE_HEIGHT,
    yaxis_title: str | None = None,
    hovermode: str = "x unified",
) -> go.Figure:
    """The house look shared by every figure."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.0, "xanchor": "left", "xref": "paper", "font": {"size": 16}},
        height=height,
        hovermode=hovermode,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "xanchor": "left",
            "x": 0.0,
            "bgcolor": "rgba(255, 255, 255, 0)",
        },
        margin={"l": 60, "r": 20, "t": 96, "b": 48},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    )
    if yaxis_title is not None:
        fig.update_yaxes(title_text=yaxis_title)
    return fig


def _hline(fig: go.Figure, y: float, *, dash: str = "dash", text: str = "", **where: int) -> None:
    fig.add_hline(
        y=y,
        line={"color": REFERENCE_COLOR, "width": 1, "dash": dash},
        annotation_text=text,
        annotation_position="top left" if text else None,
        annotation_font={"size": 10, "color": REFERENCE_COLOR},
        **where,
    )


def _runs(mask: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Spans of consecutive True rows, each running to the next row so one row has width."""
    flags = mask.to_numpy(dtype=bool)
    index = mask.index
    spans: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    start: int | None = None
    for i, flag in enumerate(flags):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            spans.append((pd.Timestamp(index[start]), pd.Timestamp(index[i])))
            start = None
    if start is not None:
        spans.append((pd.Timestamp(index[start]), pd.Timestamp(index[-1])))
    return spans


def overlay_figure(analysis: Analysis) -> go.Figure:
    """Both assets rebased to 100 on the first session."""
    table = analysis.table
    crypto, equity = _names(analysis)
    fig = go.Figure()
    for column, name, color in (
        ("crypto_norm", crypto, CRYPTO_COLOR),
        ("equity_norm", equity, EQUITY_COLOR),
    ):
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[column],
                name=name,
                mode="lines",
                line={"color": color, "width": 1.8},
                hovertemplate="%{y:.1f}",
            )
        )
    _hline(fig, 100.0, dash="dot")
    return _style(
        fig, f"{crypto} vs {equity}, rebased to 100", yaxis_title="Rebased (first session = 100)"
    )


def correlation_figure(analysis: Analysis) -> go.Figure:
    """Rolling Pearson correlation per window with its 95% Fisher band."""
    table = analysis.table
    fig = go.Figure()
    for i, w in enumerate(_windows(analysis)):
        color = WINDOW_COLORS[i % len(WINDOW_COLORS)]
        group = f"corr_{w}"
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[f"corr_{w}_lo"],
                name=f"{w}-session band low",
                mode="lines",
                line={"width": 0, "color": color},
                legendgroup=group,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[f"corr_{w}_hi"],
                name=f"{w}-session 95% band",
                mode="lines",
                line={"width": 0, "color": color},
                fill="tonexty",
                fillcolor=_rgba(color, 0.15 if w == analysis.comparison_window else 0.07),
                legendgroup=group,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[f"corr_{w}"],
                customdata=np.column_stack(
                    [table[f"corr_{w}_lo"].to_numpy(), table[f"corr_{w}_hi"].to_numpy()]
                ),
                name=f"{w}-session",
                mode="lines",
                line={"color": color, "width": 1.8},
                legendgroup=group,
                hovertemplate="%{y:+.2f} [%{customdata[0]:+.2f}, %{customdata[1]:+.2f}]",
            )
        )
    main = analysis.comparison_window
    lower = f"corr_{main}_lo"
    spans = _runs(table[lower] > STRONG_LEVEL) if lower in table else []
    for start, end in spans:
        fig.add_vrect(x0=start, x1=end, fillcolor=SHADE_COLOR, line_width=0, layer="below")
    if spans:
        # A legend entry for the shading, which shapes alone do not get.
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 12, "color": SHADE_COLOR},
                name=f"{main}-session lower band > {STRONG_LEVEL}",
                hoverinfo="skip",
            )
        )
    _hline(fig, STRONG_LEVEL, text=f"{STRONG_LEVEL}")
    _hline(fig, 0.0)
    fig.update_yaxes(range=[-1.0, 1.0])
    return _style(
        fig,
        "Rolling correlation of daily returns, with 95% bands",
        yaxis_title="Pearson correlation",
    )


def correlation_variants_figure(analysis: Analysis) -> go.Figure:
    """Pearson, Spearman and EWMA correlation for the middle window."""
    table = analysis.table
    w = analysis.comparison_window
    series = [
        (f"Pearson ({w} sessions)", table[f"corr_{w}"], VARIANT_COLORS["pearson"]),
    ]
    if w in analysis.spearman:
        series.append(
            (f"Spearman ({w} sessions)", analysis.spearman[w], VARIANT_COLORS["spearman"])
        )
    series.append((f"EWMA (λ = {analysis.ewma_lambda:g})", analysis.ewma, VARIANT_COLORS["ewma"]))
    fig = go.Figure()
    for name, values, color in series:
        fig.add_trace(
            go.Scatter(
                x=values.index,
                y=values,
                name=name,
                mode="lines",
                line={"color": color, "width": 1.6},
                hovertemplate="%{y:+.2f}",
            )
        )
    _hline(fig, 0.0)
    fig.update_yaxes(range=[-1.0, 1.0])
    return _style(fig, f"Correlation variants ({w}-session window)", yaxis_title="Correlation")


def synchronicity_figure(analysis: Analysis) -> go.Figure:
    """Naive vs synchronous vs lag-adjusted correlation, as computed in the comparison."""
    comparison = analysis.comparison
    fig = go.Figure()
    for column in comparison.columns:
        name, color = COMPARISON_STYLE.get(str(column), (str(column), REFERENCE_COLOR))
        fig.add_trace(
            go.Scatter(
                x=comparison.index,
                y=comparison[column],
                name=name,
                mode="lines",
                line={"color": color, "width": 1.6},
                hovertemplate="%{y:+.2f}",
            )
        )
    _hline(fig, 0.0)
    words = [SHORT_LABELS.get(str(c), str(c)) for c in comparison.columns]
    title = " vs ".join(words).capitalize() if words else "Correlation"
    return _style(
        fig,
        f"{title} correlation ({analysis.comparison_window} sessions)",
        yaxis_title="Correlation",
    )


def lead_lag_figure(analysis: Analysis) -> go.Figure:
    """Cross-correlation by lag with the best lag highlighted and ±1.96/√n lines."""
    crypto, equity = _names(analysis)
    ccf = analysis.lead_lag
    best = analysis.lead_lag_best
    lags = ccf.index.to_numpy()
    is_best = lags == best.best_lag
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=lags[~is_best],
            y=ccf.to_numpy()[~is_best],
            name="Cross-correlation",
            marker={"color": _rgba(WINDOW_COLORS[0], 0.55)},
            hovertemplate="lag %{x:+d}: %{y:+.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=lags[is_best],
            y=ccf.to_numpy()[is_best],
            name=f"Best lag ({best.best_lag:+d})",
            marker={"color": WINDOW_COLORS[2]},
            hovertemplate="best lag %{x:+d}: %{y:+.3f}<extra></extra>",
        )
    )
    if best.n > 0:
        limit = LEAD_LAG_Z / float(np.sqrt(best.n))
        _hline(fig, limit, text=f"±1.96/√n (n = {best.n})")
        _hline(fig, -limit)
    _hline(fig, 0.0, dash="solid")
    fig.update_layout(barmode="overlay", bargap=0.25)
    fig.update_xaxes(
        title_text=(
            f"Lag in sessions (positive lag = crypto leads: {crypto} today vs {equity} "
            "that many sessions later)"
        ),
        dtick=1 if len(lags) <= 25 else None,
        zeroline=False,
    )
    return _style(
        fig,
        f"Lead-lag: which moves first ({crypto} vs {equity})",
        yaxis_title="Correlation",
        hovermode="closest",
    )


def beta_figure(analysis: Analysis) -> go.Figure:
    """Rolling beta of crypto returns on equity returns per window."""
    table = analysis.table
    crypto, equity = _names(analysis)
    fig = go.Figure()
    for i, w in enumerate(_windows(analysis)):
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[f"beta_{w}"],
                name=f"{w}-session",
                mode="lines",
                line={"color": WINDOW_COLORS[i % len(WINDOW_COLORS)], "width": 1.6},
                hovertemplate="%{y:.2f}",
            )
        )
    _hline(fig, 1.0, dash="dot", text="β = 1")
    _hline(fig, 0.0)
    return _style(fig, f"Rolling beta of {crypto} on {equity}", yaxis_title="Beta")


def _shift_markers(
    fig: go.Figure,
    analysis: Analysis,
    indicator: str,
    column: Callable[[str], str],
) -> None:
    """Small triangles on both rows where a momentum shift matched on both assets."""
    shifts = analysis.shifts
    if shifts.empty:
        return
    chosen = shifts[shifts["indicator"] == indicator]
    for direction, symbol, color in (
        ("up", "triangle-up", UP_COLOR),
        ("down", "triangle-down", DOWN_COLOR),
    ):
        dates = pd.DatetimeIndex(chosen.loc[chosen["direction"] == direction, "date"])
        if dates.empty:
            continue
        for row, label in ((1, "crypto"), (2, "equity")):
            fig.add_trace(
                go.Scatter(
                    x=dates,
                    y=analysis.table[column(label)].reindex(dates),
                    mode="markers",
                    marker={"symbol": symbol, "size": 9, "color": color},
                    name=f"Matched shift {direction}",
                    legendgroup=f"shift_{direction}",
                    showlegend=row == 1,
                    hovertemplate=f"matched {indicator.upper()} shift {direction}<extra></extra>",
                ),
                row=row,
                col=1,
            )


def rsi_figure(analysis: Analysis) -> go.Figure:
    """RSI of each asset, crypto above equity, with 30/50/70 reference lines."""
    table = analysis.table
    names = _names(analysis)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.07)
    for row, (label, name, color) in enumerate(
        zip(("crypto", "equity"), names, (CRYPTO_COLOR, EQUITY_COLOR), strict=True), start=1
    ):
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[f"rsi_{label}"],
                name=f"{name} RSI",
                mode="lines",
                line={"color": color, "width": 1.5},
                hovertemplate="%{y:.1f}",
            ),
            row=row,
            col=1,
        )
        for level, dash in ((70.0, "dash"), (50.0, "dot"), (30.0, "dash")):
            _hline(fig, level, dash=dash, row=row, col=1)
        fig.update_yaxes(title_text=f"{name} RSI", range=[0, 100], tickvals=[30, 50, 70], row=row)
    _shift_markers(fig, analysis, "rsi", lambda label: f"rsi_{label}")
    return _style(fig, "Momentum: RSI (30 / 50 / 70)", height=DOUBLE_HEIGHT)


def macd_figure(analysis: Analysis) -> go.Figure:
    """MACD line, signal line and histogram of each asset, crypto above equity."""
    table = analysis.table
    names = _names(analysis)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.07)
    for row, (label, name, color) in enumerate(
        zip(("crypto", "equity"), names, (CRYPTO_COLOR, EQUITY_COLOR), strict=True), start=1
    ):
        hist = table[f"macd_hist_{label}"]
        fig.add_trace(
            go.Bar(
                x=table.index,
                y=hist,
                name="Histogram",
                marker={"color": np.where(hist.to_numpy() >= 0, UP_COLOR, DOWN_COLOR)},
                opacity=0.5,
                legendgroup="hist",
                showlegend=row == 1,
                hovertemplate="%{y:.2f}",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[f"macd_{label}"],
                name=f"{name} MACD",
                mode="lines",
                line={"color": color, "width": 1.5},
                hovertemplate="%{y:.2f}",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=table.index,
                y=table[f"macd_signal_{label}"],
                name="Signal",
                mode="lines",
                line={"color": "#444444", "width": 1.1, "dash": "dot"},
                legendgroup="signal",
                showlegend=row == 1,
                hovertemplate="%{y:.2f}",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text=f"{name} MACD", row=row)
    fig.update_layout(bargap=0.0)
    _shift_markers(fig, analysis, "macd", lambda label: f"macd_{label}")
    return _style(fig, "Momentum: MACD (12, 26, 9)", height=DOUBLE_HEIGHT)


def relative_volume_figure(analysis: Analysis) -> go.Figure:
    """Volume relative to its recent average; a note instead when there is no volume."""
    table = analysis.table
    fig = go.Figure()
    for label, name, color in zip(
        ("crypto", "equity"), _names(analysis), (CRYPTO_COLOR, EQUITY_COLOR), strict=True
    ):
        values = table[f"relvol_{label}"]
        if values.notna().any():
            fig.add_trace(
                go.Scatter(
                    x=table.index,
                    y=values,
                    name=name,
                    mode="lines",
                    line={"color": color, "width": 1.3},
                    hovertemplate="%{y:.2f}×",
                )
            )
    if not fig.data:
        fig.add_annotation(
            text="no volume data",
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"size": 16, "color": REFERENCE_COLOR},
        )
        fig.update_xaxes(showgrid=False, showticklabels=False, zeroline=False)
        fig.update_yaxes(showgrid=False, showticklabels=False, zeroline=False)
    _hline(fig, 1.0)
    return _style(fig, "Relative volume (× its recent average)", yaxis_title="Relative volume")


FIGURES: dict[str, Callable[[Analysis], go.Figure]] = {
    "overlay": overlay_figure,
    "correlation": correlation_figure,
    "correlation_variants": correlation_variants_figure,
    "synchronicity": synchronicity_figure,
    "lead_lag": lead_lag_figure,
    "beta": beta_figure,
    "rsi": rsi_figure,
    "macd": macd_figure,
    "relative_volume": relative_volume_figure,
}
"""Figure builders in display order."""


def build_figures(analysis: Analysis) -> dict[str, go.Figure]:
    """Build the report's figures, keyed and ordered as :data:`FIGURES`."""
    return {key: build(analysis) for key, build in FIGURES.items()}


# --- Signals, evaluation, macro: drawn only when the analysis carries them -------------------

SIGNAL_ROWS = (
    ("signal_decoupling", "Decoupling"),
    ("signal_risk_off_alignment", "Risk-off alignment"),
    ("signal_synchronized_breakout", "Synchronized breakout"),
)
OFF_COLOR = "#d0d7de"
ON_COLOR = "#2f6db5"
STANCE_COLOR = "#1b9e77"
CONTRIB_COLORS = ("#2f6db5", "#1b9e77", "#c2185b", "#8c6d31", "#636363", "#e07b24", "#6d4bd8")


def signal_timeline_figure(signals: SignalResult) -> go.Figure:
    """Each signal's state per session (on / off; blank where it cannot be confirmed) and the stance."""
    columns = signals.columns
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.55, 0.45]
    )
    z = np.vstack([columns[c].to_numpy(dtype="float64") for c, _ in SIGNAL_ROWS])
    words = np.where(np.isnan(z), "cannot be confirmed", np.where(z == 1.0, "on", "off"))
    fig.add_trace(
        go.Heatmap(
            x=columns.index,
            y=[label for _, label in SIGNAL_ROWS],
            z=z,
            text=words,
            zmin=0.0,
            zmax=1.0,
            colorscale=[[0.0, OFF_COLOR], [0.5, OFF_COLOR], [0.5, ON_COLOR], [1.0, ON_COLOR]],
            showscale=False,
            name="Signal state",
            hovertemplate="%{y}: %{text}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=columns.index,
            y=columns["stance"],
            name="Stance (ETH exposure)",
            mode="lines",
            line={"color": STANCE_COLOR, "width": 1.8, "shape": "hv"},
            hovertemplate="exposure %{y:.1f}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(
        title_text="Exposure",
        range=[-0.1, 1.1],
        tickvals=[0.0, 0.5, 1.0],
        ticktext=["reduce", "neutral", "bullish"],
        row=2,
        col=1,
    )
    return _style(fig, "Signal states and stance over time", height=DOUBLE_HEIGHT)


def log_ticks(low: float, high: float) -> list[float]:
    """Labelled ticks for a log axis: 1-2-5 steps spanning ``low..high`` (never bare digits)."""
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high <= 0:
        return []
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    steps = (1.0, 2.0, 5.0) if last - first <= 3 else (1.0,)
    ticks = [m * 10.0**k for k in range(first, last + 1) for m in steps]
    inside = [v for v in ticks if low / 1.5 <= v <= high * 1.5]
    return [float(f"{v:.6g}") for v in inside]


def equity_curve_figure(result: BacktestResult, crypto: str = "ETH") -> go.Figure:
    """Growth of 1 for the stance overlay and for buy-and-hold, on a log scale."""
    fig = go.Figure()
    for column, name, color in (
        ("strategy", "Stance overlay", STANCE_COLOR),
        ("buy_and_hold", f"Buy-and-hold {crypto}", CRYPTO_COLOR),
        ("always_neutral", "Constant 0.5 exposure", REFERENCE_COLOR),
    ):
        if column in result.equity:
            fig.add_trace(
                go.Scatter(
                    x=result.equity.index,
                    y=result.equity[column],
                    name=name,
                    mode="lines",
                    line={"color": color, "width": 1.6},
                    hovertemplate="%{y:.2f}",
                )
            )
    _hline(fig, 1.0, dash="dot")
    values = result.equity.to_numpy(dtype="float64")
    ticks = log_ticks(float(np.nanmin(values)), float(np.nanmax(values)))
    fig.update_yaxes(type="log", tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    return _style(
        fig,
        f"Equity curve: stance overlay vs buy-and-hold {crypto} "
        f"(cost {result.cost_bps:g} bps per unit of turnover)",
        yaxis_title="Growth of 1 (log scale)",
    )


def liquidity_figure(macro: pd.DataFrame) -> go.Figure:
    """Each input's contribution to the liquidity score (stacked bars) and the score itself."""
    fig = go.Figure()
    contributions = [c for c in macro.columns if str(c).startswith("contrib_")]
    parts = macro[contributions].astype("float64")
    if contributions and "liquidity_score" in macro:
        # A score that is the mean of the available inputs: draw each input's share of it
        # (value / inputs available that session) so the bars stack exactly to the score.
        count = parts.notna().sum(axis=1)
        shares = parts.div(count.where(count > 0), axis=0)
        score = macro["liquidity_score"].astype("float64")
        known = score.notna() & (count > 0)
        if known.any() and np.allclose(shares[known].sum(axis=1), score[known], atol=1e-9):
            parts = shares
    for i, column in enumerate(contributions):
        fig.add_trace(
            go.Bar(
                x=macro.index,
                y=parts[column],
                name=str(column).removeprefix("contrib_").replace("_", " "),
                marker={"color": CONTRIB_COLORS[i % len(CONTRIB_COLORS)], "line": {"width": 0}},
                hovertemplate="%{y:+.2f}",
            )
        )
    if "liquidity_score" in macro:
        fig.add_trace(
            go.Scatter(
                x=macro.index,
                y=macro["liquidity_score"],
                name="Liquidity score",
                mode="lines",
                line={"color": "#000000", "width": 1.6},
                hovertemplate="%{y:+.2f}",
            )
        )
    _hline(fig, 0.0)
    fig.update_layout(barmode="relative", bargap=0.0)
    return _style(
        fig, "Macro liquidity: score and each input's contribution", yaxis_title="Contribution"
    )


def breadth_figure(table: pd.DataFrame, signals: SignalResult | None = None) -> go.Figure:
    """Small-cap breadth (Russell 2000 relative to the S&P 500) and its recent change."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    fig.add_trace(
        go.Scatter(
            x=table.index,
            y=table["breadth"],
            name="Breadth",
            mode="lines",
            line={"color": EQUITY_COLOR, "width": 1.6},
            hovertemplate="%{y:.3f}",
        ),
        row=1,
        col=1,
    )
    fig.update_yaxes(title_text="Breadth", row=1, col=1)
    change_column = "risk_off_alignment.breadth_falling"
    if signals is not None and change_column in signals.values:
        change = signals.values[change_column]
        lookback = signals.config.breadth_lookback
        fig.add_trace(
            go.Bar(
                x=change.index,
                y=change,
                name=f"{lookback}-session change",
                marker={"color": np.where(change.to_numpy() >= 0, UP_COLOR, DOWN_COLOR)},
                hovertemplate="%{y:+.3f}",
            ),
            row=2,
            col=1,
        )
        fig.update_yaxes(title_text=f"{lookback}-session change", row=2, col=1)
        fig.update_layout(bargap=0.0)
    return _style(fig, "Small-cap breadth (Russell 2000 / S&P 500)", height=DOUBLE_HEIGHT)


def build_signal_figures(
    analysis: Analysis,
    *,
    signals: SignalResult | None = None,
    backtest: BacktestResult | None = None,
    macro: pd.DataFrame | None = None,
) -> dict[str, go.Figure]:
    """The figures of the signal, evaluation, macro and breadth sections that have data."""
    crypto, _ = _names(analysis)
    figures: dict[str, go.Figure] = {}
    if signals is not None and len(signals.columns):
        figures["signal_timeline"] = signal_timeline_figure(signals)
    if backtest is not None and len(backtest.equity):
        figures["equity_curve"] = equity_curve_figure(backtest, crypto)
    if macro is not None:
        drawn = [
            c for c in macro.columns if c == "liquidity_score" or str(c).startswith("contrib_")
        ]
        if drawn and macro[drawn].notna().any().any():
            figures["liquidity"] = liquidity_figure(macro)
    table = analysis.table
    if "breadth" in table and table["breadth"].notna().any():
        figures["breadth"] = breadth_figure(table, signals)
    return figures


def displayed(key: str, figure: go.Figure) -> tuple[str, dict[str, Any]]:
    """A figure's title and its plotly dict without the title (pages show it as a heading:
    it wraps on a phone, where a plotly title would run into a wrapped legend)."""
    title = str(figure.layout.title.text or key.replace("_", " ").capitalize())
    shown = figure.to_dict()
    shown["layout"]["title"] = {"text": ""}
    shown["layout"].setdefault("margin", {})["t"] = 36
    return title, shown


def all_figures(analysis: Analysis) -> list[tuple[str, str, str]]:
    """Every figure of an analysis as ``(key, title, plotly JSON)``, in display order."""
    import plotly.io as pio

    figures = build_figures(analysis)
    figures.update(
        build_signal_figures(
            analysis, signals=analysis.signals, backtest=analysis.backtest, macro=analysis.macro
        )
    )
    out = []
    for key, figure in figures.items():
        title, shown = displayed(key, figure)
        out.append((key, title, pio.to_json(shown, validate=False)))
    return out
