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


# Units as FRED states them for the stored vintages (PROVENANCE.md, section 8).
UNITS = {
    "WALCL": "Millions of U.S. Dollars",
    "WTREGEN": "Millions of U.S. Dollars",
    "RRPONTSYD": "Billions of U.S. Dollars",
    "DGS2": "Percent",
    "NFCI": "Index",
    "BAMLH0A0HYM2": "Percent",
    "DTWEXBGS": "Index Jan 2006=100",
}
# Main file first; an extension only adds dates after the main file ends.
FILES = {"BAMLH0A0HYM2": ["BAMLH0A0HYM2.csv", "BAMLH0A0HYM2_2023-08_to_2026-07.csv"]}


def read_fred(folder: Path, series_id: str) -> pd.Series:
    parts: list[pd.Series] = []
    for name in FILES.get(series_id, [f"{series_id}.csv"]):
        raw = pd.read_csv(folder / name, na_values=["."], keep_default_na=True)
        date_column = "observation_date" if series_id.startswith("DFF") else "date"
        part = pd.Series(
            pd.to_numeric(raw[series_id]).to_numpy(dtype="float64"),
            index=pd.DatetimeIndex(pd.to_datetime(raw[date_column])),
            name=series_id,
        ).dropna()
        if parts:
            part = part[part.index > parts[-1].index[-1]]
        parts.append(part)
    out = pd.concat(parts) if len(parts) > 1 else parts[0]
    out.attrs["units"] = UNITS[series_id]
    return out


@pytest.fixture(scope="session")
def fred(data_dir: Path) -> dict[str, pd.Series]:
    return {sid: read_fred(data_dir / "macro", sid) for sid in UNITS}
