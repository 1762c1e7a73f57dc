"""The bar reader on mutated files: valid bars or one clear DataError, nothing else.

Hypothesis starts from a Yahoo-format daily CSV and changes cells, lines and the header
(odd numbers and dates, non-ASCII digits, long cells, repeated, swapped and dropped lines),
then reads it with the real :func:`comove.read_bars`. A result keeps the bars contract
(sorted unique dates inside 1970..2200, finite prices above zero, high ≥ low, volume
≥ 0); a refusal is a :class:`~comove.errors.DataError` of one line naming the file.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comove.data.bars import LATEST, OLDEST, read_bars
from comove.errors import DataError

DAYS = pd.bdate_range("2024-01-02", periods=40)
rng = np.random.default_rng(3)
CLOSES = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(DAYS))))
HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"
LINES = [
    f"{d:%Y-%m-%d},{c * 0.99:.4f},{c * 1.01:.4f},{c * 0.98:.4f},{c:.4f},{c:.4f},{1000 + i}"
    for i, (d, c) in enumerate(zip(DAYS, CLOSES, strict=True))
]

CELLS = st.one_of(
    st.sampled_from(
        [
            "inf",
            "-inf",
            "Infinity",
            "NaN",
            "1e309",
            "-5",
            "0",
            "",
            "null",
            "1,5",
            "٣٠",
            "2024-02-30",
            "2024-13-01",
            "01/02/2024",
            "13/01/2024",
            "45293",
            "1704153600000000",
            "-86400",
            "1500-01-01",
            "2300-01-01",
            "9" * 40,
            "x" * 200,
            "true",
            "0x1F",
            "1_000",
            "２０２４-01-02",
            "2024-01-02T25:00",
            " 12 ",
            "+3.5e2",
        ]
    ),
    st.text(max_size=20),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
)


@st.composite
def mutated_csv(draw: st.DrawFn) -> str:
    header = HEADER
    lines = list(LINES)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        action = draw(
            st.sampled_from(["cell", "cell", "drop", "repeat", "swap", "header", "garbage"])
        )
        row = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if action == "cell":
            cells = lines[row].split(",")
            cells[draw(st.integers(min_value=0, max_value=len(cells) - 1))] = draw(CELLS).replace(
                "\n", " "
            )
            lines[row] = ",".join(cells)
        elif action == "drop" and len(lines) > 2:
            lines.pop(row)
        elif action == "repeat":
            lines.insert(row, lines[row])
        elif action == "swap":
            other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[row], lines[other] = lines[other], lines[row]
        elif action == "header":
            names = header.split(",")
            names[draw(st.integers(min_value=0, max_value=len(names) - 1))] = draw(
                st.sampled_from(["Close", "close", "Date", "", "Volume", "Price", "Timestamp"])
            )
            header = ",".join(names)
        elif action == "garbage":
            lines.insert(row, draw(st.text(max_size=30)).replace("\n", " "))
    return header + "\n" + "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_csv())
def test_mutated_files_give_valid_bars_or_one_clear_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bars.csv"
        path.write_text(text, encoding="utf-8")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bars = read_bars(path, now=pd.Timestamp("2030-01-01"))
        except DataError as exc:
            message = str(exc)
            assert "\n" not in message
            assert str(path) in message
            assert len(message) - len(str(path)) <= 240, message
            return
    index = pd.DatetimeIndex(bars.index)
    assert index.is_monotonic_increasing
    assert index.is_unique
    assert index[0] >= OLDEST
    assert index[-1] < LATEST
    values = bars[["open", "high", "low", "close"]].to_numpy(dtype="float64")
    assert not np.isinf(values).any()
    assert (bars["close"].to_numpy() > 0).all()
    known = bars[["high", "low"]].dropna()
    assert (known["high"] >= known["low"]).all()
    volume = bars["volume"].dropna().to_numpy()
    assert np.isfinite(volume).all()
    assert (volume >= 0).all()
