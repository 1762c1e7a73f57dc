"""A corpus of hostile files, generated here, through ``import``, ``analyze`` and ``scan``.

For every file: an exit code in {0, 1, 2, 3}, never a traceback; a failure is one line of
at most 300 characters naming the file; nothing is written on failure; and whatever is
stored is finite and dated inside 1970..2200.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from comove.cli import app
from comove.data.store import Store

runner = CliRunner()

DAYS = pd.bdate_range("2024-01-02", periods=60)
GOOD_CLOSES = 100.0 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, len(DAYS))))


def _csv(dates: list[str], closes: list[str] | None = None, header: str = "Date,Close") -> str:
    values = closes or [f"{c:.4f}" for c in GOOD_CLOSES[: len(dates)]]
    return header + "\n" + "".join(f"{d},{c}\n" for d, c in zip(dates, values, strict=False))


def _iso(days: pd.DatetimeIndex = DAYS) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in days]


def _with(position: int, value: str) -> list[str]:
    closes = [f"{c:.4f}" for c in GOOD_CLOSES]
    closes[position] = value
    return closes


def _epochs(scale: float) -> list[str]:
    return [str(int((d - pd.Timestamp(0)).total_seconds() * scale)) for d in DAYS]


def _parquet(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.to_parquet(path)


# name -> (file name, text or writer, readable?)
CORPUS: dict[str, tuple[str, str | Callable[[Path], None], bool]] = {
    "inf close": ("inf.csv", _csv(_iso(), _with(5, "inf")), False),
    "Infinity close": ("infinity.csv", _csv(_iso(), _with(9, "Infinity")), False),
    "1e309 close": ("huge.csv", _csv(_iso(), _with(3, "1e309")), False),
    "-inf volume": (
        "volume.csv",
        "Date,Close,Volume\n"
        + "".join(f"{d},10,{'-inf' if i == 4 else 5}\n" for i, d in enumerate(_iso())),
        False,
    ),
    "year 1500": ("old.csv", _csv(["1500-01-02", *_iso()[1:]]), False),
    "year 2300": ("future.csv", _csv([*_iso()[:-1], "2300-01-02"]), False),
    "year 1950": ("y1950.csv", _csv(["1950-01-03", *_iso()[1:]]), False),
    "epoch seconds": ("seconds.csv", _csv(_epochs(1)), True),
    "epoch ms": ("ms.csv", _csv(_epochs(1e3)), True),
    "epoch us": ("us.csv", _csv(_epochs(1e6)), True),
    "epoch ns": ("ns.csv", _csv(_epochs(1e9)), True),
    "negative epochs": (
        "negative.csv",
        _csv([str(-86400 * (i + 1)) for i in range(60)][::-1]),
        False,
    ),
    "excel serials": ("excel.csv", _csv([str(45293 + i) for i in range(60)]), False),
    "ambiguous dd/mm": (
        "ambiguous.csv",
        _csv([f"0{m}/0{d}/2024" for m in range(1, 4) for d in range(1, 10)]),
        False,
    ),
    "day first decided": ("dayfirst.csv", _csv([d.strftime("%d/%m/%Y") for d in DAYS]), True),
    "month first decided": ("monthfirst.csv", _csv([d.strftime("%m/%d/%Y") for d in DAYS]), True),
    "dotted day first": ("dotted.csv", _csv([d.strftime("%d.%m.%Y") for d in DAYS]), True),
    "mixed orders": (
        "mixed.csv",
        _csv(["13/01/2024", "01/14/2024", *[d.strftime("%d/%m/%Y") for d in DAYS[2:]]]),
        False,
    ),
    "duplicate header": (
        "dupheader.csv",
        _csv(_iso(), header="Date,Close,Close").replace("\n2024", ",1\n2024"),
        False,
    ),
    "same field twice": (
        "twice.csv",
        "Date,Close,close\n" + "".join(f"{d},10,11\n" for d in _iso()),
        False,
    ),
    "5 MB date cell": ("longcell.csv", _csv(["2024-01-02" + "x" * 5_000_000, *_iso()[1:]]), False),
    "5 MB number cell": ("longnumber.csv", _csv(_iso(), _with(2, "1" * 5_000_000)), False),
    "binary garbage": ("garbage.csv", "\x00\x01\x02PK\x03\x04" * 100, False),
    "header only": ("header.csv", "Date,Close\n", False),
    "empty": ("empty.csv", "", False),
    "repeated dates": ("repeat.csv", _csv([*_iso()[:10], *_iso()[:10]]), False),
    "bool parquet close": (
        "bool.parquet",
        _parquet(pd.DataFrame({"Date": DAYS, "Close": [True, False] * 30})),
        False,
    ),
    "parquet year 1500": (
        "old_table.parquet",
        _parquet(
            pd.DataFrame(
                {
                    "Date": pd.DatetimeIndex(["1500-01-02", *_iso()[1:]]).as_unit("us"),
                    "Close": GOOD_CLOSES,
                }
            )
        ),
        False,
    ),
    "parquet int64 us": (
        "int_us.parquet",
        _parquet(pd.DataFrame({"timestamp": [int(x) for x in _epochs(1e6)], "close": GOOD_CLOSES})),
        True,
    ),
    "parquet inf": (
        "inf_table.parquet",
        _parquet(pd.DataFrame({"Date": DAYS, "Close": [*GOOD_CLOSES[:-1], math.inf]})),
        False,
    ),
}


def _write(folder: Path, name: str) -> Path:
    file_name, content, _ = CORPUS[name]
    path = folder / file_name
    if callable(content):
        content(path)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _checked(result: object, path: Path) -> int:
    """The exit code, after the checks every command must pass."""
    exc = result.exception  # type: ignore[attr-defined]
    assert exc is None or isinstance(exc, SystemExit), f"{type(exc).__name__}: {exc}"
    code = int(result.exit_code)  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert code in (0, 1, 2, 3)
    assert "Traceback" not in stderr
    if code != 0:
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, stderr
        assert len(errors[0]) <= 300, errors[0]
        assert path.name in errors[0]
    return code


def _stored_cleanly(store: Path) -> None:
    with Store(store, read_only=True) as db:
        for symbol in db.bar_summary("1d")["symbol"]:
            bars = db.read_bars(str(symbol))
            assert np.isfinite(bars["close"].to_numpy()).all()
            assert bars.index[0] >= pd.Timestamp("1970-01-01")
            assert bars.index[-1] < pd.Timestamp("2200-01-01")


@pytest.mark.parametrize("name", list(CORPUS))
def test_import(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name)
    store = tmp_path / "store" / "comove.duckdb"
    result = runner.invoke(app, ["import", f"csv:{path}", "--as", "X", "--store", str(store)])
    code = _checked(result, path)
    readable = CORPUS[name][2]
    assert (code == 0) == readable, result.stderr
    if code == 0:
        _stored_cleanly(store)
        with Store(store, read_only=True) as db:
            dates = db.read_bars("X").index
        assert list(dates) == list(DAYS[-len(dates) :]) or list(dates) == list(DAYS)
    else:
        assert not store.exists()  # nothing written, not even an empty store


@pytest.mark.parametrize("name", [n for n, (_, _, ok) in CORPUS.items() if not ok])
def test_analyze(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name)
    good = tmp_path / "RUT.csv"
    good.write_text(_csv(_iso()), encoding="utf-8")
    out = tmp_path / "table.csv"
    result = runner.invoke(
        app,
        ["analyze", "--crypto", f"csv:{path}", "--equity", f"csv:{good}", "--offline",
         "--format", "csv", "--out", str(out)],
    )  # fmt: skip
    assert _checked(result, path) != 0
    assert not out.exists()


def test_scan_skips_every_bad_file_and_scans_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "universe"
    folder.mkdir()
    for name in CORPUS:
        _write(folder, name)
    rng = np.random.default_rng(7)
    for asset in ("AAA", "BBB"):
        closes = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, len(DAYS))))
        (folder / f"{asset}.csv").write_text(_csv(_iso(), [f"{c:.4f}" for c in closes]))
    bench = tmp_path / "BENCH.csv"
    bench.write_text(_csv(_iso()), encoding="utf-8")
    out = tmp_path / "scan.csv"
    result = runner.invoke(
        app,
        ["scan", str(folder), "--benchmark", f"csv:{bench}", "--windows", "5,10",
         "--skip-bad", "--format", "csv", "--out", str(out)],
    )  # fmt: skip
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"{type(exc).__name__}: {exc}"
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    scanned = set(pd.read_csv(out)["asset"])
    assert {"AAA", "BBB"} <= scanned
    for name, (file_name, _, readable) in CORPUS.items():
        if not readable:
            assert file_name in result.stderr, name
    for line in result.stderr.splitlines():
        assert len(line) <= 300, line
