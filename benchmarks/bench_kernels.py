"""Rolling co-moment kernels against pandas and polars, in one process, printing ratios.

Run: ``python benchmarks/bench_kernels.py`` (needs the ``fast`` extra and polars).

(a) Whole rolling series of a panel: K = 1,000 series x n = 2,520 sessions against one
    benchmark, windows 30/60/90. comove computes correlation AND beta
    (``panel_corr_beta``); pandas (``DataFrame.rolling(w).corr(Series)``) and polars
    (``pl.rolling_corr`` expressions) compute correlation only. Also printed: the
    multiple of the memory-traffic floor, with the machine's bandwidth measured here by a
    large numpy copy. (The scan targets are for the whole scan: ``bench_scan.py``.)
(b) One pair, n = 5,000,000 price levels: ``comove.rolling_corr`` vs pandas, and the
    largest error of comove, pandas and a naive cumulative-sum method against an exact
    two-pass (``math.fsum``) computed on sampled windows.
(c) Streaming: ns per ``RollingCorrelation.update`` called from Python (next to an empty
    Python function call, for scale) and per bar in ``update_many``.
(d) numba's first-run compile cost (a subprocess with an empty ``NUMBA_CACHE_DIR``) and
    the cost of the same run with the cache warm.

Times are the best of several runs (the machine may be shared), after a warm-up run.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import comove
from comove.analytics.rolling import panel_corr_beta
from comove.analytics.streaming import RollingCorrelation

K, N = 1_000, 2_520
WINDOWS = (30, 60, 90)


def best(func: Callable[[], Any], repeats: int = 5) -> float:
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def bandwidth() -> float:
    """Bytes per second of a large copy (read + write counted)."""
    src = np.random.default_rng(0).random(32_000_000)  # 256 MB
    dst = np.empty_like(src)
    seconds = best(lambda: np.copyto(dst, src), 5)
    return 2 * src.nbytes / seconds


def scan() -> None:
    import polars as pl

    rng = np.random.default_rng(1)
    bench = rng.normal(0, 0.01, N)
    frame = pd.DataFrame(
        0.4 * bench[:, None] + rng.normal(0, 0.01, (N, K)),
        columns=[f"s{j}" for j in range(K)],
    )
    panel = frame.to_numpy()  # (n, K), column-major: what DataFrame.to_numpy() gives
    bench_series = pd.Series(bench)
    pl_frame = pl.from_pandas(frame).with_columns(pl.Series("bench", bench))
    names = list(frame.columns)
    bw = bandwidth()
    print(f"(a) universe scan, K={K} x n={N}; copy bandwidth {bw / 1e9:.1f} GB/s")
    totals = {"comove": 0.0, "pandas": 0.0, "polars": 0.0}
    for w in WINDOWS:

        def run_comove(w: int = w) -> tuple[np.ndarray, np.ndarray]:
            return panel_corr_beta(panel, bench, w)

        def run_pandas(w: int = w) -> pd.DataFrame:
            return frame.rolling(w).corr(bench_series)

        t_comove = best(run_comove, 7)
        t_pandas = best(run_pandas, 3)

        def run_polars(w: int = w) -> pl.DataFrame:
            return pl_frame.select(
                [pl.rolling_corr(pl.col(c), pl.col("bench"), window_size=w) for c in names]
            )

        t_polars = best(run_polars, 3)
        corr, _ = panel_corr_beta(panel, bench, w)
        diff = np.nanmax(np.abs(corr - frame.rolling(w).corr(bench_series).to_numpy()))
        in_bytes = panel.nbytes + bench.nbytes
        floor_corr = (in_bytes + panel.nbytes) / bw  # bw counts bytes read + written
        floor_both = (in_bytes + 2 * panel.nbytes) / bw
        totals["comove"] += t_comove
        totals["pandas"] += t_pandas
        totals["polars"] += t_polars
        print(
            f"  w={w}: comove {t_comove * 1e3:6.1f} ms (corr+beta) | pandas {t_pandas * 1e3:6.1f} ms"
            f" ({t_pandas / t_comove:5.1f}x) | polars {t_polars * 1e3:6.1f} ms"
            f" ({t_polars / t_comove:5.1f}x) | memory floor {floor_corr * 1e3:.1f} ms corr-only,"
            f" {floor_both * 1e3:.1f} ms corr+beta -> comove at {t_comove / floor_both:.1f}x"
            f" the floor | max |comove - pandas| {diff:.1e}"
        )
    print(
        f"  all three windows: comove {totals['comove'] * 1e3:.1f} ms, "
        f"{totals['pandas'] / totals['comove']:.1f}x faster than pandas, "
        f"{totals['polars'] / totals['comove']:.1f}x faster than polars "
        "(whole series; the scan targets 40x / 12x are measured by bench_scan.py)"
    )


def _exact_corr(a: np.ndarray, b: np.ndarray) -> float:
    ma, mb = math.fsum(a) / len(a), math.fsum(b) / len(b)
    da, db = a - ma, b - mb
    return math.fsum(da * db) / math.sqrt(math.fsum(da * da) * math.fsum(db * db))


def _naive_corr(x: np.ndarray, y: np.ndarray, w: int) -> np.ndarray:
    def window_sum(v: np.ndarray) -> np.ndarray:
        c = np.concatenate(([0.0], np.cumsum(v)))
        return c[w:] - c[:-w]

    sx, sy = window_sum(x), window_sum(y)
    sxx, syy, sxy = window_sum(x * x), window_sum(y * y), window_sum(x * y)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (w * sxy - sx * sy) / np.sqrt((w * sxx - sx * sx) * (w * syy - sy * sy))
    return np.concatenate((np.full(w - 1, np.nan), r))


def one_pair() -> None:
    n, w = 5_000_000, 60
    rng = np.random.default_rng(2)
    steps = rng.normal(0, 3e-4, (n, 2))
    px = pd.Series(3000.0 * np.exp(np.cumsum(steps[:, 0])))
    py = pd.Series(2000.0 * np.exp(np.cumsum(0.6 * steps[:, 0] + 0.8 * steps[:, 1])))
    t_comove = best(lambda: comove.rolling_corr(px, py, w), 3)
    t_pandas = best(lambda: px.rolling(w).corr(py), 3)
    ours = comove.rolling_corr(px, py, w).to_numpy()
    theirs = px.rolling(w).corr(py).to_numpy()
    naive = _naive_corr(px.to_numpy(), py.to_numpy(), w)
    ends = np.sort(rng.choice(np.arange(w - 1, n), 3000, replace=False))
    ends = np.concatenate((ends, np.arange(n - 500, n)))  # the far end, where drift piles up
    x, y = px.to_numpy(), py.to_numpy()
    exact = np.array([_exact_corr(x[t - w + 1 : t + 1], y[t - w + 1 : t + 1]) for t in ends])
    print(f"(b) one pair, n={n:,} price levels, w={w}")
    print(
        f"  comove {t_comove * 1e3:.0f} ms | pandas {t_pandas * 1e3:.0f} ms "
        f"({t_pandas / t_comove:.1f}x faster, target >= 4x)"
    )
    for name, values in (("comove", ours), ("pandas", theirs), ("naive cumsum", naive)):
        print(
            f"  max |error| vs exact two-pass on {len(ends)} windows: {name:12s} "
            f"{np.nanmax(np.abs(values[ends] - exact)):.1e}"
        )


def streaming() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    xs, ys = rng.normal(size=n), rng.normal(size=n)
    xl, yl = xs.tolist(), ys.tolist()

    def per_update() -> None:
        update = RollingCorrelation(60).update
        for a, b in zip(xl, yl, strict=True):
            update(a, b)

    def empty(a: float, b: float) -> float:
        return a

    def per_call() -> None:
        for a, b in zip(xl, yl, strict=True):
            empty(a, b)

    t_update = best(per_update, 3) / n
    t_call = best(per_call, 3) / n
    t_many = best(lambda: RollingCorrelation(60).update_many(xs, ys), 5) / n
    print("(c) streaming, window 60")
    print(
        f"  update from Python: {t_update * 1e9:.0f} ns (target <= 1000; an empty Python "
        f"function call costs {t_call * 1e9:.0f} ns here) | update_many: {t_many * 1e9:.1f} ns "
        "per bar (target <= 50)"
    )


COMPILE_RUN = textwrap.dedent(
    """
    import json
    import time
    start = time.perf_counter()
    import numpy as np
    import pandas as pd
    from comove.analytics import rolling, scan, streaming
    from comove.analytics.momentum import macd, rsi
    steps = {"imports": time.perf_counter() - start}

    def step(name, func):
        begin = time.perf_counter()
        func()
        steps[name] = time.perf_counter() - begin

    x = np.random.default_rng(0).normal(size=(300, 4))
    close = pd.Series(100 + np.cumsum(np.random.default_rng(1).normal(size=200_000)))
    ends = np.full(3, 299)
    step("panel", lambda: rolling.panel_corr_beta(x[:, :3], x[:, 3], 30, engine="numba"))
    step("pair", lambda: rolling.rolling_stats(x[:, 0], x[:, 1], 30, None, ("corr", "beta"), engine="numba"))
    step("stream", lambda: streaming.RollingCorrelation(30).update_many(x[:, 0], x[:, 1]))
    step("rsi+macd", lambda: (rsi(close), macd(close)))
    step("scan", lambda: scan.scan_statistics(
        np.asfortranarray(x[:, :3]), x[:, 3], np.zeros(3, dtype=np.int64), ends, (20, 30), 30,
        threshold=0.5, span=100, max_lag=5,
    ))
    steps["total"] = time.perf_counter() - start
    print(json.dumps(steps))
    """
)


def compile_cost() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        runs = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", COMPILE_RUN],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    numba_import = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time; s=time.perf_counter(); import numba; print(time.perf_counter()-s)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    first, cached = runs
    print("(d) numba: import + compile every kernel + first calls, in a fresh process")
    print(
        f"  first run (empty cache): {first['total']:.1f} s | cached run: {cached['total']:.2f} s"
        f" | import numba alone: {float(numba_import.stdout):.2f} s"
    )
    parts = ", ".join(
        f"{name} {first[name]:.1f} s / {cached[name]:.2f} s"
        for name in ("panel", "pair", "stream", "rsi+macd", "scan")
    )
    print(f"  first call of each kernel, empty / warm cache: {parts}")


def main() -> None:
    import comove.analytics._numba.rolling  # noqa: F401  (compile or load the kernels first)

    scan()
    one_pair()
    streaming()
    compile_cost()


if __name__ == "__main__":
    main()
