"""The real-data suite: market data and reference vectors from the shared folder, read in place.

One setting each: ``COMOVE_DATA_DIR`` (default ``../shared/data`` next to the checkout) and
``COMOVE_VECTORS_DIR`` (default ``../shared/vectors``). Tests skip, saying why, only when
the folder is absent.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import comove

CHECKOUT = Path(__file__).resolve().parents[2]


def _folder(variable: str, default: Path) -> Path:
    return Path(os.environ.get(variable, default)).expanduser().resolve()


DATA_DIR = _folder("COMOVE_DATA_DIR", CHECKOUT.parent / "shared" / "data")
VECTORS_DIR = _folder("COMOVE_VECTORS_DIR", CHECKOUT.parent / "shared" / "vectors")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.skip(f"real market data not found at {DATA_DIR} (set COMOVE_DATA_DIR)")
    return DATA_DIR


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    if not VECTORS_DIR.is_dir():
        pytest.skip(f"reference vectors not found at {VECTORS_DIR} (set COMOVE_VECTORS_DIR)")
    return VECTORS_DIR


def _read_shared(path: Path) -> pd.DataFrame:
    """Read a shared price file; its final row was committed while still trading (PROVENANCE.md)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return comove.read_bars(path, drop_incomplete=True)


@pytest.fixture(scope="session")
def read_shared() -> Callable[[Path], pd.DataFrame]:
    return _read_shared


@pytest.fixture(scope="session")
def eth(data_dir: Path) -> pd.DataFrame:
    return _read_shared(data_dir / "prices" / "ETH-USD.csv")


@pytest.fixture(scope="session")
def rut(data_dir: Path) -> pd.DataFrame:
    return _read_shared(data_dir / "prices" / "RUT.csv")
