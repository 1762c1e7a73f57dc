"""``csv:PATH`` as a provider: files through :func:`comove.read_bars`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from comove._time import utc_naive_or_none
from comove.data.providers.base import ProgressCallback, empty_bars

if TYPE_CHECKING:
    import pandas as pd

    from comove.data.providers.base import TimeLike


class CsvProvider:
    """Bars from a CSV or Parquet file; the ``symbol`` is the path."""

    name = "csv"

    def fetch_bars(
        self,
        symbol: str,
        interval: str = "1d",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> pd.DataFrame:
        from comove.data.bars import read_bars

        bars = read_bars(symbol, drop_incomplete=False)
        bars = _between(bars, start, end)
        bars.attrs.setdefault("live_bar", None)
        if progress is not None and len(bars):
            progress(bars.index[-1], len(bars))
        return bars


def _between(bars: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    begin = utc_naive_or_none(start)
    finish = utc_naive_or_none(end)
    keep = bars
    if begin is not None:
        keep = keep[keep.index >= begin.normalize()]
    if finish is not None:
        keep = keep[keep.index <= finish]
    if keep.empty:
        return empty_bars(
            str(bars.attrs.get("source", "csv")), str(bars.attrs.get("interval", "1d"))
        )
    result = keep.copy()
    result.attrs = dict(bars.attrs)
    return result
