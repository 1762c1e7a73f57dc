"""The one service under every view: resolve sources, load inputs, analyse, evaluate.

The CLI commands, ``comove watch``, the dashboard, alerts and scans call this package;
none of them reads bars or assembles inputs itself. See ``docs/architecture.md``.
"""

from __future__ import annotations

from comove.pipeline.analysis import (
    Analysis,
    AnalysisOptions,
    InputGap,
    analyze,
    analyze_inputs,
    build_analysis,
    run,
    table_columns,
)
from comove.pipeline.inputs import (
    MissingInput,
    PairInputs,
    PairRequest,
    load_bars,
    load_chain,
    load_inputs,
    load_large_caps,
    load_macro,
)

__all__ = [
    "Analysis",
    "AnalysisOptions",
    "InputGap",
    "MissingInput",
    "PairInputs",
    "PairRequest",
    "analyze",
    "analyze_inputs",
    "build_analysis",
    "load_bars",
    "load_chain",
    "load_inputs",
    "load_large_caps",
    "load_macro",
    "run",
    "table_columns",
]
