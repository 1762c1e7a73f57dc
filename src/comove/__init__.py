"""comove: how a crypto asset and an equity index move together.

The public API is listed in ``__all__``. Names are imported on first use so that the
command line (``comove --help``) starts without loading pandas or plotly; the table below
is the one list of them (a test keeps it, ``__all__`` and the type-checking imports equal).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Analysis": "comove.pipeline",
    "ComoveError": "comove.errors",
    "ConfigError": "comove.errors",
    "DataError": "comove.errors",
    "DataWarning": "comove.errors",
    "ProviderError": "comove.errors",
    "RollingCorrelation": "comove.analytics.streaming",
    "align": "comove.data.calendar",
    "analyze": "comove.pipeline",
    "CompareOptions": "comove.pipeline.compare",
    "Comparison": "comove.analytics.comparison",
    "bootstrap_corr": "comove.analytics.compare",
    "build_analysis": "comove.pipeline",
    "build_comparison": "comove.pipeline.compare",
    "change_points": "comove.analytics.compare",
    "compare": "comove.pipeline.compare",
    "compare_benchmarks": "comove.analytics.comparison",
    "compare_periods": "comove.analytics.comparison",
    "fisher_difference": "comove.analytics.compare",
    "optimal_block_length": "comove.analytics.compare",
    "partial_corr": "comove.analytics.compare",
    "spread_beta": "comove.analytics.compare",
    "steiger_z": "comove.analytics.compare",
    "williams_t": "comove.analytics.compare",
    "demo_pair": "comove.data.demo",
    "ema": "comove.analytics.momentum",
    "ewma_corr": "comove.analytics.correlation",
    "fisher_ci": "comove.analytics.correlation",
    "lag_adjusted_corr": "comove.analytics.correlation",
    "lead_lag": "comove.analytics.correlation",
    "log_returns": "comove.analytics.returns",
    "macd": "comove.analytics.momentum",
    "panel_corr_beta": "comove.analytics.rolling",
    "read_bars": "comove.data.bars",
    "rebase": "comove.analytics.returns",
    "relative_volume": "comove.analytics.momentum",
    "rolling_beta": "comove.analytics.correlation",
    "rolling_corr": "comove.analytics.correlation",
    "rolling_spearman": "comove.analytics.correlation",
    "rsi": "comove.analytics.momentum",
    "sma": "comove.analytics.momentum",
    "write_report": "comove.report.html",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from comove.analytics.compare import (
        bootstrap_corr,
        change_points,
        fisher_difference,
        optimal_block_length,
        partial_corr,
        spread_beta,
        steiger_z,
        williams_t,
    )
    from comove.analytics.comparison import Comparison, compare_benchmarks, compare_periods
    from comove.analytics.correlation import (
        ewma_corr,
        fisher_ci,
        lag_adjusted_corr,
        lead_lag,
        rolling_beta,
        rolling_corr,
        rolling_spearman,
    )
    from comove.analytics.momentum import ema, macd, relative_volume, rsi, sma
    from comove.analytics.returns import log_returns, rebase
    from comove.analytics.rolling import panel_corr_beta
    from comove.analytics.streaming import RollingCorrelation
    from comove.data.bars import read_bars
    from comove.data.calendar import align
    from comove.data.demo import demo_pair
    from comove.errors import (
        ComoveError,
        ConfigError,
        DataError,
        DataWarning,
        ProviderError,
    )
    from comove.pipeline import Analysis, analyze, build_analysis
    from comove.pipeline.compare import CompareOptions, build_comparison, compare
    from comove.report.html import write_report

    __version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        value: Any = version("comove")
    else:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'comove' has no attribute {name!r}")
        value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__, "__version__"])
