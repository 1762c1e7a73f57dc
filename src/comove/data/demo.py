"""A seeded synthetic ETH-USD / Russell 2000 pair for offline demos, always labelled synthetic.

Co-movement is defined on the equity-session grid: on a session date the crypto UTC-day
log return loads on that session's equity shock with weight ``rho_t``, a regime path that
drifts between decoupled (≈ 0) and coupled (≈ 0.8); weekend and holiday crypto moves are
idiosyncratic only. Shocks are Student-t, so both series have fat tails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comove.data.bars import BAR_COLUMNS
from comove.data.calendar import sessions as xnys_sessions
from comove.errors import DataError

_CRYPTO_VOL = 0.75 / np.sqrt(365.0)  # per calendar day
_EQUITY_VOL = 0.22 / np.sqrt(252.0)  # per session
_OFF_SESSION_SCALE = 0.75  # crypto is quieter while New York is shut
_RHO_BANDS = ((-0.05, 0.10), (0.30, 0.45), (0.65, 0.80))  # decoupled, middling, coupled
_PULL = 0.003  # daily pull towards the start level: keeps seven years of 75% vol plausible


def _student_t(rng: np.random.Generator, df: float, n: int) -> np.ndarray:
    # Unit variance so the volatility targets hold; clipped so one draw cannot wreck a sample.
    return np.clip(rng.standard_t(df, n) / np.sqrt(df / (df - 2.0)), -8.0, 8.0)


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    noise = rng.normal(0.0, sd * np.sqrt(1.0 - phi**2), n)
    out, level = np.empty(n), float(rng.normal(0.0, sd))
    for i in range(n):
        level = phi * level + noise[i]
        out[i] = level
    return out


def _rho_path(rng: np.random.Generator, n: int) -> np.ndarray:
    """Alternate decoupled and coupled regimes, sometimes via a middling one."""
    rho: list[float] = []
    extreme = int(rng.integers(2)) * 2
    while len(rho) < n:
        if rho and rng.random() < 0.35:
            rho += [rng.uniform(*_RHO_BANDS[1])] * int(rng.integers(40, 90))
        rho += [rng.uniform(*_RHO_BANDS[extreme])] * int(rng.integers(100, 200))
        extreme = 2 - extreme
    # Blend each switch over about a month so regimes drift rather than jump.
    return pd.Series(rho[:n]).rolling(21, center=True, min_periods=1).mean().to_numpy()


def _trends(rng: np.random.Generator, n: int) -> np.ndarray:
    """Signed episodes (+1 rally, -1 sell-off) so RSI and MACD have something to show."""
    trend = np.zeros(n)
    at = int(rng.integers(30, 120))
    while at < n:
        length = int(rng.integers(40, 100))
        trend[at : at + length] = rng.choice((-1.0, 1.0))
        at += length + int(rng.integers(120, 300))
    return trend


def _integrate(returns: np.ndarray, start: float) -> np.ndarray:
    log_price, level = np.empty(len(returns)), 0.0
    for i, step in enumerate(returns):
        level += step - _PULL * level
        log_price[i] = level
    return start * np.exp(log_price)


def _bars(
    rng: np.random.Generator,
    index: pd.DatetimeIndex,
    close: np.ndarray,
    start: float,
    scale: float,
    base_volume: float,
    gap_share: float,
) -> pd.DataFrame:
    previous = np.concatenate(([start], close[:-1]))
    move = np.log(close / previous)
    # Equity opens gap part of the way; a 24/7 market opens at the previous close.
    gap = gap_share * (move + rng.normal(0.0, 0.3 * scale, len(close)))
    open_ = previous * np.exp(gap)
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.5 * scale, len(close))))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.5 * scale, len(close))))
    # Busier on big moves, with slow swings in participation and day-to-day noise.
    activity = _ar1(rng, len(close), 0.985, 0.3) + rng.normal(0.0, 0.15, len(close))
    volume = base_volume * np.exp(activity) * (0.6 + 0.4 * np.abs(move) / scale)
    columns = dict(zip(BAR_COLUMNS, (open_, high, low, close, volume), strict=True))
    return pd.DataFrame(columns, index=index.rename("date").as_unit("ns")).astype("float64")


def demo_pair(
    seed: int = 7, start: str = "2019-01-02", end: str = "2025-12-31"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (crypto_bars, equity_bars): a labelled synthetic ETH-USD / Russell 2000 pair.

    Parameters
    ----------
    seed
        Seed of the generator; the same seed always gives the same pair.
    start, end
        First and last calendar day. Crypto has a bar every day, the index every XNYS session.

    Returns
    -------
    tuple of DataFrame
        Two bars frames (see :mod:`comove.data.bars`) with ``attrs["synthetic"] = True``.
    """
    sessions = xnys_sessions(pd.Timestamp(start), pd.Timestamp(end))
    days = pd.date_range(start, end, freq="D")
    if len(sessions) < 2:
        raise DataError(f"demo_pair needs at least two XNYS sessions in {start}..{end}")
    rng = np.random.default_rng(seed)
    on_session = days.isin(sessions)
    n_on, n_days = int(on_session.sum()), len(days)
    # Session days carry the extra variance the quiet off-session days leave out.
    on_scale = np.sqrt((n_days - _OFF_SESSION_SCALE**2 * (n_days - n_on)) / n_on)

    equity_shock = _student_t(rng, 5.0, n_on)
    rho = _rho_path(rng, n_on)
    crypto_shock = _OFF_SESSION_SCALE * _student_t(rng, 4.0, n_days)
    idio = _student_t(rng, 4.0, n_on)
    crypto_shock[on_session] = on_scale * (rho * equity_shock + np.sqrt(1.0 - rho**2) * idio)
    trend = _trends(rng, n_days)

    crypto_start, equity_start = rng.uniform(1100.0, 1900.0), rng.uniform(1550.0, 1950.0)
    crypto_close = _integrate(_CRYPTO_VOL * crypto_shock + 0.004 * trend, crypto_start)
    equity_close = _integrate(_EQUITY_VOL * equity_shock + 0.0012 * trend[on_session], equity_start)
    crypto = _bars(rng, days, crypto_close, crypto_start, _CRYPTO_VOL, 1.2e10, 0.0)
    equity = _bars(rng, sessions, equity_close, equity_start, _EQUITY_VOL, 1.5e9, 0.25)
    labels = (
        (crypto, "ETH-USD (synthetic)", "demo:ETH-USD", True),
        (equity, "Russell 2000 (synthetic)", "demo:^RUT", False),
    )
    for frame, name, source, is_24_7 in labels:
        frame.attrs = {
            "name": name,
            "source": source,
            "price_column": "close",
            "interval": "1d",
            "is_24_7": is_24_7,
            "dropped_incomplete": None,
            "synthetic": True,
        }
    return crypto, equity


def _walk(
    rng: np.random.Generator,
    index: pd.DatetimeIndex,
    start: float,
    step: float,
    low: float,
    high: float,
    units: str,
    name: str,
) -> pd.Series:
    """A bounded random walk dated like a FRED series, with its units."""
    values = np.clip(start + np.cumsum(rng.normal(0.0, step, len(index))), low, high)
    series = pd.Series(values, index=index.rename("date").as_unit("ns"), name=name)
    series.attrs = {"units": units, "synthetic": True}
    return series


def demo_macro(equity: pd.DataFrame, seed: int = 11) -> tuple[dict[str, pd.Series], pd.DataFrame]:
    """Synthetic FRED-style macro series and S&P 500 bars to go with :func:`demo_pair`.

    Each series is dated the way FRED dates it (weekly H.4.1 on Wednesdays, NFCI on
    Fridays, daily series on business days) and carries FRED's units, so the point-in-time
    and unit handling run exactly as on real data. Everything is labelled synthetic.
    """
    rng = np.random.default_rng(seed)
    first, last = equity.index[0] - pd.Timedelta(days=400), equity.index[-1]
    wednesdays = pd.date_range(first, last, freq="W-WED")
    fridays = pd.date_range(first, last, freq="W-FRI")
    business = pd.bdate_range(first, last)
    macro = {
        "WALCL": _walk(rng, wednesdays, 6.5e6, 4e4, 4e6, 9e6, "Millions of U.S. Dollars", "WALCL"),
        "WTREGEN": _walk(
            rng, wednesdays, 6e5, 3e4, 1e5, 1.2e6, "Millions of U.S. Dollars", "WTREGEN"
        ),
        "RRPONTSYD": _walk(
            rng, business, 800.0, 25.0, 0.0, 2500.0, "Billions of U.S. Dollars", "RRPONTSYD"
        ),
        "DGS2": _walk(rng, business, 2.0, 0.05, 0.1, 5.5, "Percent", "DGS2"),
        "NFCI": _walk(rng, fridays, -0.4, 0.04, -0.8, 0.6, "Index", "NFCI"),
        "BAMLH0A0HYM2": _walk(rng, business, 4.0, 0.06, 2.5, 9.0, "Percent", "BAMLH0A0HYM2"),
        "DTWEXBGS": _walk(
            rng, business, 115.0, 0.3, 100.0, 130.0, "Index Jan 2006=100", "DTWEXBGS"
        ),
    }
    # Large caps share most of the small caps' moves, with less volatility of their own.
    small = np.log(equity["close"]).diff().fillna(0.0).to_numpy()
    large_returns = 0.75 * small + rng.normal(0.0, 0.004, len(small))
    close = 3000.0 * np.exp(np.cumsum(large_returns))
    large = _bars(rng, pd.DatetimeIndex(equity.index), close, 3000.0, 0.008, 3e9, 0.3)
    large.attrs = {
        "name": "S&P 500 (synthetic)",
        "source": "demo:^GSPC",
        "price_column": "close",
        "interval": "1d",
        "is_24_7": False,
        "dropped_incomplete": None,
        "synthetic": True,
    }
    return macro, large
