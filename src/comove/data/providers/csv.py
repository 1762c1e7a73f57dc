"""``csv:PATH`` as a provider (files through :func:`comove.read_bars`) and ``store:SYMBOL``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from comove.data.providers.base import ProgressCallback, as_utc_naive, empty_bars
from comove.errors import SymbolNotFound

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


class StoreProvider:
    """Bars already in the local store (``store:SYMBOL``), from whichever source has them."""

    name = "store"

    def __init__(self, store: Any) -> None:
        self.store = store

    def fetch_bars(
        self,
        symbol: str,
        interval: str = "1d",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> pd.DataFrame:
        bars = self.store.read_bars(
            symbol, interval=interval, start=as_utc_naive(start), end=as_utc_naive(end)
        )
        if bars is None or len(bars) == 0:
            if start is None and end is None:
                raise SymbolNotFound(
                    f"store: nothing stored for {symbol!r} ({interval}); run comove fetch first"
                )
            return empty_bars(f"store:{symbol}", interval)
        bars.attrs.setdefault("live_bar", None)
        return bars


def _between(bars: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    begin = as_utc_naive(start)
    finish = as_utc_naive(end)
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
