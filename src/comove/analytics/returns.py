"""Log returns and the rebased overlay."""

from __future__ import annotations

import numpy as np
import pandas as pd

from comove.analytics._inputs import accepts_arrays


@accepts_arrays("close")
def log_returns(close: pd.Series) -> pd.Series:
    """Natural-log return from each row to the next; the first row is NaN.

    Rows are whatever the index holds (aligned sessions), so a return spans the gap between
    consecutive rows: a weekend's crypto move lands on the following session.
    """
    values = close.to_numpy(dtype="float64")
    out = np.full(values.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = np.log(values[1:] / values[:-1])
    return pd.Series(out, index=close.index, name=close.name)


@accepts_arrays("close")
def rebase(close: pd.Series, base: float = 100.0) -> pd.Series:
    """Scale a price series so its first valid value equals ``base``."""
    valid = close.dropna()
    if valid.empty:
        return close.astype("float64") * np.nan
    return close.astype("float64") / float(valid.iloc[0]) * base
