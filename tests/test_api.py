"""The public API: one list of names, each importable, and inputs a notebook user passes."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import comove

INIT = Path(comove.__file__)


def _type_checking_names() -> set[str]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for item in node.body:
                if isinstance(item, ast.ImportFrom):
                    names |= {alias.asname or alias.name for alias in item.names}
    return names


def test_all_the_lazy_table_and_the_type_checking_imports_agree() -> None:
    table = comove._EXPORTS
    assert comove.__all__ == sorted(table)
    assert _type_checking_names() == set(table)
    for name, module in table.items():
        value = getattr(comove, name)
        assert value.__module__.startswith("comove"), name
        assert module.startswith("comove."), name


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    assert comove.__version__ == version("comove")


@pytest.fixture(scope="module")
def returns() -> tuple[pd.Series, pd.Series]:
    crypto, equity = comove.demo_pair(seed=4, start="2021-01-04", end="2022-12-30")
    table = comove.analyze(crypto, equity)
    return table["crypto_ret"], table["equity_ret"]


@pytest.mark.parametrize(
    "function", ["rolling_corr", "rolling_beta", "rolling_spearman", "lag_adjusted_corr"]
)
def test_arrays_in_give_arrays_out_equal_to_the_series_result(
    returns: tuple[pd.Series, pd.Series], function: str
) -> None:
    x, y = returns
    call = getattr(comove, function)
    as_series = call(x, y, 30)
    as_array = call(x.to_numpy(), y.to_numpy(), 30)
    assert isinstance(as_array, np.ndarray)
    np.testing.assert_array_equal(as_array, as_series.to_numpy())


def test_momentum_and_returns_take_arrays(returns: tuple[pd.Series, pd.Series]) -> None:
    close = pd.Series(100 * np.exp(np.cumsum(returns[0].fillna(0).to_numpy())))
    for name in ("rsi", "sma", "ema", "log_returns", "rebase"):
        call = getattr(comove, name)
        args = (close,) if name in ("log_returns", "rebase") else (close, 14)
        want = call(*args)
        got = call(close.to_numpy(), *args[1:])
        assert isinstance(got, np.ndarray), name
        np.testing.assert_array_equal(got, want.to_numpy(), err_msg=name)
    lines = comove.macd(close.to_list())  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(lines, comove.macd(close))


def test_wrong_inputs_raise_a_type_error_naming_the_argument(
    returns: tuple[pd.Series, pd.Series],
) -> None:
    x, y = returns
    with pytest.raises(TypeError, match=r"^x: expected a pandas Series"):
        comove.rolling_corr("ETH", y, 30)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"^close: expected a one-dimensional array"):
        comove.rsi(np.ones((5, 2)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a mix"):
        comove.rolling_beta(y, x.to_numpy(), 30)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="like the first array"):
        comove.rolling_corr(x.to_numpy(), y.to_numpy()[:-3], 30)
