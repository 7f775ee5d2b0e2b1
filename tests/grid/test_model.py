"""Closed-form grid KPIs: voltage drop, unbalance, power factor, loading, THD, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.grid.connection import GridConnection, lv_feeder
from csms.grid.kpis import KPI_THRESHOLDS, violation_shares
from csms.grid.model import grid_kpis

E_V = 400 / math.sqrt(3)  # 230.94 V phase-to-neutral


def _conn(r_ohm: float, **kw) -> GridConnection:
    """LV connection with R = X = r_ohm per phase: S_sc = V^2 / (r sqrt 2), X/R = 1."""
    return GridConnection("LV", 400.0, 630.0, 400.0**2 / (r_ohm * math.sqrt(2)) / 1e6, 1.0, **kw)


def _zeros(T=1):
    return np.zeros(T), np.zeros((T, 3)), np.zeros(T)


def test_impedance_from_short_circuit_power():
    z = _conn(0.01).impedance_ohm
    assert z.real == pytest.approx(0.01) and z.imag == pytest.approx(0.01)
    assert GridConnection("MV").nominal_v == 22_000 and GridConnection("HV").nominal_v == 60_000


@pytest.mark.parametrize(("p_kw_per_phase", "q_kvar_per_phase", "r_ohm", "expected_v"), [
    # Hand formula V = E - (PR + QX)/V - (PX - QR)^2 / (2 E V^2), E = 230.940 V, two
    # iterations from V = E:
    # 23.094 kW, R = X = 0.01: 230.940 - 230.94/229.94 - 0.002 = 229.934 V
    (23.094, 0.0, 0.01, 229.934),
    # 23.094 kW + 23.094 kvar: 230.940 - 461.88/228.94 - 0 = 228.923 V (b = PX - QR = 0)
    (23.094, 23.094, 0.01, 228.923),
    # 46.188 kW, R = X = 0.02: 230.940 - 923.76/226.90 - 0.036 = 226.833 V
    (46.188, 0.0, 0.02, 226.833),
])
def test_balanced_voltage_drop_hand_cases(p_kw_per_phase, q_kvar_per_phase, r_ohm, expected_v):
    conn = _conn(r_ohm, base_power_factor=1.0)
    base, ev, pv = _zeros()
    ev[:] = p_kw_per_phase
    kpis = grid_kpis(conn, base, ev, pv, ev_kvar=np.array([3 * q_kvar_per_phase]))
    np.testing.assert_allclose(kpis.phase_voltage_v[0], expected_v, atol=0.005)
    assert kpis.voltage_pu[0] == pytest.approx(kpis.phase_voltage_v[0, 0] / E_V)
    assert kpis.voltage_unbalance_pct[0] == pytest.approx(0.0, abs=1e-9)
    assert kpis.voltage_deviation_pct[0] == pytest.approx((expected_v / E_V - 1) * 100, abs=0.02)


@pytest.mark.parametrize(("p_kw", "r_ohm"), [(7.4, 0.01), (22.0, 0.05), (11.0, 0.05)])
def test_single_phase_load_voltage_unbalance(p_kw, r_ohm):
    # Only phase a drops (decoupled phases): V2 = (Va - E)/3, V1 = (Va + 2E)/3, and to first
    # order |Va - E| = |Z| I with I = P / E, so VUF ~ |Z| I / (3 E).
    conn = _conn(r_ohm, base_power_factor=1.0)
    base, ev, pv = _zeros()
    ev[0, 0] = p_kw
    kpis = grid_kpis(conn, base, ev, pv)
    vuf_hand_pct = r_ohm * math.sqrt(2) * (p_kw * 1e3 / E_V) / (3 * E_V) * 100
    assert kpis.voltage_unbalance_pct[0] == pytest.approx(vuf_hand_pct, rel=0.05)
    # NEMA (line voltages) and IEC agree closely for small unbalance.
    assert kpis.voltage_unbalance_nema_pct[0] == pytest.approx(vuf_hand_pct, rel=0.25)
    assert kpis.phase_voltage_v[0, 1] == pytest.approx(E_V)  # other phases untouched
    assert kpis.phase_voltage_v[0, 0] < E_V


def test_spreading_load_over_phases_removes_unbalance():
    conn = _conn(0.05)
    base, ev, pv = _zeros(2)
    ev[0] = [22.0, 0.0, 0.0]
    ev[1] = [22.0 / 3] * 3
    kpis = grid_kpis(conn, base, ev, pv)
    assert kpis.voltage_unbalance_pct[0] > 0.5
    assert kpis.voltage_unbalance_pct[1] == pytest.approx(0.0, abs=1e-9)


Q_BASE = 100 * math.tan(math.acos(0.95))  # 32.868 kvar


@pytest.mark.parametrize(("base_kw", "ev_kw", "pv_kw", "ev_kvar", "pf"), [
    (100.0, 0.0, 0.0, 0.0, 0.95),
    (100.0, 60.0, 0.0, 0.0, 160 / math.hypot(160, Q_BASE)),  # 0.97955
    (100.0, 60.0, 0.0, -Q_BASE, 1.0),  # chargers compensate the base load's kvar
    (100.0, 0.0, 100.0, 0.0, 0.0),  # PV cancels P: only reactive flows
    (0.0, 0.0, 0.0, 0.0, 1.0),  # nothing flows: defined as 1
    (100.0, 0.0, 150.0, 0.0, 50 / math.hypot(50, Q_BASE)),  # export
])
def test_power_factor_hand_cases(base_kw, ev_kw, pv_kw, ev_kvar, pf):
    kpis = grid_kpis(GridConnection("LV"), np.array([base_kw]), np.full((1, 3), ev_kw / 3),
                     np.array([pv_kw]), ev_kvar=np.array([ev_kvar]))
    assert kpis.power_factor[0] == pytest.approx(pf, abs=1e-9)
    assert kpis.import_kw[0] == pytest.approx(base_kw + ev_kw - pv_kw)


def test_transformer_loading_uses_the_most_loaded_phase():
    conn = GridConnection("LV", transformer_kva=630.0, base_power_factor=1.0)
    base, ev, pv = _zeros(2)
    base[0] = 630.0
    ev[1, 0] = 70.0
    kpis = grid_kpis(conn, base, ev, pv)
    np.testing.assert_allclose(kpis.transformer_loading_pct, [100.0, 100.0 * 3 * 70 / 630])


def test_voltage_thd_of_one_throttled_charger():
    # Only the charger distorts (no background, base or PV): at 16 A of 32 A rated its current
    # THD doubles to 10 %: I_h = 1.6 A; V_h = I_h |R + j5X| = 1.6 x |0.05 + 0.25j| = 0.408 V.
    conn = _conn(0.05, background_voltage_thd_pct=0.0, base_load_thd_pct=0.0, pv_thd_pct=0.0,
                 charger_thd_at_rated_pct=5.0)
    base, ev, pv = _zeros()
    ev[0, 0] = 16 * E_V / 1e3
    kpis = grid_kpis(conn, base, ev, pv, ev_current_a=np.array([[16.0, 0.0, 0.0]]))
    assert kpis.current_thd_pct[0] == pytest.approx(10.0)
    assert kpis.voltage_thd_pct[0] == pytest.approx(1.6 * abs(0.05 + 0.25j) / E_V * 100, rel=0.02)


def test_thd_rises_when_the_same_power_is_spread_over_throttled_chargers():
    conn = GridConnection("LV")
    base, ev, pv = np.full(2, 50.0), np.full((2, 3), 22.0), np.zeros(2)
    currents = np.array([[32.0] * 3, [8.0] * 3])  # 3 chargers at 32 A vs 12 chargers at 8 A
    kpis = grid_kpis(conn, base, ev, pv, ev_current_a=currents)
    assert kpis.current_thd_pct[1] > kpis.current_thd_pct[0]
    assert kpis.voltage_thd_pct[1] > kpis.voltage_thd_pct[0]


@pytest.mark.parametrize(("level", "limit"), [("LV", 8.0), ("MV", 5.0), ("HV", 5.0)])
def test_voltage_thd_limit_by_level(level, limit):
    base, ev, pv = _zeros()
    assert grid_kpis(GridConnection(level), base, ev, pv).voltage_thd_limit_pct == limit


def test_violation_shares():
    # 70 kW on one phase of a weak feeder: |Z| I ~ 0.0849 x 303 A ~ 26 V: -11 % and VUF ~ 4 %.
    conn = _conn(0.06)
    base, ev, pv = np.array([10.0, 10.0]), np.zeros((2, 3)), np.zeros(2)
    ev[1, 0] = 70.0
    kpis = grid_kpis(conn, base, ev, pv, frequency_hz=np.array([50.0, 50.15]))
    shares = violation_shares(kpis, KPI_THRESHOLDS)
    assert shares["voltage"] == 0.5 and shares["voltage_unbalance"] == 0.5
    assert shares["frequency"] == 0.5


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"voltage_level": "XV"}, "voltage_level"),
    ({"voltage_level": "LV", "nominal_v": 22_000}, "LV connection"),
    ({"voltage_level": "MV", "nominal_v": 400}, "MV connection"),
    ({"short_circuit_mva": -1.0}, "short_circuit_mva"),
    ({"base_power_factor": 1.2}, "base_power_factor"),
])
def test_connection_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GridConnection(**kwargs)


def test_shape_validation():
    conn = GridConnection()
    with pytest.raises(ValueError, match=r"\(T, 3\)"):
        grid_kpis(conn, np.zeros(2), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="base_kw"):
        grid_kpis(conn, np.zeros(3), np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        grid_kpis(conn, np.array([np.nan, 0.0]), np.zeros((2, 3)), np.zeros(2))


@settings(max_examples=100, deadline=None)
@given(p_kw=st.floats(-80, 80), q_kvar=st.floats(-40, 40))
def test_solution_satisfies_the_circuit_equation(p_kw, q_kvar):
    # |E|^2 |V|^2 = (|V|^2 + PR + QX)^2 + (PX - QR)^2 for each phase.
    conn = lv_feeder(feeder_r_ohm=0.03, feeder_x_ohm=0.01, base_power_factor=1.0)
    z = conn.impedance_ohm
    kpis = grid_kpis(conn, np.zeros(1), np.array([[p_kw, 0.0, 0.0]]), np.zeros(1),
                     ev_kvar=np.array([[q_kvar, 0.0, 0.0]]))
    u = kpis.phase_voltage_v[0, 0] ** 2
    p, q = p_kw * 1e3, q_kvar * 1e3
    lhs = E_V**2 * u
    rhs = (u + p * z.real + q * z.imag) ** 2 + (p * z.imag - q * z.real) ** 2
    assert lhs == pytest.approx(rhs, rel=1e-9)
    if p_kw > 1e-3 and q_kvar >= 0:
        assert kpis.phase_voltage_v[0, 0] < E_V
