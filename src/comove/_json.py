"""The one JSON helper: plain JSON types from numbers, stamps and frames; NaN becomes null.

Domain types serialise themselves with ``to_dict()`` built on :func:`jsonable`; views call
:func:`dumps` on what they get back and only format.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def finite(value: Any) -> float | None:
    """A float, or ``None`` when it is missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def day(value: Any) -> str | None:
    """A date as ``YYYY-MM-DD`` (``None`` stays ``None``, NaT becomes ``None``)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def stamp(value: Any) -> str | None:
    """A UTC time as ``YYYY-MM-DDTHH:MM:SSZ`` (``None``/NaT become ``None``)."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def jsonable(value: Any) -> Any:
    """Plain JSON types: NaN/inf become ``None``, timestamps ISO text, numpy scalars numbers."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float | np.floating):
        return finite(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Index):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.name
    if value is pd.NaT:
        return None
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, pd.DataFrame | pd.Series):
        return jsonable(to_dict())
    return str(value)


def records(frame: pd.DataFrame, *, date_columns: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready dicts; ``date_columns`` are written as ``YYYY-MM-DD``."""
    out: list[dict[str, Any]] = []
    for row in frame.to_dict(orient="records"):
        item = {str(k): jsonable(v) for k, v in row.items()}
        for column in date_columns:
            if column in row:
                item[column] = day(row[column])
        out.append(item)
    return out


def dumps(payload: Any, *, indent: int | None = None) -> str:
    """Strict JSON text (never ``NaN``), UTF-8 kept as is; compact unless ``indent``."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        jsonable(payload),
        ensure_ascii=False,
        allow_nan=False,
        indent=indent,
        separators=separators,
    )
