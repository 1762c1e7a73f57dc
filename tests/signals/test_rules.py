"""Signal rules on hand-built tables: each signal on and off, hysteresis, duration, unknowns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import comove
from comove.errors import ConfigError, DataError
from comove.signals.rules import (
    SIGNALS,
    SignalConfig,
    evaluate_signals,
    hold,
    hysteresis,
    kleene_and,
    kleene_or,
    strict_and,
)

from ..conftest import correlated_pair
from .helpers import path, scenario

NAN = np.nan


def _state(table: pd.DataFrame, signal: str, config: SignalConfig | None = None) -> np.ndarray:
    return evaluate_signals(table, config).columns[f"signal_{signal}"].to_numpy()


def _changes(values: np.ndarray) -> int:
    known = values[~np.isnan(values)]
    return int((np.diff(known) != 0).sum())


# --- building blocks ------------------------------------------------------------------------


def test_hysteresis_enters_at_one_level_and_leaves_at_another() -> None:
    values = np.array([0.3, 0.5, 0.46, 0.47, 0.449, 0.48, 0.5, NAN, 0.48, 0.5])
    got = hysteresis(values, ">=", 0.5, 0.45)
    assert got.tolist()[:7] == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    # A missing value is unknown and forgets the state: 0.48 must re-enter at 0.5.
    assert np.isnan(got[7])
    assert got[8:].tolist() == [0.0, 1.0]


def test_hysteresis_below_comparison() -> None:
    values = np.array([0.3, 0.19, 0.22, 0.249, 0.25, 0.21, 0.1])
    got = hysteresis(values, "<", 0.2, 0.25)
    assert got.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0]


def test_three_valued_logic() -> None:
    t, f, u = np.array([1.0]), np.array([0.0]), np.array([NAN])
    assert kleene_or([f, t])[0] == 1.0
    assert kleene_or([u, t])[0] == 1.0
    assert np.isnan(kleene_or([u, f])[0])
    assert kleene_or([f, f])[0] == 0.0
    assert kleene_and([u, f])[0] == 0.0
    assert np.isnan(kleene_and([u, t])[0])
    assert np.isnan(strict_and([u, f])[0])  # a signal with an unknown condition is unknown
    assert strict_and([t, t])[0] == 1.0
    assert strict_and([t, f])[0] == 0.0


def test_hold_keeps_a_state_for_the_minimum_duration() -> None:
    raw = np.array([0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0], dtype=float)
    got = hold(raw, 3)
    # On at 3, held through 3 sessions (3, 4, 5), off at 6 and held through 8, on at 9.
    assert got.tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0]
    # The first state also needs 3 sessions before it may change.
    assert hold(np.array([1, 0, 1, 0, 0, 0], dtype=float), 3).tolist() == [1, 1, 1, 0, 0, 0]


def test_hold_moves_to_and_from_unknown_at_once() -> None:
    raw = np.array([1, NAN, 0, 1, 1, 1, 0], dtype=float)
    got = hold(raw, 3)
    assert got[0] == 1.0
    assert np.isnan(got[1])
    assert got[2:].tolist() == [0, 0, 0, 1, 1]


# --- synchronized_breakout -----------------------------------------------------------------


def test_breakout_on_when_every_condition_holds() -> None:
    table = scenario()
    result = evaluate_signals(table)
    state = result.columns["signal_synchronized_breakout"].to_numpy()
    # The 20-session high needs 20 closes: unknown before, on from then.
    assert np.isnan(state[:19]).all()
    assert (state[19:] == 1.0).all()
    assert (result.columns["signal_risk_off_alignment"].to_numpy()[60:] == 0.0).all()
    assert (result.columns["signal_decoupling"].to_numpy()[60:] == 0.0).all()
    assert (result.columns["stance"].to_numpy()[60:] == 1.0).all()  # bullish


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("corr_60", path((60, 0.7), (60, 0.4))),
        ("corr_60_lo", path((60, 0.5), (60, 0.2))),
        ("relvol_crypto", path((60, 1.5), (60, 0.8))),
        ("relvol_equity", path((60, 1.5), (60, 0.8))),
        ("liquidity_score", path((60, 1.0), (60, -0.5))),
        ("rsi_equity", path((60, 60.0), (60, 45.0))),
    ],
)
def test_breakout_turns_off_when_one_condition_fails(column: str, values: np.ndarray) -> None:
    state = _state(scenario().assign(**{column: values}), "synchronized_breakout")
    if column == "rsi_equity":  # a flat RSI is not improving: off while flat
        assert (state[25:] == 0.0).all()
        return
    assert (state[19:60] == 1.0).all()
    assert (state[60:] == 0.0).all()


def test_breakout_off_when_a_close_falls_away_from_its_high() -> None:
    step = np.full(120, 0.01)
    step[0] = 0.0
    step[60:] = -0.01  # falls 1% a session: 3% below the high after three sessions
    close = 1000.0 * np.exp(np.cumsum(step))
    state = _state(scenario(crypto_close=close), "synchronized_breakout")
    assert (state[19:60] == 1.0).all()
    assert state[60] == 1.0
    assert state[61] == 1.0
    assert (state[64:] == 0.0).all()


# --- hysteresis and minimum duration on a real signal ----------------------------------------


def _risk_off_table(corr: np.ndarray) -> pd.DataFrame:
    n = len(corr)
    step = np.full(n, -0.005)
    step[0] = 0.0
    equity = 2000.0 * np.exp(np.cumsum(step))  # falling: below its 50-session mean
    return scenario(
        n,
        corr_60=corr,
        equity_close=equity,
        macd_hist_equity=-1.0,
        breadth=np.linspace(0.6, 0.5, n),
    )


def test_risk_off_does_not_flap_around_the_threshold() -> None:
    wobble = np.tile([0.52, 0.48, 0.51, 0.47, 0.49], 12)
    corr = np.concatenate([path((70, 0.3)), wobble, path((20, 0.40))])
    state = _state(_risk_off_table(corr), "risk_off_alignment")
    assert (state[50:70] == 0.0).all()
    assert (state[70:130] == 1.0).all()  # stays on while the correlation stays ≥ 0.45
    assert (state[135:] == 0.0).all()
    assert _changes(state[50:]) == 2
    # Without hysteresis (exit = enter) and without a minimum duration it flaps.
    plain = SignalConfig(corr_exit=0.5, min_duration=1)
    assert _changes(_state(_risk_off_table(corr), "risk_off_alignment", plain)[50:]) > 10


def test_minimum_duration_holds_a_brief_spell() -> None:
    corr = path((70, 0.3), (1, 0.6), (49, 0.3))
    state = _state(_risk_off_table(corr), "risk_off_alignment", SignalConfig(min_duration=5))
    assert (state[70:75] == 1.0).all()  # one session above, kept for five
    assert (state[75:] == 0.0).all()
    state = _state(_risk_off_table(corr), "risk_off_alignment", SignalConfig(min_duration=1))
    assert state[70] == 1.0
    assert state[71] == 0.0
    # An off state also waits: a re-entry two sessions after leaving is delayed.
    corr = path((70, 0.3), (10, 0.6), (2, 0.3), (38, 0.6))
    state = _state(_risk_off_table(corr), "risk_off_alignment", SignalConfig(min_duration=5))
    assert (state[80:85] == 0.0).all()
    assert (state[85:] == 1.0).all()


# --- risk_off_alignment ----------------------------------------------------------------------


def test_risk_off_on_with_weak_small_caps_and_reduce_stance() -> None:
    corr = path((120, 0.7))
    result = evaluate_signals(_risk_off_table(corr))
    assert (result.columns["signal_risk_off_alignment"].to_numpy()[60:] == 1.0).all()
    assert (result.columns["stance"].to_numpy()[60:] == 0.0).all()  # reduce


def test_risk_off_on_by_breadth_alone() -> None:
    n = 120
    table = scenario(n, breadth=path((60, 0.5), (60, 0.45)))  # index strong, breadth drops
    state = _state(table, "risk_off_alignment")
    assert (state[30:60] == 0.0).all()
    assert (state[60:80] == 1.0).all()  # the 20-session change is negative for 20 sessions
    assert (state[85:] == 0.0).all()


def test_risk_off_without_breadth_still_fires_on_index_weakness() -> None:
    table = _risk_off_table(path((120, 0.7))).drop(columns="breadth")
    result = evaluate_signals(table)
    assert (result.columns["signal_risk_off_alignment"].to_numpy()[60:] == 1.0).all()
    check = next(c for c in result.checklist() if c.name == "risk_off_alignment")
    statuses = {c.name: c.status for c in check.conditions}
    assert statuses["breadth_falling"] == "unknown"
    assert statuses["small_cap_weakness"] == "pass"
    # ...and is unknown, not off, when the index is strong and breadth is missing.
    state = _state(scenario().drop(columns="breadth"), "risk_off_alignment")
    assert np.isnan(state[60:]).all()


# --- decoupling ------------------------------------------------------------------------------


def test_decoupling_on_then_off_with_hysteresis() -> None:
    corr_30 = path((100, 0.6), (20, 0.1), (20, 0.22), (40, 0.3))
    table = scenario(180, corr_30=corr_30, corr_90=path((180, 0.6)))
    result = evaluate_signals(table)
    state = result.columns["signal_decoupling"].to_numpy()
    assert (state[:100] == 0.0).all()
    assert (state[100:140] == 1.0).all()  # 0.22 is above 0.2 but below the exit level 0.25
    assert (state[140:] == 0.0).all()
    stance = result.columns["stance"].to_numpy()
    assert (stance[100:140] == 0.5).all()  # the overlay is not trusted: neutral
    assert (stance[150:] == 1.0).all()


def test_decoupling_needs_a_recent_high_long_correlation() -> None:
    corr_90 = path((100, 0.6), (100, 0.3))
    corr_30 = path((100, 0.6), (100, 0.1))
    state = _state(scenario(200, corr_30=corr_30, corr_90=corr_90), "decoupling")
    # The last 0.6 (session 99) is within the last 60 sessions up to session 158.
    assert (state[100:159] == 1.0).all()
    assert (state[159:] == 0.0).all()
    never = _state(scenario(200, corr_30=corr_30, corr_90=path((200, 0.3))), "decoupling")
    assert (never == 0.0).all()


def test_decoupling_wins_over_risk_off_in_the_stance() -> None:
    table = _risk_off_table(path((120, 0.7)))
    table["corr_30"] = path((80, 0.6), (40, 0.1))
    result = evaluate_signals(table)
    assert (result.columns["signal_risk_off_alignment"].to_numpy()[85:] == 1.0).all()
    assert (result.columns["signal_decoupling"].to_numpy()[85:] == 1.0).all()
    assert (result.columns["stance"].to_numpy()[85:] == 0.5).all()


def test_crypto_only_moves_are_flagged() -> None:
    rng = np.random.default_rng(3)
    n = 150
    crypto_ret = rng.normal(0, 0.03, n)
    equity_ret = rng.normal(0, 0.01, n)
    crypto_ret[120], equity_ret[120] = 0.25, 0.0
    crypto_ret[130], equity_ret[130] = 0.25, 0.05  # the index moved too: not crypto-only
    table = scenario(n, crypto_ret=crypto_ret, equity_ret=equity_ret)
    flags = evaluate_signals(table).crypto_only_moves
    assert flags.iloc[120] == 1.0
    assert flags.iloc[130] == 0.0
    assert flags.iloc[:60].isna().all()  # σ needs 60 earlier sessions


# --- without macro data ----------------------------------------------------------------------


def test_without_macro_every_column_exists_and_nothing_is_claimed() -> None:
    table = comove.analyze(*correlated_pair())
    for column in ("liquidity_score", "breadth"):  # absent, or present and empty
        assert column not in table or table[column].isna().all()
    result = evaluate_signals(table)
    assert list(result.columns.columns) == [f"signal_{s}" for s in SIGNALS] + ["stance"]
    assert (result.columns.dtypes == "float64").all()
    assert result.columns.index.equals(table.index)
    assert result.columns["signal_synchronized_breakout"].isna().all()
    stance = result.columns["stance"]
    # Stance: NaN exactly while decoupling is unknown, never bullish without macro data.
    assert stance.isna().equals(result.columns["signal_decoupling"].isna())
    assert set(stance.dropna().unique()) <= {0.0, 0.5}
    breakout = next(c for c in result.checklist() if c.name == "synchronized_breakout")
    assert breakout.state == "unknown"
    assert "cannot be confirmed" in breakout.summary
    assert "liquidity score" in breakout.summary
    liquidity = next(c for c in breakout.conditions if c.name == "liquidity")
    assert liquidity.status == "unknown"
    assert liquidity.mark == "?"


def test_kleene_policy_calls_a_failed_signal_off() -> None:
    table = scenario(corr_60=path((120, 0.2))).drop(columns="liquidity_score")
    assert np.isnan(_state(table, "synchronized_breakout")[30:]).all()
    kleene = _state(table, "synchronized_breakout", SignalConfig(unknown_policy="kleene"))
    assert (kleene[30:] == 0.0).all()


# --- checklist and history -------------------------------------------------------------------


def test_checklist_values_thresholds_and_since() -> None:
    table = _risk_off_table(path((70, 0.3), (50, 0.6)))
    result = evaluate_signals(table)
    checks = {c.name: c for c in result.checklist()}
    assert list(checks) == [*SIGNALS, "stance"]
    risk = checks["risk_off_alignment"]
    assert risk.state == "on"
    assert risk.since == table.index[70]
    corr = next(c for c in risk.conditions if c.name == "corr")
    assert corr.value == pytest.approx(0.6)
    assert corr.threshold == 0.5
    assert corr.exit == 0.45
    assert corr.threshold_text == ">= 0.50 (exit < 0.45)"
    assert corr.status == "pass"
    assert corr.since == table.index[70]
    assert checks["stance"].state == "reduce"
    # On an earlier date the same signal was off.
    earlier = {c.name: c for c in result.checklist(table.index[65])}
    assert earlier["risk_off_alignment"].state == "off"
    assert earlier["risk_off_alignment"].date == table.index[65]
    with pytest.raises(DataError):
        result.checklist("1990-01-01")


def test_history_lists_state_changes() -> None:
    table = _risk_off_table(path((70, 0.3), (30, 0.6), (20, 0.3)))
    history = evaluate_signals(table).history
    assert list(history.columns) == ["date", "signal", "from", "to"]
    risk = history[history["signal"] == "risk_off_alignment"]
    assert risk[["from", "to"]].values.tolist()[-2:] == [["off", "on"], ["on", "off"]]
    assert risk["date"].tolist()[-2:] == [table.index[70], table.index[100]]
    stance = history[history["signal"] == "stance"]
    assert ["neutral", "reduce"] in stance[["from", "to"]].values.tolist()


def test_missing_correlation_columns_are_computed() -> None:
    table = comove.analyze(*correlated_pair(), windows=(20, 40))
    result = evaluate_signals(table)
    corr = result.values["risk_off_alignment.corr"]
    expected = comove.rolling_corr(table["crypto_ret"], table["equity_ret"], 60)
    pd.testing.assert_series_equal(corr, expected, check_names=False)


def test_bad_config_is_refused() -> None:
    with pytest.raises(ConfigError, match="exit level"):
        SignalConfig(corr_enter=0.5, corr_exit=0.6)
    with pytest.raises(ConfigError, match="min_duration"):
        SignalConfig(min_duration=0)
    with pytest.raises(DataError, match="lacks"):
        evaluate_signals(pd.DataFrame({"crypto_close": [1.0]}))


def test_inputs_are_not_mutated() -> None:
    table = scenario()
    before = table.copy()
    evaluate_signals(table)
    pd.testing.assert_frame_equal(table, before)


def _hysteresis_loop(values: np.ndarray, enter: float, exit_: float, above: bool) -> list[float]:
    """The rule written as a plain loop: enter at one level, leave at the other."""
    out, state, known = [], False, False
    for v in values:
        if not np.isfinite(v):
            out.append(np.nan)
            known = False
            continue
        level = exit_ if (known and state) else enter
        state = v >= level if above else v < level
        known = True
        out.append(1.0 if state else 0.0)
    return out


@pytest.mark.parametrize(("comparison", "enter", "exit_"), [(">=", 0.5, 0.45), ("<", 0.2, 0.25)])
def test_vectorised_hysteresis_equals_the_plain_loop(
    comparison: str, enter: float, exit_: float
) -> None:
    from comove.signals.rules import hysteresis

    rng = np.random.default_rng(3)
    values = (0.1 * np.cumsum(rng.normal(0, 0.3, 2000))) % 1.0
    values[rng.choice(2000, 60, replace=False)] = np.nan
    got = hysteresis(values, comparison, enter, exit_)  # type: ignore[arg-type]
    want = _hysteresis_loop(values, enter, exit_, above=comparison == ">=")
    np.testing.assert_array_equal(got, np.array(want))
    assert 0 < np.nansum(got) < np.isfinite(got).sum()  # both states occur
