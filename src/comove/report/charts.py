"""Plotly figures of an :class:`~comove.pipeline.Analysis`: pure functions, no I/O, no maths.

Every number drawn here comes from the analysis object; this module only chooses how it
looks. A figure is Plotly's own JSON structure as plain dicts (``{"data": [...],
"layout": {...}}``) holding NumPy arrays: built without ``plotly.graph_objects``, whose
validation cost seconds per report. :mod:`comove.report.payload` turns figures into the
compact page payload. :func:`build_figures` returns the figures in the order the report
shows them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from comove.pipeline import Analysis

if TYPE_CHECKING:
    from comove.analytics.comparison import BenchmarkComparison
    from comove.signals.evaluate import BacktestResult
    from comove.signals.rules import SignalResult

Figure = dict[str, Any]

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

MARGIN_LEFT = 78
#: Top margin of a chart whose title is a page heading: one row of legend.
LEGEND_TOP = 52

SINGLE_HEIGHT = 420
DOUBLE_HEIGHT = 520


# plotly.js's official "cartesian" partial bundle (scatter, bar, heatmap and the other
# cartesian traces: all these figures use), vendored with its MIT licence: a third of the
# full bundle, so reports and the dashboard parse it in a third of the time.
PLOTLY_JS_VERSION = "4.1.1"
PLOTLY_JS_FILE = "plotly-cartesian.min.js"


def static_file(name: str) -> Path:
    """A file of ``comove/report/static`` (plotly.js, its template, ``figures.js``)."""
    return Path(str(resources.files("comove.report") / "static" / name))


@cache
def plotly_js() -> str:
    """The vendored plotly.js, read once per process."""
    return static_file(PLOTLY_JS_FILE).read_text(encoding="utf-8")


@cache
def template() -> dict[str, Any]:
    """Plotly's ``plotly_white`` template (one shared dict: never modify it)."""
    return dict(json.loads(static_file("plotly_white.json").read_text(encoding="utf-8")))


def _rgba(hex_color: str, alpha: float) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _names(analysis: Analysis) -> tuple[str, str]:
    meta = analysis.meta
    return str(meta.get("crypto_name", "crypto")), str(meta.get("equity_name", "equity"))


def _windows(analysis: Analysis) -> list[int]:
    return [int(w) for w in analysis.meta.get("windows", [])]


def _dates(index: pd.Index) -> np.ndarray:
    return pd.DatetimeIndex(index).to_numpy(dtype="datetime64[ns]")


def _values(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype="float64")


def _axis(row: int, name: str) -> str:
    return name if row == 1 else f"{name}{row}"


def _figure(rows: int = 1, *, spacing: float = 0.07, heights: list[float] | None = None) -> Figure:
    """An empty figure; ``rows`` > 1 stacks subplots sharing the x axis (as make_subplots)."""
    layout: dict[str, Any] = {"shapes": [], "annotations": []}
    if rows > 1:
        shares = heights or [1.0 / rows] * rows
        usable = 1.0 - spacing * (rows - 1)
        top = 1.0
        for row in range(1, rows + 1):
            bottom = max(0.0, top - usable * shares[row - 1])
            x, y = _axis(row, "xaxis"), _axis(row, "yaxis")
            layout[x] = {"anchor": _axis(row, "y"), "domain": [0.0, 1.0]}
            if row < rows:
                layout[x].update(matches=_axis(rows, "x"), showticklabels=False)
            layout[y] = {"anchor": _axis(row, "x"), "domain": [round(bottom, 6), round(top, 6)]}
            top = bottom - spacing
    return {"data": [], "layout": layout}


def _add(fig: Figure, trace: dict[str, Any], row: int = 1) -> None:
    if row > 1:
        trace = {**trace, "xaxis": _axis(row, "x"), "yaxis": _axis(row, "y")}
    fig["data"].append(trace)


def _axis_update(fig: Figure, name: str, row: int = 1, **settings: Any) -> None:
    fig["layout"].setdefault(_axis(row, name), {}).update(settings)


def _line(
    x: Any, y: Any, name: str, color: str, width: float, hover: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "name": name,
        "mode": "lines",
        "line": {"color": color, "width": width, **extra.pop("line", {})},
        "hovertemplate": hover,
        **extra,
    }


def _style(
    fig: Figure,
    title: str,
    *,
    height: int = SINGLE_HEIGHT,
    yaxis_title: str | None = None,
    hovermode: str = "x unified",
    margin: dict[str, int] | None = None,
) -> Figure:
    """The house look shared by every figure; ``margin`` overrides sides of the default."""
    fig["layout"].update(
        template=template(),
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
        # Room for the tick labels and axis titles as drawn: when plotly's automargin has
        # to widen a margin it draws the chart a second time (a third of a page's draw).
        margin={"l": MARGIN_LEFT, "r": 20, "t": 96, "b": 48, **(margin or {})},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    )
    if yaxis_title is not None:
        for key in [k for k in fig["layout"] if k.startswith("yaxis")] or ["yaxis"]:
            _axis_update(fig, key, title={"text": yaxis_title})
    return fig


def _hline(fig: Figure, y: float, *, dash: str = "dash", text: str = "", row: int = 1) -> None:
    """A horizontal reference line across the plot (as plotly's ``add_hline``)."""
    xref, yref = f"{_axis(row, 'x')} domain", _axis(row, "y")
    fig["layout"]["shapes"].append(
        {
            "type": "line",
            "xref": xref,
            "x0": 0,
            "x1": 1,
            "yref": yref,
            "y0": y,
            "y1": y,
            "line": {"color": REFERENCE_COLOR, "width": 1, "dash": dash},
        }
    )
    if text:
        fig["layout"]["annotations"].append(
            {
                "text": text,
                "xref": xref,
                "x": 0,
                "xanchor": "left",
                "yref": yref,
                "y": y,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 10, "color": REFERENCE_COLOR},
            }
        )


def _vrect(fig: Figure, start: pd.Timestamp, end: pd.Timestamp, color: str) -> None:
    fig["layout"]["shapes"].append(
        {
            "type": "rect",
            "xref": "x",
            "x0": start.strftime("%Y-%m-%d"),
            "x1": end.strftime("%Y-%m-%d"),
            "yref": "y domain",
            "y0": 0,
            "y1": 1,
            "fillcolor": color,
            "line": {"width": 0},
            "layer": "below",
        }
    )


def _runs(mask: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Spans of consecutive True rows, each running to the next row so one row has width."""
    flags = np.concatenate(([False], mask.to_numpy(dtype=bool), [False]))
    edges = np.flatnonzero(np.diff(flags.astype(np.int8)))
    index = mask.index
    last = len(index) - 1
    return [
        (pd.Timestamp(index[start]), pd.Timestamp(index[min(stop, last)]))
        for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)
    ]


def overlay_figure(analysis: Analysis) -> Figure:
    """Both assets rebased to 100 on the first session."""
    table = analysis.table
    crypto, equity = _names(analysis)
    x = _dates(table.index)
    fig = _figure()
    for column, name, color in (
        ("crypto_norm", crypto, CRYPTO_COLOR),
        ("equity_norm", equity, EQUITY_COLOR),
    ):
        _add(fig, _line(x, _values(table[column]), name, color, 1.8, "%{y:.1f}"))
    _hline(fig, 100.0, dash="dot")
    return _style(
        fig, f"{crypto} vs {equity}, rebased to 100", yaxis_title="Rebased (first session = 100)"
    )


def correlation_figure(analysis: Analysis) -> Figure:
    """Rolling Pearson correlation per window with its 95% Fisher band."""
    table = analysis.table
    x = _dates(table.index)
    fig = _figure()
    for i, w in enumerate(_windows(analysis)):
        color = WINDOW_COLORS[i % len(WINDOW_COLORS)]
        group = f"corr_{w}"
        lo, hi = _values(table[f"corr_{w}_lo"]), _values(table[f"corr_{w}_hi"])
        band = {"legendgroup": group, "showlegend": False, "hoverinfo": "skip"}
        _add(fig, _line(x, lo, f"{w}-session band low", color, 0, "", **band))
        fill = _rgba(color, 0.15 if w == analysis.comparison_window else 0.07)
        _add(
            fig,
            _line(
                x, hi, f"{w}-session 95% band", color, 0, "", fill="tonexty", fillcolor=fill, **band
            ),
        )
        _add(
            fig,
            _line(
                x,
                _values(table[f"corr_{w}"]),
                f"{w}-session",
                color,
                1.8,
                "%{y:+.2f} [%{customdata[0]:+.2f}, %{customdata[1]:+.2f}]",
                customdata=np.column_stack([lo, hi]),
                legendgroup=group,
            ),
        )
    main = analysis.comparison_window
    lower = f"corr_{main}_lo"
    spans = _runs(table[lower] > STRONG_LEVEL) if lower in table else []
    for start, end in spans:
        _vrect(fig, start, end, SHADE_COLOR)
    if spans:
        # A legend entry for the shading, which shapes alone do not get.
        _add(
            fig,
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "marker": {"symbol": "square", "size": 12, "color": SHADE_COLOR},
                "name": f"{main}-session lower band > {STRONG_LEVEL}",
                "hoverinfo": "skip",
            },
        )
    _hline(fig, STRONG_LEVEL, text=f"{STRONG_LEVEL}")
    _hline(fig, 0.0)
    _axis_update(fig, "yaxis", range=[-1.0, 1.0])
    return _style(
        fig,
        "Rolling correlation of daily returns, with 95% bands",
        yaxis_title="Pearson correlation",
    )


def correlation_variants_figure(analysis: Analysis) -> Figure:
    """Pearson, Spearman and EWMA correlation for the middle window."""
    table = analysis.table
    w = analysis.comparison_window
    series = [(f"Pearson ({w} sessions)", table[f"corr_{w}"], VARIANT_COLORS["pearson"])]
    if w in analysis.table.attrs["windows"]:
        series.append(
            (f"Spearman ({w} sessions)", analysis.spearman_at(w), VARIANT_COLORS["spearman"])
        )
    series.append((f"EWMA (λ = {analysis.ewma_lambda:g})", analysis.ewma, VARIANT_COLORS["ewma"]))
    fig = _figure()
    for name, values, color in series:
        _add(fig, _line(_dates(values.index), _values(values), name, color, 1.6, "%{y:+.2f}"))
    _hline(fig, 0.0)
    _axis_update(fig, "yaxis", range=[-1.0, 1.0])
    return _style(fig, f"Correlation variants ({w}-session window)", yaxis_title="Correlation")


def synchronicity_figure(analysis: Analysis) -> Figure:
    """Naive vs synchronous vs lag-adjusted correlation, as computed in the comparison."""
    comparison = analysis.comparison
    x = _dates(comparison.index)
    fig = _figure()
    for column in comparison.columns:
        name, color = COMPARISON_STYLE.get(str(column), (str(column), REFERENCE_COLOR))
        _add(fig, _line(x, _values(comparison[column]), name, color, 1.6, "%{y:+.2f}"))
    _hline(fig, 0.0)
    words = [SHORT_LABELS.get(str(c), str(c)) for c in comparison.columns]
    title = " vs ".join(words).capitalize() if words else "Correlation"
    return _style(
        fig,
        f"{title} correlation ({analysis.comparison_window} sessions)",
        yaxis_title="Correlation",
    )


def lead_lag_figure(analysis: Analysis) -> Figure:
    """Cross-correlation by lag with the best lag highlighted and ±1.96/√n lines."""
    crypto, equity = _names(analysis)
    ccf = analysis.lead_lag
    best = analysis.lead_lag_best
    lags = ccf.index.to_numpy(dtype="int64")
    values = _values(ccf)
    is_best = lags == best.best_lag
    fig = _figure()
    for chosen, name, color, hover in (
        (~is_best, "Cross-correlation", _rgba(WINDOW_COLORS[0], 0.55), "lag"),
        (is_best, f"Best lag ({best.best_lag:+d})", WINDOW_COLORS[2], "best lag"),
    ):
        _add(
            fig,
            {
                "type": "bar",
                "x": lags[chosen],
                "y": values[chosen],
                "name": name,
                "marker": {"color": color},
                "hovertemplate": hover + " %{x:+d}: %{y:+.3f}<extra></extra>",
            },
        )
    if best.n > 0:
        limit = LEAD_LAG_Z / float(np.sqrt(best.n))
        _hline(fig, limit, text=f"±1.96/√n (n = {best.n})")
        _hline(fig, -limit)
    _hline(fig, 0.0, dash="solid")
    fig["layout"].update(barmode="overlay", bargap=0.25)
    _axis_update(
        fig,
        "xaxis",
        title={
            "text": (
                f"Lag in sessions (positive lag = crypto leads: {crypto} today vs {equity} "
                "that many sessions later)"
            )
        },
        zeroline=False,
        **({"dtick": 1} if len(lags) <= 25 else {}),
    )
    return _style(
        fig,
        f"Lead-lag: which moves first ({crypto} vs {equity})",
        yaxis_title="Correlation",
        hovermode="closest",
        margin={"b": 58},  # the lag axis has a title under its tick labels
    )


def beta_figure(analysis: Analysis) -> Figure:
    """Rolling beta of crypto returns on equity returns per window."""
    table = analysis.table
    crypto, equity = _names(analysis)
    x = _dates(table.index)
    fig = _figure()
    for i, w in enumerate(_windows(analysis)):
        color = WINDOW_COLORS[i % len(WINDOW_COLORS)]
        _add(fig, _line(x, _values(table[f"beta_{w}"]), f"{w}-session", color, 1.6, "%{y:.2f}"))
    _hline(fig, 1.0, dash="dot", text="β = 1")
    _hline(fig, 0.0)
    return _style(fig, f"Rolling beta of {crypto} on {equity}", yaxis_title="Beta")


def _shift_markers(
    fig: Figure,
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
            _add(
                fig,
                {
                    "type": "scatter",
                    "x": _dates(dates),
                    "y": _values(analysis.table[column(label)].reindex(dates)),
                    "mode": "markers",
                    "marker": {"symbol": symbol, "size": 9, "color": color},
                    "name": f"Matched shift {direction}",
                    "legendgroup": f"shift_{direction}",
                    "showlegend": row == 1,
                    "hovertemplate": f"matched {indicator.upper()} shift {direction}<extra></extra>",
                },
                row=row,
            )


def _pair_rows(analysis: Analysis) -> list[tuple[int, str, str, str]]:
    """``(row, label, name, colour)`` of the crypto (top) and the equity (bottom)."""
    crypto, equity = _names(analysis)
    return [(1, "crypto", crypto, CRYPTO_COLOR), (2, "equity", equity, EQUITY_COLOR)]


def rsi_figure(analysis: Analysis) -> Figure:
    """RSI of each asset, crypto above equity, with 30/50/70 reference lines."""
    table = analysis.table
    x = _dates(table.index)
    fig = _figure(rows=2)
    for row, label, name, color in _pair_rows(analysis):
        _add(
            fig,
            _line(x, _values(table[f"rsi_{label}"]), f"{name} RSI", color, 1.5, "%{y:.1f}"),
            row,
        )
        for level, dash in ((70.0, "dash"), (50.0, "dot"), (30.0, "dash")):
            _hline(fig, level, dash=dash, row=row)
        _axis_update(
            fig, "yaxis", row, title={"text": f"{name} RSI"}, range=[0, 100], tickvals=[30, 50, 70]
        )
    _shift_markers(fig, analysis, "rsi", lambda label: f"rsi_{label}")
    return _style(fig, "Momentum: RSI (30 / 50 / 70)", height=DOUBLE_HEIGHT)


def _signed_areas(
    x: np.ndarray,
    values: np.ndarray,
    name: str,
    colors: tuple[str, str],
    hover: str,
    *,
    alpha: float = 0.5,
    stack: str | None = None,
    showlegend: bool = True,
    legendgroup: str | None = None,
) -> list[dict[str, Any]]:
    """A daily series drawn like bars by sign, as two filled step areas (above and below
    zero) with one legend entry: thousands of SVG bars take plotly.js seconds to draw, one
    path per area milliseconds. With ``stack``, the areas stack on the other series of the
    same stack, positive parts up and negative parts down (as relative bars do).
    """
    traces = []
    for part, color, first in (
        (np.maximum(values, 0.0), colors[0], True),
        (np.minimum(values, 0.0), colors[1], False),
    ):
        trace: dict[str, Any] = {
            "type": "scatter",
            "x": x,
            "y": part,
            "name": name,
            "mode": "lines",
            "line": {"width": 0, "shape": "hv", "color": color},
            "fillcolor": _rgba(color, alpha),
            "legendgroup": legendgroup or name,
            "showlegend": showlegend and first,
        }
        if stack is None:
            trace["fill"] = "tozeroy"
        else:
            trace["stackgroup"] = f"{stack}{'+' if first else '-'}"
        if first:
            trace.update(customdata=values, hovertemplate=hover)
        else:
            trace["hoverinfo"] = "skip"
        traces.append(trace)
    return traces


def macd_figure(analysis: Analysis) -> Figure:
    """MACD line, signal line and histogram of each asset, crypto above equity."""
    table = analysis.table
    x = _dates(table.index)
    fig = _figure(rows=2)
    for row, label, name, color in _pair_rows(analysis):
        hist = _values(table[f"macd_hist_{label}"])
        for area in _signed_areas(
            x, hist, "Histogram", (UP_COLOR, DOWN_COLOR), "%{customdata:.2f}",
            legendgroup="hist", showlegend=row == 1,
        ):  # fmt: skip
            _add(fig, area, row)
        _add(
            fig,
            _line(x, _values(table[f"macd_{label}"]), f"{name} MACD", color, 1.5, "%{y:.2f}"),
            row,
        )
        _add(
            fig,
            _line(
                x,
                _values(table[f"macd_signal_{label}"]),
                "Signal",
                "#444444",
                1.1,
                "%{y:.2f}",
                line={"dash": "dot"},
                legendgroup="signal",
                showlegend=row == 1,
            ),
            row,
        )
        _axis_update(fig, "yaxis", row, title={"text": f"{name} MACD"})
    _shift_markers(fig, analysis, "macd", lambda label: f"macd_{label}")
    return _style(fig, "Momentum: MACD (12, 26, 9)", height=DOUBLE_HEIGHT)


def relative_volume_figure(analysis: Analysis) -> Figure:
    """Volume relative to its recent average; a note instead when there is no volume."""
    table = analysis.table
    x = _dates(table.index)
    fig = _figure()
    for _, label, name, color in _pair_rows(analysis):
        values = table[f"relvol_{label}"]
        if values.notna().any():
            _add(fig, _line(x, _values(values), name, color, 1.3, "%{y:.2f}×"))
    if not fig["data"]:
        fig["layout"]["annotations"].append(
            {
                "text": "no volume data",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 16, "color": REFERENCE_COLOR},
            }
        )
        hidden = {"showgrid": False, "showticklabels": False, "zeroline": False}
        _axis_update(fig, "xaxis", **hidden)
        _axis_update(fig, "yaxis", **hidden)
    _hline(fig, 1.0)
    return _style(fig, "Relative volume (× its recent average)", yaxis_title="Relative volume")


FIGURES: dict[str, Callable[[Analysis], Figure]] = {
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


def build_figures(analysis: Analysis) -> dict[str, Figure]:
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


def signal_timeline_figure(signals: SignalResult) -> Figure:
    """Each signal's state per session (on / off; blank where it cannot be confirmed) and the stance."""
    columns = signals.columns
    x = _dates(columns.index)
    fig = _figure(rows=2, spacing=0.08, heights=[0.55, 0.45])
    z = np.vstack([columns[c].to_numpy(dtype="float64") for c, _ in SIGNAL_ROWS])
    words = np.where(np.isnan(z), "cannot be confirmed", np.where(z == 1.0, "on", "off"))
    _add(
        fig,
        {
            "type": "heatmap",
            "x": x,
            "y": [label for _, label in SIGNAL_ROWS],
            "z": z,
            "text": words,
            "zmin": 0.0,
            "zmax": 1.0,
            "colorscale": [[0.0, OFF_COLOR], [0.5, OFF_COLOR], [0.5, ON_COLOR], [1.0, ON_COLOR]],
            "showscale": False,
            "name": "Signal state",
            "hovertemplate": "%{y}: %{text}<extra></extra>",
        },
    )
    _add(
        fig,
        _line(
            x,
            _values(columns["stance"]),
            "Stance (ETH exposure)",
            STANCE_COLOR,
            1.8,
            "exposure %{y:.1f}<extra></extra>",
            line={"shape": "hv"},
        ),
        row=2,
    )
    _axis_update(
        fig,
        "yaxis",
        2,
        title={"text": "Exposure"},
        range=[-0.1, 1.1],
        tickvals=[0.0, 0.5, 1.0],
        ticktext=["reduce", "neutral", "bullish"],
    )
    # The signals' names label the rows.
    return _style(
        fig, "Signal states and stance over time", height=DOUBLE_HEIGHT, margin={"l": 160}
    )


def log_ticks(low: float, high: float) -> list[float]:
    """Labelled ticks for a log axis: 1-2-5 steps spanning ``low..high`` (never bare digits)."""
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high <= 0:
        return []
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    steps = (1.0, 2.0, 5.0) if last - first <= 3 else (1.0,)
    ticks = [m * 10.0**k for k in range(first, last + 1) for m in steps]
    inside = [v for v in ticks if low / 1.5 <= v <= high * 1.5]
    return [float(f"{v:.6g}") for v in inside]


def equity_curve_figure(result: BacktestResult, crypto: str = "ETH") -> Figure:
    """Growth of 1 for the stance overlay and for buy-and-hold, on a log scale."""
    fig = _figure()
    x = _dates(result.equity.index)
    for column, name, color in (
        ("strategy", "Stance overlay", STANCE_COLOR),
        ("buy_and_hold", f"Buy-and-hold {crypto}", CRYPTO_COLOR),
        ("always_neutral", "Constant 0.5 exposure", REFERENCE_COLOR),
    ):
        if column in result.equity:
            _add(fig, _line(x, _values(result.equity[column]), name, color, 1.6, "%{y:.2f}"))
    _hline(fig, 1.0, dash="dot")
    values = result.equity.to_numpy(dtype="float64")
    ticks = log_ticks(float(np.nanmin(values)), float(np.nanmax(values)))
    _axis_update(fig, "yaxis", type="log", tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    return _style(
        fig,
        f"Equity curve: stance overlay vs buy-and-hold {crypto} "
        f"(cost {result.cost_bps:g} bps per unit of turnover)",
        yaxis_title="Growth of 1 (log scale)",
    )


def liquidity_figure(macro: pd.DataFrame) -> Figure:
    """Each input's contribution to the liquidity score (stacked areas: positive parts up,
    negative parts down, as relative bars) and the score itself."""
    fig = _figure()
    x = _dates(macro.index)
    contributions = [c for c in macro.columns if str(c).startswith("contrib_")]
    parts = macro[contributions].astype("float64")
    if contributions and "liquidity_score" in macro:
        # A score that is the mean of the available inputs: draw each input's share of it
        # (value / inputs available that session) so the areas stack exactly to the score.
        count = parts.notna().sum(axis=1)
        shares = parts.div(count.where(count > 0), axis=0)
        score = macro["liquidity_score"].astype("float64")
        known = score.notna() & (count > 0)
        if known.any() and np.allclose(shares[known].sum(axis=1), score[known], atol=1e-9):
            parts = shares
    for i, column in enumerate(contributions):
        color = CONTRIB_COLORS[i % len(CONTRIB_COLORS)]
        label = str(column).removeprefix("contrib_").replace("_", " ")
        for area in _signed_areas(
            x, _values(parts[column]), label, (color, color), "%{customdata:+.2f}",
            alpha=0.75, stack="contributions",
        ):  # fmt: skip
            _add(fig, area)
    if "liquidity_score" in macro:
        score_line = _values(macro["liquidity_score"])
        _add(fig, _line(x, score_line, "Liquidity score", "#000000", 1.6, "%{y:+.2f}"))
    _hline(fig, 0.0)
    return _style(
        fig, "Macro liquidity: score and each input's contribution", yaxis_title="Contribution"
    )


def breadth_figure(table: pd.DataFrame, signals: SignalResult | None = None) -> Figure:
    """Small-cap breadth (Russell 2000 relative to the S&P 500) and its recent change."""
    fig = _figure(rows=2, spacing=0.08)
    x = _dates(table.index)
    _add(fig, _line(x, _values(table["breadth"]), "Breadth", EQUITY_COLOR, 1.6, "%{y:.3f}"))
    _axis_update(fig, "yaxis", title={"text": "Breadth"})
    change_column = "risk_off_alignment.breadth_falling"
    if signals is not None and change_column in signals.values:
        change = signals.values[change_column]
        lookback = signals.config.breadth_lookback
        name = f"{lookback}-session change"
        for area in _signed_areas(
            _dates(change.index),
            _values(change),
            name,
            (UP_COLOR, DOWN_COLOR),
            "%{customdata:+.3f}",
        ):
            _add(fig, area, row=2)
        _axis_update(fig, "yaxis", 2, title={"text": name})
    return _style(fig, "Small-cap breadth (Russell 2000 / S&P 500)", height=DOUBLE_HEIGHT)


BENCHMARK_COLORS = ("#2f6db5", "#c2185b", "#8c6d31", "#636363", "#6d4bd8")
PARTIAL_COLOR = "#1b9e77"


def benchmarks_figure(comparison: BenchmarkComparison, window: int) -> Figure:
    """The crypto's rolling correlation with each benchmark, and the partial correlation
    with the first once the second is held fixed."""
    rolling = comparison.rolling
    x = _dates(rolling.index)
    fig = _figure()
    for k, (label, name) in enumerate(zip(comparison.benchmarks, comparison.slugs, strict=True)):
        color = BENCHMARK_COLORS[k % len(BENCHMARK_COLORS)]
        values = _values(rolling[f"corr_{name}_{window}"])
        _add(fig, _line(x, values, label, color, 1.6, "%{y:+.2f}"))
    small, large = comparison.benchmarks[:2]
    partial = _values(rolling[f"partial_{window}"])
    _add(
        fig,
        _line(
            x, partial, f"{small} with {large} held fixed", PARTIAL_COLOR, 1.4,
            "%{y:+.2f}", line={"dash": "dot"},
        ),
    )  # fmt: skip
    _hline(fig, 0.0)
    _axis_update(fig, "yaxis", range=[-1.0, 1.0])
    return _style(
        fig,
        f"{comparison.crypto} against each benchmark ({window}-session correlation)",
        yaxis_title="Correlation",
    )


def build_signal_figures(
    analysis: Analysis,
    *,
    signals: SignalResult | None = None,
    backtest: BacktestResult | None = None,
    macro: pd.DataFrame | None = None,
    benchmarks: BenchmarkComparison | None = None,
) -> dict[str, Figure]:
    """The figures of the signal, evaluation, macro, breadth and benchmark sections that have
    data."""
    crypto, _ = _names(analysis)
    figures: dict[str, Figure] = {}
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
    if benchmarks is not None:
        figures["benchmarks"] = benchmarks_figure(benchmarks, analysis.comparison_window)
    return figures


def displayed(key: str, figure: Figure) -> tuple[str, Figure]:
    """A figure's title and the figure without it (pages show it as a heading: it wraps on
    a phone, where a plotly title would run into a wrapped legend)."""
    layout = figure["layout"]
    title = str(layout.get("title", {}).get("text") or key.replace("_", " ").capitalize())
    shown_layout = {
        **layout,
        "title": {"text": ""},
        "margin": {**layout.get("margin", {}), "t": LEGEND_TOP},
    }
    return title, {"data": figure["data"], "layout": shown_layout}


def all_figures(analysis: Analysis) -> dict[str, Figure]:
    """Every figure of an analysis (the report's charts, then its panels), in display order."""
    figures = build_figures(analysis)
    figures.update(
        build_signal_figures(
            analysis, signals=analysis.signals, backtest=analysis.backtest, macro=analysis.macro
        )
    )
    return figures
