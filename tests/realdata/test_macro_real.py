"""Macro liquidity and breadth on the real FRED files and index histories (../shared/data)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comove.analytics.macro import MACRO_COLUMNS, SCORE_INPUTS, breadth_frame, macro_frame
from comove.data.calendar import sessions as xnys_sessions

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def days() -> pd.DatetimeIndex:
    return xnys_sessions(pd.Timestamp("2018-01-02"), pd.Timestamp("2025-12-31"))


@pytest.fixture(scope="module")
def frame(fred: dict[str, pd.Series], days: pd.DatetimeIndex) -> pd.DataFrame:
    return macro_frame(fred, days)


def _net_by_hand(fred: dict[str, pd.Series], h41: str, rrp: str) -> float:
    walcl = fred["WALCL"].loc[pd.Timestamp(h41)]
    tga = fred["WTREGEN"].loc[pd.Timestamp(h41)]
    reverse_repo = fred["RRPONTSYD"].loc[pd.Timestamp(rrp)]
    return float(walcl - tga - reverse_repo * 1000)


@pytest.mark.parametrize(
    ("session", "h41", "rrp"),
    [
        # A Monday uses the previous Wednesday's H.4.1 (released Thursday) and Thursday's RRP
        # (published Friday).
        ("2019-06-17", "2019-06-12", "2019-06-13"),
        ("2022-06-13", "2022-06-08", "2022-06-09"),
        ("2024-04-15", "2024-04-10", "2024-04-11"),
        # A Thursday still uses the week-before Wednesday (today's release is after the close)
        # and Tuesday's RRP.
        ("2022-06-16", "2022-06-08", "2022-06-14"),
        # Friday after Thanksgiving: the H.4.1 was released today; RRP of Tuesday (published
        # Wednesday).
        ("2023-11-24", "2023-11-15", "2023-11-21"),
        ("2023-11-27", "2023-11-22", "2023-11-22"),
    ],
)
def test_net_liquidity_on_known_dates(
    frame: pd.DataFrame, fred: dict[str, pd.Series], session: str, h41: str, rrp: str
) -> None:
    got = frame.loc[pd.Timestamp(session), "net_liquidity"]
    assert got == pytest.approx(_net_by_hand(fred, h41, rrp), abs=1e-6)


def test_net_liquidity_is_plausible(frame: pd.DataFrame) -> None:
    net = frame["net_liquidity"]
    assert net.notna().all()
    # Between about 3 and 7.5 trillion dollars over 2018-2025 (peak: Sep 2021, TGA run down).
    assert net.min() > 3e6
    assert net.max() < 7.5e6


def test_score_is_finite_after_warm_up(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(MACRO_COLUMNS)
    assert frame.attrs["notes"] == []
    # Standardised over the whole FRED history (from 2007), the score needs no warm-up
    # inside the pair's span: defined from its first session.
    for name in SCORE_INPUTS:
        assert np.isfinite(frame[f"contrib_{name}"]).all(), name
    assert np.isfinite(frame["liquidity_score"]).all()


def test_score_reads_march_2020_and_2022(frame: pd.DataFrame) -> None:
    covid = frame.loc["2020-03-16":"2020-03-31"]
    # Credit and financial conditions read stress (less extreme than in 2008, which the
    # whole-history standardisation includes) ...
    assert covid["contrib_hy_spread"].max() < -0.5
    assert covid["contrib_nfci"].max() < 0
    # ... while the Fed's balance sheet surge and the falling 2-year yield read support.
    assert covid["contrib_net_liquidity_chg_4w"].min() > 1
    assert covid["contrib_dgs2_chg_20"].min() > 0
    # The 2022 tightening reads as a headwind.
    assert frame.loc["2022-01-01":"2022-12-31", "liquidity_score"].mean() < -0.2


def test_real_history_has_no_look_ahead(
    fred: dict[str, pd.Series], days: pd.DatetimeIndex, frame: pd.DataFrame
) -> None:
    for t in days[300::350]:
        cut = {sid: s[s.index <= t] for sid, s in fred.items()}
        part = macro_frame(cut, days[days <= t])
        pd.testing.assert_frame_equal(part, frame.loc[:t], check_exact=True)


def test_breadth_russell_over_spy(
    data_dir: Path, rut: pd.DataFrame, read_shared: Callable[[Path], pd.DataFrame]
) -> None:
    spy = read_shared(data_dir / "prices" / "SPY.csv")
    days = xnys_sessions(pd.Timestamp("2018-01-02"), pd.Timestamp("2025-12-31"))
    frame = breadth_frame(rut["close"], spy["close"], days)
    assert frame["breadth"].notna().all()
    ratio = rut["close"].reindex(days) / spy["close"].reindex(days)
    expected = 100 * ratio / ratio.iloc[0]
    np.testing.assert_allclose(frame["breadth"], expected, rtol=1e-12)
    assert frame["breadth"].iloc[0] == 100.0
    # Small caps lagged the S&P 500 badly over 2018-2025.
    assert frame["breadth"].iloc[-1] < 80
    above = frame["breadth_above_50"]
    assert above.iloc[:49].isna().all()
    assert set(above.iloc[49:]) == {0.0, 1.0}
    chg = frame["breadth_chg_20"]
    assert chg.iloc[:20].isna().all()
    k = 1000
    assert chg.iloc[k] == pytest.approx(ratio.iloc[k] / ratio.iloc[k - 20] - 1, rel=1e-12)
    assert (frame["breadth_falling"].iloc[20:] == (chg.iloc[20:] < 0).astype(float)).all()
