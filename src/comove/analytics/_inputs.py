"""What the public functions accept: a pandas Series, or a 1-D array or list of numbers.

A notebook user passes ``df["close"]`` or ``df["close"].values`` alike. :func:`accepts_arrays`
turns the named arguments into Series before the function runs and, when they were given
as arrays, hands back an array for a result of the same length (a Series in gives a Series
on the same index). Anything else is a ``TypeError`` naming the argument.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy as np
import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])
SeriesLike: TypeAlias = pd.Series | np.ndarray | Sequence[float]


def as_series(value: Any, name: str) -> tuple[pd.Series, bool]:
    """``value`` as a Series, and whether it was given as an array or a list."""
    if isinstance(value, pd.Series):
        return value, False
    if isinstance(value, np.ndarray | list | tuple):
        try:
            array = np.asarray(value, dtype="float64")
        except (TypeError, ValueError):
            raise TypeError(f"{name}: expected numbers, got {type(value).__name__}") from None
        if array.ndim != 1:
            raise TypeError(f"{name}: expected a one-dimensional array, got shape {array.shape}")
        return pd.Series(array), True
    raise TypeError(
        f"{name}: expected a pandas Series or a one-dimensional numpy array, "
        f"got {type(value).__name__}"
    )


def accepts_arrays(*names: str, frames: Sequence[str] = ()) -> Callable[[F], F]:
    """Let the arguments ``names`` be Series or 1-D arrays (``frames`` may also be DataFrames)."""

    def decorate(func: F) -> F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            kinds: list[bool] = []
            length = None
            for name in names:
                value = bound.arguments.get(name)
                if value is None or (name in frames and isinstance(value, pd.DataFrame)):
                    continue
                series, was_array = as_series(value, name)
                if was_array and length is not None and len(series) != length:
                    raise ValueError(
                        f"{name}: expected {length} values like the first array, got {len(series)}"
                    )
                length = len(series) if length is None else length
                bound.arguments[name] = series
                kinds.append(was_array)
            if len(set(kinds)) > 1:
                raise TypeError(f"{', '.join(names)}: pass Series or arrays, not a mix")
            result = func(*bound.args, **bound.kwargs)
            if kinds and kinds[0] and isinstance(result, pd.Series) and len(result) == length:
                return result.to_numpy()
            return result

        return wrapper  # type: ignore[return-value]

    return decorate
