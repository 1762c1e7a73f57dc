"""Store benchmarks: bulk import and pair read-back vs Parquet, and incremental refresh cost.

Run: ``python benchmarks/bench_store.py`` (defaults: 1,000 symbols x 10 years of daily bars,
seeded synthetic). Prints times and ratios in one run; nothing is asserted.

- import: every symbol written with ``Store.write_bars`` (one transaction each) vs one
  Parquet file per symbol written with pyarrow;
- read-back of one pair: ``Store.read_bars`` x 2 vs ``pyarrow.parquet.read_table`` x 2;
- incremental refresh: one new day (plus the last stored bar again, as ``comove fetch``
  does) on a symbol with 1 and with 10 years of history; the ratio should be close to 1
  because the write reads only the incoming range through the primary key and keeps a
  running per-symbol summary. Rewriting a Parquet file is shown for contrast.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from comove.data.store import Store

# pyarrow ships no type information; reach it through importlib so mypy sees Any.
pa: Any = importlib.import_module("pyarrow")
pq: Any = importlib.import_module("pyarrow.parquet")


def synthetic_bars(symbol: int, days: int, end: str = "2025-12-31") -> pd.DataFrame:
    rng = np.random.default_rng(symbol)
    index = pd.bdate_range(end=end, periods=days).as_unit("ns")
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.015, days)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    spread = np.abs(rng.normal(0, 0.004, days)) * close
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.integers(1_000, 1_000_000, days).astype("float64"),
        },
        index=pd.DatetimeIndex(index, name="date"),
    )


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def bench_import(folder: Path, symbols: int, days: int) -> None:
    data = {f"S{i:04d}": synthetic_bars(i, days) for i in range(symbols)}
    rows = sum(len(f) for f in data.values())
    store_path = folder / "bulk.duckdb"
    parquet_dir = folder / "parquet"
    parquet_dir.mkdir()

    def to_store() -> None:
        with Store(store_path) as store:
            for symbol, bars in data.items():
                store.write_bars("bench", symbol, "1d", bars)

    def to_parquet() -> None:
        for symbol, bars in data.items():
            pq.write_table(
                pa.Table.from_pandas(bars, preserve_index=True), parquet_dir / f"{symbol}.parquet"
            )

    t_store = timed(to_store)
    t_parquet = timed(to_parquet)
    size_store = store_path.stat().st_size
    size_parquet = sum(p.stat().st_size for p in parquet_dir.iterdir())
    print(f"import of {symbols:,} symbols x {days:,} daily bars ({rows:,} rows)")
    print(f"  store   {t_store:8.2f} s  ({rows / t_store:,.0f} rows/s, {size_store / 1e6:,.1f} MB)")
    print(
        f"  parquet {t_parquet:8.2f} s  ({rows / t_parquet:,.0f} rows/s, {size_parquet / 1e6:,.1f} MB)"
    )
    print(f"  ratio store/parquet: {t_store / t_parquet:.2f}")

    pair = ("S0001", f"S{symbols - 1:04d}")

    def read_store() -> None:
        with Store(store_path, read_only=True) as store:
            for symbol in pair:
                store.read_bars(symbol)

    def read_parquet() -> None:
        for symbol in pair:
            pq.read_table(parquet_dir / f"{symbol}.parquet").to_pandas()

    r_store = statistics.median(timed(read_store) for _ in range(7))
    r_parquet = statistics.median(timed(read_parquet) for _ in range(7))
    with Store(store_path, read_only=True) as store:
        r_open = statistics.median(
            timed(lambda: [store.read_bars(symbol) for symbol in pair]) for _ in range(7)
        )
    print("read-back of one pair (median of 7)")
    print(f"  store   {r_store * 1e3:8.2f} ms  (opening the file included)")
    print(f"  store   {r_open * 1e3:8.2f} ms  (already open)")
    print(f"  parquet {r_parquet * 1e3:8.2f} ms")
    print(f"  ratio store/parquet: {r_store / r_parquet:.2f}")

    with Store(store_path) as store:
        refresh = _refresh_times(store, "S0002", data["S0002"], 20)
    print(
        f"incremental refresh inside the {symbols:,}-symbol store: "
        f"{refresh * 1e3:.2f} ms per new day (median)"
    )


def _refresh_times(store: Store, symbol: str, history: pd.DataFrame, repeats: int) -> float:
    """Median time of adding one new bar (plus the last stored bar again)."""
    times = []
    last = history.iloc[[-1]]
    for step in range(1, repeats + 1):
        new = last.copy()
        new.index = pd.DatetimeIndex([history.index[-1] + pd.Timedelta(days=step)], name="date")
        batch = pd.concat([last, new])
        start = time.perf_counter()
        store.write_bars("bench", symbol, "1d", batch)
        times.append(time.perf_counter() - start)
        last = new
    return statistics.median(times)


def bench_refresh(folder: Path, repeats: int) -> None:
    print("incremental refresh: one new day on a symbol with 1 and 10 years stored")
    results = {}
    for years in (1, 10):
        history = synthetic_bars(7, 252 * years, end="2015-12-31")
        path = folder / f"refresh_{years}.duckdb"
        with Store(path) as store:
            store.write_bars("bench", "X", "1d", history)
            results[years] = _refresh_times(store, "X", history, repeats)
        parquet = folder / f"refresh_{years}.parquet"
        pq.write_table(pa.Table.from_pandas(history), parquet)

        def rewrite(parquet: Path = parquet, history: pd.DataFrame = history) -> None:
            old = pq.read_table(parquet).to_pandas()
            extra = history.iloc[[-1]].copy()
            extra.index = extra.index + pd.Timedelta(days=1)
            pq.write_table(pa.Table.from_pandas(pd.concat([old, extra])), parquet)

        rewrite_time = statistics.median(timed(rewrite) for _ in range(repeats))
        print(
            f"  {years:2d} year(s), {len(history):5,} rows: store {results[years] * 1e3:7.2f} ms"
            f"   (parquet read+rewrite {rewrite_time * 1e3:7.2f} ms)"
        )
    print(f"  ratio 10y/1y: {results[10] / results[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=1000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="comove-bench-store-"))
    try:
        bench_refresh(folder, args.repeats)
        bench_import(folder, args.symbols, 252 * args.years)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
