"""RSI(14) and MACD(12, 26, 9) on 1,000,000 bars: comove vs TA-Lib, in one process.

Run: ``python benchmarks/bench_momentum.py`` (needs TA-Lib, the ``talib`` module). The
MACD reference is three ``talib.EMA`` calls (EMA12 - EMA26, then EMA9 of the line): that
is the textbook convention comove follows; TA-Lib's own ``MACD`` seeds differently.
Both sides include their conversions (comove takes and returns pandas). Times are the
best of several runs after a warm-up; the target is no slower than 1.5x TA-Lib.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import talib

from comove.analytics.momentum import macd, rsi

N = 1_000_000


def best(func: Callable[[], Any], repeats: int = 9) -> float:
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def talib_macd(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    line = talib.EMA(values, 12) - talib.EMA(values, 26)
    signal = np.full(len(values), np.nan)
    signal[25:] = talib.EMA(line[25:], 9)
    return line, signal, line - signal


def main() -> None:
    rng = np.random.default_rng(0)
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.001, N))))
    values = close.to_numpy()
    t_rsi, t_rsi_ta = best(lambda: rsi(close)), best(lambda: talib.RSI(values, 14))
    t_macd, t_macd_ta = best(lambda: macd(close)), best(lambda: talib_macd(values))
    rsi_diff = np.nanmax(np.abs(rsi(close).to_numpy() - talib.RSI(values, 14)))
    macd_diff = np.nanmax(np.abs(macd(close)["signal"].to_numpy() - talib_macd(values)[1]))
    print(
        f"RSI(14), {N:,} bars: comove {t_rsi * 1e3:.2f} ms | TA-Lib {t_rsi_ta * 1e3:.2f} ms"
        f" | ratio {t_rsi / t_rsi_ta:.2f}x (target <= 1.5x) | max |diff| {rsi_diff:.1e}"
    )
    print(
        f"MACD(12,26,9), {N:,} bars: comove {t_macd * 1e3:.2f} ms | TA-Lib (3 EMA calls)"
        f" {t_macd_ta * 1e3:.2f} ms | ratio {t_macd / t_macd_ta:.2f}x (target <= 1.5x)"
        f" | max |diff| of the signal {macd_diff:.1e}"
    )


if __name__ == "__main__":
    main()
