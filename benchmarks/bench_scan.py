"""The universe scan computation vs pandas and polars, the memory floor, and peak RSS.

Run: ``python benchmarks/bench_scan.py [K] [N]`` (default K = 1,000 assets, N = 2,520
sessions, windows 30/60/90). A seeded synthetic universe (``comove.scan.generate_universe``,
70% crypto on every calendar day, 30% equities on XNYS sessions, 10% of crypto listed
late) is put on the benchmark's sessions once; then, on the same aligned close panel:

comove scan
    :func:`comove.scan.engine.scan_closes`: log returns, then one compiled pass per asset
    (``scan_statistics``): the main window's (60) rolling correlation, rolled through the
    whole history without being stored (it gives the run on the current side of 0.5 and
    the change flag); the latest window of every window with its beta (a scan shows
    nothing else of them); the best lead-lag over the last 250 sessions (21 lags); then
    Fisher bands — everything a scan row holds.
comove kernel only
    The whole rolling correlation and beta series for all three windows
    (``panel_corr_beta``): the same output as pandas and polars below.
pandas
    ``ret.rolling(w).corr(bench)`` and beta as ``ret.rolling(w).cov(bench) /
    bench.rolling(w).var()`` for each window (correlation and beta only: less work).
polars
    ``pl.rolling_corr`` and ``pl.rolling_cov / rolling_var`` expressions, one frame, all
    columns and windows in one ``select`` (multi-threaded), from the return panel.

The memory-traffic floor is the time to read the return panel once and write the
correlation and beta series of every window once (what pandas and polars produce), at
the bandwidth measured here by a large ``numpy.copyto``. Peak RSS is measured by the OS
(``VmHWM`` in ``/proc/self/status``, reset through ``clear_refs`` after a warm-up scan) in
a child process that loads the close panel from disk and runs the scan; the peak above the
process holding its input, plus the input, is compared with the input plus the outputs.
(``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is not used: on Linux a child forked from this
large parent inherits the parent's high-water mark, so it would report the parent.)
Timings are the best of several runs after a warm-up run (compilation and imports
excluded), for every side alike: on a shared 2-core machine the best run is the one least
disturbed by other processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

WINDOWS = (30, 60, 90)
REPEATS = 7


def best_time(func: Callable[[], object], repeats: int = REPEATS) -> float:
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def bandwidth() -> float:
    """Bytes per second of a large copy (each byte read once and written once)."""
    src = np.ones(50_000_000)
    dst = np.empty_like(src)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - start)
    best = min(times)
    return 2 * src.nbytes / best


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return -1


def child(panel_file: str, bench_file: str) -> None:
    """Run in a subprocess: peak RSS of the scan above the process holding its input."""
    from comove.scan.engine import ScanConfig, scan_closes
    from comove.scan.universe import Benchmark

    stored = np.load(bench_file)
    bench = Benchmark("BENCH", "bench", pd.DatetimeIndex(stored["dates"]), stored["close"])
    config = ScanConfig(windows=WINDOWS)
    start = _status("VmRSS")
    closes = np.load(panel_file)
    scan_closes(closes, bench, config)  # imports and compilation are start-up, not the scan
    baseline = _status("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    scanned = scan_closes(closes, bench, config)
    outputs = sum(v.nbytes for v in scanned.stats.values()) + 3 * scanned.counts.nbytes
    print(
        json.dumps(
            {
                "start": start,
                "baseline": baseline,
                "peak": _status("VmHWM"),
                "reset": reset,
                "input": closes.nbytes + bench.close.nbytes,
                "outputs": outputs,
            }
        )
    )


def main(k: int, n: int) -> None:
    import polars as pl

    from comove.analytics import rolling
    from comove.analytics.scan import corr_beta
    from comove.scan.engine import ScanConfig, scan_closes
    from comove.scan.synthetic import generate_universe
    from comove.scan.universe import aligned_closes, log_return_panel, prepare_benchmark

    print(f"K = {k:,} assets, n = {n:,} sessions, windows {WINDOWS}, {os.cpu_count()} CPUs")
    frames, bench_bars = generate_universe(k, n, seed=1)
    assert all(isinstance(f, pd.DataFrame) for f in frames.values())
    bench = prepare_benchmark(bench_bars)
    closes = aligned_closes([f["close"] for f in frames.values()], bench.dates)
    returns = log_return_panel(closes)
    bench_ret = bench.log_returns
    config = ScanConfig(windows=WINDOWS)
    print(
        f"kernel: comove.analytics.rolling.panel_corr_beta (numba available: {rolling.use_compiled(n * k, 'auto')})"
    )

    def comove_scan() -> object:
        return scan_closes(closes, bench, config)

    def comove_kernel() -> object:
        return [corr_beta(returns, bench_ret, w) for w in WINDOWS]

    frame = pd.DataFrame(returns, index=bench.dates)
    series = pd.Series(bench_ret, index=bench.dates)

    def pandas_way() -> object:
        out = []
        for w in WINDOWS:
            corr = frame.rolling(w).corr(series)
            beta = frame.rolling(w).cov(series).div(series.rolling(w).var(), axis=0)
            out.append((corr, beta))
        return out

    pl_frame = pl.DataFrame({**{f"a{j}": returns[:, j] for j in range(k)}, "bench": bench_ret})
    names = [f"a{j}" for j in range(k)]

    def polars_way() -> object:
        exprs = []
        for w in WINDOWS:
            var = pl.col("bench").rolling_var(window_size=w)
            for c in names:
                exprs.append(pl.rolling_corr(c, "bench", window_size=w).alias(f"c{w}_{c}"))
                exprs.append((pl.rolling_cov(c, "bench", window_size=w) / var).alias(f"b{w}_{c}"))
        return pl_frame.select(exprs)

    # Same numbers? Latest 60-session correlation of the fully populated columns.
    scanned = scan_closes(closes, bench, config)
    full = np.isfinite(returns[1:]).all(axis=0)
    pandas_last = frame.rolling(60).corr(series).iloc[-1].to_numpy()
    polars_last = np.array(
        [
            pl_frame.select(pl.rolling_corr(c, "bench", window_size=60)).to_series()[-1]
            for c in names[:50]
        ]
    )
    ours = scanned.stats["corr_60"]
    print(
        f"max |comove - pandas| latest corr_60: {np.nanmax(np.abs(ours[full] - pandas_last[full])):.1e}; "
        f"|comove - polars| (50 columns): {np.nanmax(np.abs(ours[:50][full[:50]] - polars_last[full[:50]])):.1e}"
    )

    t_scan = best_time(comove_scan)
    t_kernel = best_time(comove_kernel)
    t_pandas = best_time(pandas_way, 3)
    t_polars = best_time(polars_way, 3)
    print()
    print(f"{'comove scan (all statistics)':<34}{t_scan * 1e3:9.1f} ms")
    print(f"{'comove kernel (corr + beta only)':<34}{t_kernel * 1e3:9.1f} ms")
    print(f"{'pandas (corr + beta)':<34}{t_pandas * 1e3:9.1f} ms")
    print(f"{'polars (corr + beta)':<34}{t_polars * 1e3:9.1f} ms")
    print()
    print(f"scan vs pandas:   {t_pandas / t_scan:6.1f}x   (target >= 40x)")
    print(f"scan vs polars:   {t_polars / t_scan:6.1f}x   (target >= 12x)")
    print(
        f"kernel vs pandas: {t_pandas / t_kernel:6.1f}x;  kernel vs polars: {t_polars / t_kernel:6.1f}x"
    )

    rate = bandwidth()
    traffic = returns.nbytes + bench_ret.nbytes + 2 * len(WINDOWS) * returns.nbytes
    floor = traffic / rate
    print()
    print(
        f"bandwidth {rate / 1e9:.1f} GB/s (numpy copy); floor = read the panel once + write "
        f"corr and beta for {len(WINDOWS)} windows once = {traffic / 1e6:.0f} MB -> {floor * 1e3:.2f} ms"
    )
    print(f"scan = {t_scan / floor:.1f}x that floor; kernel = {t_kernel / floor:.1f}x that floor")
    own = closes.nbytes + bench.close.nbytes  # it writes only the rows of the table
    print(
        f"the scan's own floor (read the close panel once) = {own / 1e6:.0f} MB -> "
        f"{own / rate * 1e3:.2f} ms; scan = {t_scan / (own / rate):.1f}x it"
    )
    print(
        f"per series: scan {t_scan / k * 1e6:.1f} us, kernel {t_kernel / k / len(WINDOWS) * 1e6:.1f} us per window"
    )

    with tempfile.TemporaryDirectory() as tmp:
        panel_file = str(Path(tmp) / "closes.npy")
        bench_file = str(Path(tmp) / "bench.npz")
        np.save(panel_file, np.asfortranarray(closes))
        np.savez(bench_file, dates=bench.dates.to_numpy(), close=bench.close)
        run = subprocess.run(
            [sys.executable, __file__, "--child", panel_file, bench_file],
            capture_output=True,
            text=True,
            check=True,
        )
    info = json.loads(run.stdout.strip().splitlines()[-1])
    data = info["input"] + info["outputs"]
    extra = info["peak"] - info["baseline"]
    print()
    print(
        f"scan memory (child process, VmHWM reset after warm-up: {info['reset']}): input panel "
        f"{info['input'] / 1e6:.1f} MB + outputs {info['outputs'] / 1e6:.2f} MB = {data / 1e6:.1f} MB"
    )
    print(
        f"  peak RSS above the process holding the input: {extra / 1e6:.1f} MB, so the scan's "
        f"data peak = {(info['input'] + extra) / 1e6:.1f} MB = {(info['input'] + extra) / data:.2f}x "
        "input+outputs (target <= 2x)"
    )
    print(
        f"  absolute peak {info['peak'] / 1e6:.0f} MB, of which {info['start'] / 1e6:.0f} MB is the "
        "interpreter with numpy/pandas/comove before any data, and numba once compiled"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        args = [int(a) for a in sys.argv[1:3]]
        main(*(args + [1000, 2520][len(args) :]))
