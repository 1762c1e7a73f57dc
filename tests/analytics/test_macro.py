"""Macro liquidity and breadth on hand-built series: units, release lags, no look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from comove.analytics.macro import (
    BREADTH_COLUMNS,
    MACRO_COLUMNS,
    RELEASE_LAGS,
    SCORE_INPUTS,
    available_from,
    breadth_frame,
    macro_frame,
    point_in_time,
    release_lag_markdown,
    to_millions,
)
from comove.data.calendar import sessions as xnys_sessions
from comove.errors import DataError

MILLIONS = "Millions of U.S. Dollars"
BILLIONS = "Billions of U.S. Dollars"


def _ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(day)


def _usable(series_id: str, day: str) -> str:
    return available_from(series_id, pd.DatetimeIndex([day]))[0].strftime("%a %Y-%m-%d")


def _series(
    values: list[float] | np.ndarray, dates: pd.Index, name: str, units: str | None = None
) -> pd.Series:
    out = pd.Series(np.asarray(values, dtype="float64"), index=dates, name=name)
    if units is not None:
        out.attrs["units"] = units
    return out


def _synthetic(
    seed: int = 3, start: str = "2019-01-01", end: str = "2022-12-31"
) -> dict[str, pd.Series]:
    """Random-walk FRED-like series with their real observation conventions."""
    rng = np.random.default_rng(seed)
    weds = pd.date_range(start, end, freq="W-WED")
    fris = pd.date_range(start, end, freq="W-FRI")
    days = pd.bdate_range(start, end)

    def walk(n: int, level: float, step: float) -> np.ndarray:
        return level + np.cumsum(rng.normal(0, step, n))

    return {
        "WALCL": _series(walk(len(weds), 7_000_000, 20_000), weds, "WALCL", MILLIONS),
        "WTREGEN": _series(walk(len(weds), 700_000, 15_000), weds, "WTREGEN", MILLIONS),
        "RRPONTSYD": _series(np.abs(walk(len(days), 500, 20)), days, "RRPONTSYD", BILLIONS),
        "DGS2": _series(walk(len(days), 2.0, 0.05), days, "DGS2"),
        "NFCI": _series(walk(len(fris), -0.4, 0.05), fris, "NFCI"),
        "BAMLH0A0HYM2": _series(np.abs(walk(len(days), 4.0, 0.05)), days, "BAMLH0A0HYM2"),
        "DTWEXBGS": _series(np.exp(walk(len(days), np.log(115), 0.003)), days, "DTWEXBGS"),
    }


SESSIONS = xnys_sessions(_ts("2019-01-02"), _ts("2022-12-30"))


# --- units -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "factor"),
    [
        (MILLIONS, 1.0),
        (BILLIONS, 1000.0),
        ("Mil. of U.S. $", 1.0),
        ("Bil. of U.S. $", 1000.0),
        ("billions of dollars", 1000.0),
        ("Trillions of U.S. Dollars", 1e6),
    ],
)
def test_to_millions_scales_by_stated_units(units: str, factor: float) -> None:
    raw = _series([1.5, 2.0], pd.DatetimeIndex(["2024-01-03", "2024-01-10"]), "X", units)
    before = raw.copy()
    out = to_millions(raw)
    assert out.tolist() == [1.5 * factor, 2.0 * factor]
    assert out.attrs["units"] == MILLIONS
    pd.testing.assert_series_equal(raw, before)
    assert raw.attrs["units"] == units


@pytest.mark.parametrize("units", ["Percent", "Index", "Millions of Euros", "", None])
def test_to_millions_rejects_unknown_units_naming_series(units: str | None) -> None:
    raw = _series([1.0], pd.DatetimeIndex(["2024-01-03"]), "WTREGEN", units)
    with pytest.raises(DataError, match=r"WTREGEN.*" + repr(units).replace(".", r"\.")):
        to_millions(raw)


def test_millions_and_billions_give_the_same_net_liquidity() -> None:
    data = _synthetic()
    in_billions = dict(data)
    for sid in ("WALCL", "WTREGEN"):
        in_billions[sid] = _series(data[sid].to_numpy() / 1000, data[sid].index, sid, BILLIONS)
    rrp = data["RRPONTSYD"]
    in_billions["RRPONTSYD"] = _series(rrp.to_numpy() * 1000, rrp.index, "RRPONTSYD", MILLIONS)
    a = macro_frame(data, SESSIONS)["net_liquidity"]
    b = macro_frame(in_billions, SESSIONS)["net_liquidity"]
    assert a.notna().sum() > 900
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12)


def test_macro_frame_rejects_unknown_money_units() -> None:
    data = _synthetic()
    data["RRPONTSYD"] = _series(
        data["RRPONTSYD"].to_numpy(), data["RRPONTSYD"].index, "RRPONTSYD", "Percent"
    )
    with pytest.raises(DataError, match=r"RRPONTSYD.*Percent"):
        macro_frame(data, SESSIONS)


# --- release lags ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series_id", "observed", "usable"),
    [
        # H.4.1: Wednesday level, Thursday 16:30 release → Friday session.
        ("WALCL", "2023-11-15", "Fri 2023-11-17"),
        ("WTREGEN", "2024-03-06", "Fri 2024-03-08"),
        # Thanksgiving Thursday: released Friday → Monday.
        ("WALCL", "2023-11-22", "Mon 2023-11-27"),
        # Christmas Thursday 2025 and Veterans Day Thursday 2021 (NYSE open, Fed closed).
        ("WALCL", "2025-12-24", "Mon 2025-12-29"),
        ("WALCL", "2021-11-10", "Mon 2021-11-15"),
        # NFCI: Friday-dated week, Wednesday release → Thursday session.
        ("NFCI", "2024-01-05", "Thu 2024-01-11"),
        # Juneteenth Wednesday 2024: released Thursday → Friday.
        ("NFCI", "2024-06-14", "Fri 2024-06-21"),
        # Daily series: next business day publication → the session after.
        ("DGS2", "2024-01-08", "Wed 2024-01-10"),
        ("DGS2", "2024-01-12", "Wed 2024-01-17"),  # Monday is MLK day
        ("RRPONTSYD", "2024-01-05", "Tue 2024-01-09"),
        ("BAMLH0A0HYM2", "2023-11-22", "Mon 2023-11-27"),
        # Columbus day: markets open, bond market and Fed closed.
        ("DGS2", "2026-10-09", "Wed 2026-10-14"),
        # H.10: weekly on Monday for the prior week → Tuesday; a Monday holiday → Wednesday.
        ("DTWEXBGS", "2024-05-17", "Tue 2024-05-21"),
        ("DTWEXBGS", "2024-05-13", "Tue 2024-05-21"),
        ("DTWEXBGS", "2024-05-20", "Wed 2024-05-29"),
    ],
)
def test_available_from_follows_the_release_rule(
    series_id: str, observed: str, usable: str
) -> None:
    assert _usable(series_id, observed) == usable


def test_available_from_keeps_order_and_length() -> None:
    dates = pd.DatetimeIndex(["2024-01-17", "2024-01-03", "2024-01-10"])
    out = available_from("WALCL", dates)
    assert list(out.strftime("%Y-%m-%d")) == ["2024-01-19", "2024-01-05", "2024-01-12"]
    assert len(available_from("WALCL", pd.DatetimeIndex([]))) == 0


def test_unknown_series_has_no_release_rule() -> None:
    with pytest.raises(DataError, match="M2SL"):
        available_from("M2SL", pd.DatetimeIndex(["2024-01-01"]))


def test_release_table_is_documented() -> None:
    table = release_lag_markdown()
    for sid in ("WALCL", "WTREGEN", "RRPONTSYD", "DGS2", "NFCI", "BAMLH0A0HYM2", "DTWEXBGS"):
        assert sid in RELEASE_LAGS
        assert f"| {sid} |" in table


def test_point_in_time_never_shows_a_value_before_it_is_public() -> None:
    weds = pd.DatetimeIndex(["2023-11-08", "2023-11-15", "2023-11-22", "2023-11-29"])
    walcl = _series([1.0, 2.0, 3.0, 4.0], weds, "WALCL")
    days = xnys_sessions(_ts("2023-11-06"), _ts("2023-12-05"))
    out = point_in_time(walcl, days, "WALCL")
    expected = {
        "2023-11-09": math.nan,  # Thursday: the 8th is released this afternoon
        "2023-11-10": 1.0,
        "2023-11-16": 1.0,
        "2023-11-17": 2.0,
        "2023-11-22": 2.0,
        "2023-11-24": 2.0,  # Friday after Thanksgiving: the 22nd is released today
        "2023-11-27": 3.0,
        "2023-11-30": 3.0,
        "2023-12-01": 4.0,
    }
    for day, value in expected.items():
        got = out.loc[_ts(day)]
        assert (math.isnan(got) and math.isnan(value)) or got == value, day
    assert out.index.equals(pd.DatetimeIndex(days, name="date"))


def test_point_in_time_goes_stale_and_skips_missing_values() -> None:
    days = pd.bdate_range("2024-01-02", "2024-02-29")
    values = np.arange(len(days), dtype="float64")
    values[5] = np.nan
    dgs2 = _series(values, days, "DGS2")
    # Only data until 2024-01-19 (Friday): usable Tuesday 23rd, stale 10 days later.
    dgs2 = dgs2[dgs2.index <= _ts("2024-01-19")]
    out = point_in_time(dgs2, xnys_sessions(_ts("2024-01-02"), _ts("2024-02-29")), "DGS2")
    assert out.loc[_ts("2024-01-11")] == 4.0  # the 9th is missing: the 8th is the latest
    assert out.loc[_ts("2024-02-02")] == 13.0
    assert np.isnan(out.loc[_ts("2024-02-05")])


# --- look-ahead --------------------------------------------------------------------------


@pytest.mark.parametrize("window", [None, 120])
def test_truncated_data_gives_identical_history(window: int | None) -> None:
    data = _synthetic()
    full = macro_frame(data, SESSIONS, zscore_window=window, min_history=60)
    assert full["liquidity_score"].notna().sum() > 700
    for t in SESSIONS[100::37]:
        cut = {sid: s[s.index <= t] for sid, s in data.items()}
        part = macro_frame(
            cut,
            SESSIONS[: SESSIONS.searchsorted(t, side="right")],
            zscore_window=window,
            min_history=60,
        )
        pd.testing.assert_frame_equal(part, full.loc[:t], check_exact=True)


def test_changing_a_future_value_leaves_the_past_unchanged() -> None:
    data = _synthetic()
    full = macro_frame(data, SESSIONS, min_history=60)
    changed = dict(data)
    for sid in data:
        bumped = data[sid].copy()
        bumped.loc[bumped.index >= _ts("2021-06-01")] *= 1.7
        changed[sid] = bumped
    other = macro_frame(changed, SESSIONS, min_history=60)
    cut = _ts("2021-06-01")
    pd.testing.assert_frame_equal(other.loc[:cut], full.loc[:cut], check_exact=True)
    assert not other.loc["2021-07-01":].equals(full.loc["2021-07-01":])


def test_inputs_are_not_mutated() -> None:
    data = _synthetic()
    copies = {sid: (s.copy(), dict(s.attrs)) for sid, s in data.items()}
    macro_frame(data, SESSIONS)
    for sid, (copy, attrs) in copies.items():
        pd.testing.assert_series_equal(data[sid], copy)
        assert data[sid].attrs == attrs


# --- standardisation and the score -------------------------------------------------------


def test_zscore_matches_a_plain_loop() -> None:
    data = {"NFCI": _synthetic()["NFCI"]}
    frame = macro_frame(data, SESSIONS, min_history=30)
    nfci = frame["nfci"].tolist()
    for i in range(0, len(nfci), 23):
        past = [v for v in nfci[: i + 1] if not math.isnan(v)]
        got = frame["contrib_nfci"].iloc[i]
        if len(past) < 30 or math.isnan(nfci[i]):
            assert math.isnan(got)
            continue
        mean = sum(past) / len(past)
        std = math.sqrt(sum((v - mean) ** 2 for v in past) / (len(past) - 1))
        expected = max(-3.0, min(3.0, -(nfci[i] - mean) / std))
        assert got == pytest.approx(expected, abs=1e-9)


def test_rolling_zscore_uses_only_the_window() -> None:
    data = {"BAMLH0A0HYM2": _synthetic()["BAMLH0A0HYM2"]}
    frame = macro_frame(data, SESSIONS, zscore_window=50, min_history=40)
    hy = frame["hy_spread"].to_numpy()
    i = 400
    window = hy[i - 49 : i + 1]
    expected = -(hy[i] - window.mean()) / window.std(ddof=1)
    assert frame["contrib_hy_spread"].iloc[i] == pytest.approx(
        float(np.clip(expected, -3, 3)), abs=1e-9
    )


def _rising(kind: str) -> dict[str, pd.Series]:
    """Each input made to rise steadily (accelerating where the input is a change)."""
    days = pd.bdate_range("2019-01-01", "2022-12-31")
    weds = pd.date_range("2019-01-01", "2022-12-31", freq="W-WED")
    fris = pd.date_range("2019-01-01", "2022-12-31", freq="W-FRI")
    t_d = np.arange(len(days), dtype="float64")
    if kind == "liquidity":
        t_w = np.arange(len(weds), dtype="float64")
        return {
            "WALCL": _series(4e6 + 50 * t_w**2, weds, "WALCL", MILLIONS),
            "WTREGEN": _series(np.full(len(weds), 5e5), weds, "WTREGEN", MILLIONS),
            "RRPONTSYD": _series(np.full(len(days), 100.0), days, "RRPONTSYD", BILLIONS),
        }
    if kind == "DGS2":
        return {kind: _series(1 + 1e-5 * t_d**2, days, kind)}
    if kind == "NFCI":
        return {kind: _series(-1 + 0.01 * np.arange(len(fris)), fris, kind)}
    if kind == "BAMLH0A0HYM2":
        return {kind: _series(3 + 0.001 * t_d, days, kind)}
    return {kind: _series(100 * np.exp(1e-6 * t_d**2), days, kind)}


@pytest.mark.parametrize(
    ("kind", "columns", "sign"),
    [
        ("liquidity", ["contrib_net_liquidity_chg_4w", "contrib_net_liquidity_chg_13w"], 1.0),
        ("DGS2", ["contrib_dgs2_chg_20"], -1.0),
        ("NFCI", ["contrib_nfci"], -1.0),
        ("BAMLH0A0HYM2", ["contrib_hy_spread"], -1.0),
        ("DTWEXBGS", ["contrib_dollar_chg_20"], -1.0),
    ],
)
def test_score_sign_orientation(kind: str, columns: list[str], sign: float) -> None:
    frame = macro_frame(_rising(kind), SESSIONS, min_history=60)
    late = frame.loc["2022-06-01":]
    for column in columns:
        assert late[column].notna().all(), column
        assert (np.sign(late[column]) == sign).all(), column
    # Only this input is present: the score is its contribution (mean of the two for liquidity).
    expected = late[columns].mean(axis=1)
    np.testing.assert_allclose(late["liquidity_score"], expected, rtol=1e-12)
    assert (np.sign(late["liquidity_score"]) == sign).all()


def test_score_is_the_mean_of_available_contributions() -> None:
    frame = macro_frame(_synthetic(), SESSIONS, min_history=60)
    contribs = frame[[f"contrib_{name}" for name in SCORE_INPUTS]].to_numpy()
    for i in range(0, len(frame), 17):
        row = [v for v in contribs[i] if not math.isnan(v)]
        got = frame["liquidity_score"].iloc[i]
        if row:
            assert got == pytest.approx(sum(row) / len(row), abs=1e-12)
            assert all(-3.0 <= v <= 3.0 for v in row)
        else:
            assert math.isnan(got)


def test_changes_are_over_20_and_65_sessions() -> None:
    frame = macro_frame(_synthetic(), SESSIONS)
    net = frame["net_liquidity"].to_numpy()
    dgs2 = macro_frame({"DGS2": _synthetic()["DGS2"]}, SESSIONS)["dgs2_chg_20"].to_numpy()
    i = 500
    assert frame["net_liquidity_chg_4w"].iloc[i] == pytest.approx(net[i] - net[i - 20])
    assert frame["net_liquidity_chg_13w"].iloc[i] == pytest.approx(net[i] - net[i - 65])
    level = macro_frame({"DGS2": _synthetic()["DGS2"]}, SESSIONS)
    assert dgs2[i] == pytest.approx(float(level["dgs2_chg_20"].iloc[i]))
    dollar = frame["dollar"].to_numpy()
    assert frame["dollar_chg_20"].iloc[i] == pytest.approx(dollar[i] / dollar[i - 20] - 1)


def test_net_liquidity_by_hand() -> None:
    weds = pd.DatetimeIndex(["2024-01-03", "2024-01-10"])
    walcl = _series([7_700_000.0, 7_680_000.0], weds, "WALCL", MILLIONS)
    tga = _series([700.0, 650.0], weds, "WTREGEN", BILLIONS)
    rrp_days = pd.DatetimeIndex(["2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11"])
    rrp = _series([650.0, 640.0, 630.0, 620.0], rrp_days, "RRPONTSYD", BILLIONS)
    days = xnys_sessions(_ts("2024-01-08"), _ts("2024-01-16"))
    frame = macro_frame({"WALCL": walcl, "WTREGEN": tga, "RRPONTSYD": rrp}, days)
    net = frame["net_liquidity"]
    # Wed 10th: RRP of the 8th (published the 9th); H.4.1 of the 3rd (released the 4th).
    assert net.loc[_ts("2024-01-10")] == 7_700_000 - 700_000 - 650_000
    # Fri 12th: H.4.1 of the 10th; RRP of the 10th (published the 11th).
    assert net.loc[_ts("2024-01-12")] == 7_680_000 - 650_000 - 630_000
    # Tue 16th (Monday MLK day): RRP of the 11th was published Friday the 12th.
    assert net.loc[_ts("2024-01-16")] == 7_680_000 - 650_000 - 620_000
    assert "WALCL" not in " ".join(frame.attrs["notes"])


# --- missing inputs ----------------------------------------------------------------------


def test_no_macro_data_gives_empty_columns_and_notes() -> None:
    frame = macro_frame({}, SESSIONS)
    assert list(frame.columns) == list(MACRO_COLUMNS)
    assert frame.index.equals(pd.DatetimeIndex(SESSIONS, name="date"))
    assert frame.isna().all().all()
    assert (frame.dtypes == "float64").all()
    notes = " ".join(frame.attrs["notes"])
    for sid in ("WALCL", "WTREGEN", "RRPONTSYD", "DGS2", "NFCI", "BAMLH0A0HYM2", "DTWEXBGS"):
        assert sid in notes


def test_partial_macro_data_uses_what_is_there() -> None:
    data = _synthetic()
    del data["WTREGEN"]
    data["NFCI"] = data["NFCI"] * np.nan
    frame = macro_frame(data, SESSIONS, min_history=60)
    assert frame["net_liquidity"].isna().all()
    assert frame["contrib_nfci"].isna().all()
    assert frame["liquidity_score"].iloc[200:].notna().all()
    notes = " ".join(frame.attrs["notes"])
    assert "WTREGEN" in notes
    assert "NFCI" in notes


def test_empty_sessions_give_an_empty_frame() -> None:
    frame = macro_frame(_synthetic(), pd.DatetimeIndex([]))
    assert list(frame.columns) == list(MACRO_COLUMNS)
    assert len(frame) == 0


@pytest.mark.parametrize(("window", "history"), [(100, 252), (None, 1), (50.5, 20)])
def test_bad_standardisation_settings(window: float | None, history: int) -> None:
    with pytest.raises(DataError):
        macro_frame({}, SESSIONS, zscore_window=window, min_history=history)  # type: ignore[arg-type]


def test_duplicate_observation_dates_are_rejected() -> None:
    dates = pd.DatetimeIndex(["2024-01-08", "2024-01-08"])
    with pytest.raises(DataError, match=r"DGS2.*2024-01-08"):
        point_in_time(_series([1.0, 2.0], dates, "DGS2"), SESSIONS, "DGS2")


# --- breadth -----------------------------------------------------------------------------


def _toy_breadth() -> tuple[pd.DatetimeIndex, pd.Series, pd.Series]:
    days = pd.bdate_range("2024-01-01", periods=60)
    i = np.arange(60, dtype="float64")
    small = pd.Series(100 + 0.5 * i + 20 * np.sin(i / 4.5), index=days)
    large = pd.Series(200 + 0.2 * i, index=days)
    return pd.DatetimeIndex(days), small, large


def test_breadth_by_hand() -> None:
    days, small, large = _toy_breadth()
    before = (small.copy(), large.copy())
    frame = breadth_frame(small, large, days)
    assert list(frame.columns) == list(BREADTH_COLUMNS)
    s, lg = small.tolist(), large.tolist()
    ratio = [a / b for a, b in zip(s, lg, strict=True)]
    breadth = [100 * r / ratio[0] for r in ratio]
    for k in range(60):
        assert frame["breadth"].iloc[k] == pytest.approx(breadth[k], rel=1e-12)
        mean50 = sum(breadth[k - 49 : k + 1]) / 50 if k >= 49 else math.nan
        above = frame["breadth_above_50"].iloc[k]
        if k < 49:
            assert math.isnan(above)
        else:
            assert above == (1.0 if breadth[k] > mean50 else 0.0)
        chg = frame["breadth_chg_20"].iloc[k]
        falling = frame["breadth_falling"].iloc[k]
        if k < 20:
            assert math.isnan(chg)
            assert math.isnan(falling)
        else:
            expected = ratio[k] / ratio[k - 20] - 1
            assert chg == pytest.approx(expected, rel=1e-9)
            assert falling == (1.0 if expected < 0 else 0.0)
    assert frame["breadth"].iloc[0] == 100.0
    assert set(frame["breadth_falling"].dropna()) == {0.0, 1.0}
    assert set(frame["breadth_above_50"].dropna()) == {0.0, 1.0}
    assert frame["ew_cw_ratio"].isna().all()
    assert frame["ew_cw_chg_20"].isna().all()
    assert frame.attrs["notes"]
    pd.testing.assert_series_equal(small, before[0])
    pd.testing.assert_series_equal(large, before[1])


def test_equal_weight_over_cap_weight() -> None:
    days, small, large = _toy_breadth()
    rsp = pd.Series(np.linspace(150, 160, 60), index=days)
    spy = pd.Series(np.linspace(450, 500, 60), index=days)
    frame = breadth_frame(small, large, days, equal_weight=rsp, cap_weight=spy)
    ratio = rsp / spy
    np.testing.assert_allclose(frame["ew_cw_ratio"], 100 * ratio / ratio.iloc[0], rtol=1e-12)
    np.testing.assert_allclose(
        frame["ew_cw_chg_20"].iloc[20:], (ratio / ratio.shift(20) - 1).iloc[20:], rtol=1e-12
    )
    assert frame["ew_cw_chg_20"].iloc[:20].isna().all()
    assert frame.attrs["notes"] == []


def test_breadth_does_not_forward_fill_and_rebases_at_first_common_session() -> None:
    days, small, large = _toy_breadth()
    gappy = small.drop([days[0], days[30]])
    frame = breadth_frame(gappy, large, days)
    assert np.isnan(frame["breadth"].iloc[0])
    assert frame["breadth"].iloc[1] == 100.0
    assert np.isnan(frame["breadth"].iloc[30])
    assert frame["breadth_above_50"].isna().all()  # no 50 consecutive ratios
    assert np.isnan(frame["breadth_chg_20"].iloc[50])


def test_breadth_look_ahead() -> None:
    days, small, large = _toy_breadth()
    full = breadth_frame(small, large, days)
    for k in range(1, 60, 7):
        part = breadth_frame(small.iloc[:k], large.iloc[:k], days[:k])
        pd.testing.assert_frame_equal(part, full.iloc[:k], check_exact=True)


def test_sessions_must_be_increasing() -> None:
    backwards = pd.DatetimeIndex(["2024-01-09", "2024-01-08"])
    with pytest.raises(DataError, match="increasing"):
        macro_frame({}, backwards)
    with pytest.raises(DataError, match="increasing"):
        breadth_frame(pd.Series([1.0]), pd.Series([1.0]), backwards)
