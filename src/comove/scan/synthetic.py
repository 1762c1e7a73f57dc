"""A seeded, realistic synthetic universe for scan tests and benchmarks (labelled synthetic).

``k`` assets against one benchmark index over ``n`` XNYS sessions. Crypto assets trade
every calendar day, equities on XNYS sessions. Each asset's session return loads on the
benchmark's shock with a correlation that drifts through regimes (a smooth latent path
pushed through a logistic, so some assets cross 0.5 and back), scaled by its own
volatility, so betas vary widely. Shocks are Student-t (fat tails) with slow volatility
clustering; some crypto assets list late. Everything is vectorised over assets, so a
universe of thousands is generated in seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, overload

import numpy as np
import pandas as pd

from comove.data.bars import BAR_COLUMNS
from comove.data.calendar import sessions as calendar_sessions
from comove.errors import ConfigError

FileFormat = Literal["csv", "parquet"]
_BENCH_VOL = 0.22 / np.sqrt(252.0)


def _t(rng: np.random.Generator, df: float, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(rng.standard_t(df, shape) / np.sqrt(df / (df - 2.0)), -10.0, 10.0)


def _smooth_paths(rng: np.random.Generator, n: int, k: int, phi: float) -> np.ndarray:
    """``k`` unit-variance AR(1) paths of length ``n`` (vectorised over assets)."""
    noise = rng.normal(0.0, np.sqrt(1.0 - phi**2), (n, k))
    out = np.empty((n, k))
    level = rng.normal(0.0, 1.0, k)
    for i in range(n):
        level = phi * level + noise[i]
        out[i] = level
    return out


def _bars(
    rng: np.random.Generator, index: pd.DatetimeIndex, log_ret: np.ndarray, start: float
) -> pd.DataFrame:
    close = start * np.exp(np.cumsum(log_ret))
    previous = np.concatenate(([start], close[:-1]))
    scale = np.std(log_ret) if len(log_ret) > 1 else 0.01
    high = np.maximum(previous, close) * np.exp(np.abs(rng.normal(0.0, 0.4 * scale, len(close))))
    low = np.minimum(previous, close) * np.exp(-np.abs(rng.normal(0.0, 0.4 * scale, len(close))))
    volume = 1e6 * np.exp(rng.normal(0.0, 0.4, len(close)))
    columns = dict(zip(BAR_COLUMNS, (previous, high, low, close, volume), strict=True))
    return pd.DataFrame(columns, index=pd.DatetimeIndex(index, name="date").as_unit("ns"))


def _attrs(frame: pd.DataFrame, name: str, is_24_7: bool) -> pd.DataFrame:
    frame.attrs = {
        "name": name,
        "source": f"synthetic:{name}",
        "price_column": "close",
        "interval": "1d",
        "is_24_7": is_24_7,
        "dropped_incomplete": None,
        "synthetic": True,
    }
    return frame


@overload
def generate_universe(
    k: int,
    n: int,
    *,
    seed: int,
    crypto_share: float = ...,
    start: str = ...,
    folder: None = ...,
    file_format: FileFormat = ...,
    late_listing_share: float = ...,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]: ...
@overload
def generate_universe(
    k: int,
    n: int,
    *,
    seed: int,
    crypto_share: float = ...,
    start: str = ...,
    folder: str | Path,
    file_format: FileFormat = ...,
    late_listing_share: float = ...,
) -> tuple[dict[str, Path], pd.DataFrame]: ...
def generate_universe(
    k: int,
    n: int,
    *,
    seed: int,
    crypto_share: float = 0.7,
    start: str = "2015-01-02",
    folder: str | Path | None = None,
    file_format: FileFormat = "csv",
    late_listing_share: float = 0.1,
) -> tuple[dict[str, pd.DataFrame] | dict[str, Path], pd.DataFrame]:
    """A synthetic universe of ``k`` assets over ``n`` benchmark sessions.

    Parameters
    ----------
    k, n
        Number of assets, and of XNYS sessions of the benchmark (the last ``n`` sessions
        from ``start``).
    seed
        The same seed always gives the same universe.
    crypto_share
        Share of assets that trade every calendar day; the rest trade on XNYS sessions.
    folder
        When given, each asset is written there as ``NAME.csv`` (or ``.parquet``) and the
        mapping holds the paths; the benchmark is written as ``BENCH.<ext>`` too.
    late_listing_share
        Share of crypto assets that start part-way through (short histories).

    Returns
    -------
    tuple
        ``({name: bars or path}, benchmark_bars)``; every frame has ``attrs["synthetic"]``.
    """
    if k < 1 or n < 3 or not 0.0 <= crypto_share <= 1.0:
        raise ConfigError(
            f"generate_universe needs k >= 1, n >= 3, 0 <= crypto_share <= 1: {k}, {n}"
        )
    first = pd.Timestamp(start)
    days_needed = int(n * 365 / 250) + 30
    xnys = calendar_sessions(first, first + pd.Timedelta(days=days_needed))[:n]
    if len(xnys) < n:
        raise ConfigError(f"calendar too short for {n} sessions from {start}")
    days = pd.date_range(xnys[0], xnys[-1], freq="D")
    on_session = days.isin(xnys)
    rng = np.random.default_rng(seed)

    vol_path = np.exp(0.35 * _smooth_paths(rng, n, 1, 0.98)[:, 0])
    bench_shock = _t(rng, 5.0, (n,)) * vol_path
    bench_ret = _BENCH_VOL * bench_shock + 0.0002

    n_crypto = round(k * crypto_share)
    kinds = np.array(["crypto"] * n_crypto + ["equity"] * (k - n_crypto))
    rng.shuffle(kinds)
    # Correlation regimes: a slow latent path through a logistic between lo and hi.
    latent = _smooth_paths(rng, n, k, 0.995)
    crypto = kinds == "crypto"
    lo = np.where(crypto, rng.uniform(-0.1, 0.2, k), rng.uniform(0.2, 0.5, k))
    hi = np.where(crypto, rng.uniform(0.35, 0.8, k), rng.uniform(0.55, 0.9, k))
    rho = lo + (hi - lo) / (1.0 + np.exp(-2.0 * latent))
    annual_vol = np.where(crypto, rng.uniform(0.45, 1.2, k), rng.uniform(0.18, 0.6, k))
    session_vol = annual_vol / np.sqrt(252.0)
    idio = _t(rng, 4.0, (n, k))
    session_ret = (
        session_vol
        * vol_path[:, None]
        * (rho * bench_shock[:, None] + np.sqrt(1.0 - rho**2) * idio)
    )
    starts = rng.uniform(0.5, 500.0, k) ** 1.5

    out: dict[str, pd.DataFrame] = {}
    off_days = int((~on_session).sum())
    for j in range(k):
        if kinds[j] == "crypto":
            name = f"C{j:05d}-USD"
            ret = np.empty(len(days))
            ret[on_session] = session_ret[:, j]
            ret[~on_session] = 0.7 * annual_vol[j] / np.sqrt(365.0) * _t(rng, 4.0, (off_days,))
            frame = _bars(rng, days, ret, float(starts[j]))
            if rng.random() < late_listing_share:
                frame = frame.iloc[int(rng.integers(len(days) // 4, 3 * len(days) // 4)) :]
            out[name] = _attrs(frame, name, True)
        else:
            name = f"E{j:05d}"
            out[name] = _attrs(_bars(rng, xnys, session_ret[:, j], float(starts[j])), name, False)
    benchmark = _attrs(_bars(rng, xnys, bench_ret, 2000.0), "BENCH", False)
    if folder is None:
        return out, benchmark
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    paths = {name: write_bars(frame, target / name, file_format) for name, frame in out.items()}
    write_bars(benchmark, target.parent / f"{target.name}-BENCH", file_format)
    return paths, benchmark


def write_bars(frame: pd.DataFrame, stem: Path, file_format: FileFormat = "csv") -> Path:
    """Write bars as a Yahoo-style file (``Date,Open,High,Low,Close,Volume``)."""
    table = frame.rename(columns=str.title)
    table.index = pd.DatetimeIndex(table.index).strftime("%Y-%m-%d")
    if file_format == "parquet":
        path = stem.with_suffix(".parquet")
        table.rename_axis("Date").reset_index().to_parquet(path, index=False)
    else:
        path = stem.with_suffix(".csv")
        table.to_csv(path, index_label="Date", float_format="%.8g")
    return path
