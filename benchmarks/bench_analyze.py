"""analyze() on the real ETH / Russell 2000 history vs a straightforward pandas-only version.

comove's table has more than the pandas version computes: the signal columns (with their
hysteresis and checklists) come on top of correlation, beta and momentum, so the script
also times ``analyze`` without the signal stage to compare like with like.

Run: ``python benchmarks/bench_analyze.py`` (reads ``COMOVE_DATA_DIR``, default
``../shared/data`` next to the checkout). Prints the median time of each and their ratio,
and checks that both computed the same correlations. Warm-up runs come first, so the
one-off costs (building the exchange calendar, importing scipy) are left out of both.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import comove
from comove.signals.rules import evaluate_signals

WINDOWS = (30, 60, 90)
REPEATS = 15


def pandas_only(eth: pd.DataFrame, rut: pd.DataFrame) -> pd.DataFrame:
    """The same columns the way a pandas user would write them, without comove."""
    out = pd.concat(
        {"crypto_close": eth["close"], "equity_close": rut["close"]}, axis=1, join="inner"
    )
    out["crypto_ret"] = np.log(out["crypto_close"]).diff()
    out["equity_ret"] = np.log(out["equity_close"]).diff()
    out["crypto_norm"] = out["crypto_close"] / out["crypto_close"].iloc[0] * 100
    out["equity_norm"] = out["equity_close"] / out["equity_close"].iloc[0] * 100
    z = 1.959963984540054
    for w in WINDOWS:
        corr = out["crypto_ret"].rolling(w).corr(out["equity_ret"])
        half = z / np.sqrt(w - 3)
        out[f"corr_{w}"] = corr
        out[f"corr_{w}_lo"] = np.tanh(np.arctanh(corr) - half)
        out[f"corr_{w}_hi"] = np.tanh(np.arctanh(corr) + half)
        out[f"beta_{w}"] = (
            out["crypto_ret"].rolling(w).cov(out["equity_ret"]) / out["equity_ret"].rolling(w).var()
        )
    for label, bars in (("crypto", eth), ("equity", rut)):
        close = bars["close"]
        delta = close.diff()
        gain = delta.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
        loss = (-delta.clip(upper=0)).ewm(alpha=1 / 14, adjust=False).mean()
        line = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
        signal = line.ewm(span=9, adjust=False).mean()
        own = pd.DataFrame(
            {
                f"rsi_{label}": 100 - 100 / (1 + gain / loss),
                f"macd_{label}": line,
                f"macd_signal_{label}": signal,
                f"macd_hist_{label}": line - signal,
                f"relvol_{label}": bars["volume"] / bars["volume"].rolling(20).mean().shift(1),
            }
        )
        out = out.join(own, how="left")
    return out


def timed(function: Callable[[], object]) -> float:
    function()  # warm-up
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    data = Path(os.environ.get("COMOVE_DATA_DIR", default))
    eth = comove.read_bars(data / "prices" / "ETH-USD.csv", drop_incomplete=True)
    rut = comove.read_bars(data / "prices" / "RUT.csv", drop_incomplete=True)
    ours = comove.analyze(eth, rut, WINDOWS)
    theirs = pandas_only(eth, rut)
    worst = max(
        float(np.nanmax(np.abs(ours[f"corr_{w}"] - theirs[f"corr_{w}"].reindex(ours.index))))
        for w in WINDOWS
    )
    t_comove = timed(lambda: comove.analyze(eth, rut, WINDOWS))
    t_signals = timed(lambda: evaluate_signals(ours))
    t_pandas = timed(lambda: pandas_only(eth, rut))
    t_core = t_comove - t_signals
    print(f"ETH/RUT analysis table, {len(ours)} sessions, windows {WINDOWS}, median of {REPEATS}")
    print(f"  comove.analyze   {t_comove * 1e3:8.2f} ms  (all columns, signals included)")
    print(
        f"    signal stage   {t_signals * 1e3:8.2f} ms  (hysteresis, checklists; pandas has no equivalent)"
    )
    print(
        f"    without it     {t_core * 1e3:8.2f} ms  (exact per-window correlation, Wilder RSI, calendar alignment)"
    )
    print(
        f"  pandas only      {t_pandas * 1e3:8.2f} ms  (running-sum rolling corr, ewm-seeded RSI/MACD, no calendar)"
    )
    print(f"  ratio pandas/comove, like for like (without signals) = {t_pandas / t_core:.2f}x")
    print(f"  ratio pandas/comove, whole table = {t_pandas / t_comove:.2f}x")
    print(f"  largest correlation difference between the two: {worst:.2e}")


if __name__ == "__main__":
    main()
