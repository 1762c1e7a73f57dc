"""The Dask engine against the in-process engine: 1 vs 2 workers, small and larger K.

Run: ``python benchmarks/bench_dask.py [SMALL_K] [LARGE_K] [N]`` (default 24 and 600
assets, 2,520 sessions). A seeded synthetic universe is written as one CSV file per asset
(what users have); each run reads the files and scans them (windows 30/60/90, lead-lag,
flags) end to end, as ``comove scan FOLDER --benchmark csv:BENCH.csv`` does.

For each K: the local engine; then a ``LocalCluster`` of 1 and of 2 single-threaded
worker processes: its start-up time, the first run on fresh workers (imports, numba cache
load) and a second, warm run. Every Dask result is checked to be identical (bit for bit)
to the local engine's. Nothing is hidden: at small K the cluster's start-up and per-task
costs dominate and Dask loses; at larger K reading and parsing CSV files (GIL-bound
pandas work) spreads over worker processes, which a single process cannot do.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

from comove.data.bars import read_bars
from comove.scan.engine import ScanConfig, run_scan
from comove.scan.synthetic import generate_universe
from comove.scan.universe import expand_sources, prepare_benchmark


def timed(func):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def bench_one(k: int, n: int, root: Path) -> None:
    folder = root / f"universe-{k}"
    (_, bench_bars), t_write = timed(
        lambda: generate_universe(k, n, seed=3, folder=folder, file_format="csv")
    )
    bench = prepare_benchmark(read_bars(root / f"universe-{k}-BENCH.csv"), name="BENCH")
    sources = expand_sources([str(folder)]).sources
    config = ScanConfig()
    blocks = -(-k // config.blocks_of(k))
    print(
        f"\nK = {k} assets x n = {n} sessions ({len(bench_bars)} benchmark rows), "
        f"{blocks} blocks of {config.blocks_of(k)}; files written in {t_write:.1f} s"
    )
    run_scan(sources, [bench], config)  # warm-up: imports and numba's cache load untimed
    local, t_local = timed(lambda: run_scan(sources, [bench], config))
    print(f"  {'local engine (in process)':<44}{t_local:8.2f} s")

    from distributed import LocalCluster

    for workers in (1, 2):
        (cluster, t_start) = timed(
            lambda w=workers: LocalCluster(
                n_workers=w, threads_per_worker=1, processes=True, dashboard_address=None
            )
        )
        try:
            address = cluster.scheduler_address
            cold, t_cold = timed(
                lambda a=address: run_scan(sources, [bench], config, engine="dask", scheduler=a)
            )
            warm, t_warm = timed(
                lambda a=address: run_scan(sources, [bench], config, engine="dask", scheduler=a)
            )
        finally:
            cluster.close()
        for result in (cold, warm):
            pd.testing.assert_frame_equal(local.table, result.table, check_exact=True)
        total = t_start + t_cold
        print(
            f"  dask, {workers} worker{'s' if workers > 1 else ' '}: start-up {t_start:5.2f} s, "
            f"first run {t_cold:6.2f} s, warm run {t_warm:6.2f} s | end to end "
            f"{total:6.2f} s = {total / t_local:5.2f}x local; warm = {t_warm / t_local:5.2f}x local"
        )
    print("  results identical to the local engine: yes")


def main(small: int, large: int, n: int) -> None:
    logging.getLogger("distributed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="distributed")
    import os

    print(f"{os.cpu_count()} CPUs; times are wall-clock seconds (lower is better)")
    with tempfile.TemporaryDirectory() as tmp:
        for k in (small, large):
            bench_one(k, n, Path(tmp))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    main(*(args + [24, 600, 2520][len(args) :]))
