"""Voltage of the closed-form model against a pandapower power flow of the same LV feeder."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from csms.grid.model import grid_kpis, lv_feeder

pp = pytest.importorskip("pandapower")

UPSTREAM_MVA, UPSTREAM_X_OVER_R = 250.0, 5.0
TRAFO_KVA, UK_PCT, UR_PCT = 630.0, 4.0, 1.0
CABLE_KM, CABLE_R_OHM_PER_KM, CABLE_X_OHM_PER_KM = 0.2, 0.206, 0.08  # ~ NAYY 4x150 SE


def _pandapower_voltage_pu(p_kw: float, q_kvar: float) -> float:
    """22 kV grid (250 MVA, X/R 5) -> 630 kVA 22/0.4 kV Dyn5 -> 200 m cable -> load."""
    net = pp.create_empty_network()
    mv0, mv1 = pp.create_bus(net, vn_kv=22.0), pp.create_bus(net, vn_kv=22.0)
    lv0, lv1 = pp.create_bus(net, vn_kv=0.4), pp.create_bus(net, vn_kv=0.4)
    pp.create_ext_grid(net, mv0, vm_pu=1.0)
    z_ohm = 22e3**2 / (UPSTREAM_MVA * 1e6)
    r_ohm = z_ohm / math.sqrt(1 + UPSTREAM_X_OVER_R**2)
    z_base_ohm = 22.0**2 / 1.0  # on a 1 MVA base
    pp.create_impedance(net, mv0, mv1, rft_pu=r_ohm / z_base_ohm,
                        xft_pu=r_ohm * UPSTREAM_X_OVER_R / z_base_ohm, sn_mva=1.0)
    pp.create_transformer_from_parameters(
        net, mv1, lv0, sn_mva=TRAFO_KVA / 1e3, vn_hv_kv=22.0, vn_lv_kv=0.4,
        vkr_percent=UR_PCT, vk_percent=UK_PCT, pfe_kw=0.0, i0_percent=0.0, shift_degree=150)
    pp.create_line_from_parameters(net, lv0, lv1, length_km=CABLE_KM,
                                   r_ohm_per_km=CABLE_R_OHM_PER_KM,
                                   x_ohm_per_km=CABLE_X_OHM_PER_KM, c_nf_per_km=0.0, max_i_ka=0.4)
    pp.create_load(net, lv1, p_mw=p_kw / 1e3, q_mvar=q_kvar / 1e3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net)
    return float(net.res_bus.vm_pu[lv1])


@pytest.mark.parametrize(("base_kw", "ev_kw", "pv_kw"), [
    (100.0, 0.0, 0.0),
    (150.0, 120.0, 0.0),  # heavy load: ~9 % drop
    (50.0, 22.0, 200.0),  # export: voltage rise
])
def test_voltage_matches_pandapower_within_half_a_percent(base_kw, ev_kw, pv_kw):
    conn = lv_feeder(TRAFO_KVA, UK_PCT, UR_PCT, UPSTREAM_MVA, UPSTREAM_X_OVER_R,
                     CABLE_KM * CABLE_R_OHM_PER_KM, CABLE_KM * CABLE_X_OHM_PER_KM,
                     base_power_factor=0.95)
    kpis = grid_kpis(conn, np.array([base_kw]), np.full((1, 3), ev_kw / 3), np.array([pv_kw]))
    q_kvar = base_kw * math.tan(math.acos(0.95))
    expected = _pandapower_voltage_pu(base_kw + ev_kw - pv_kw, q_kvar)
    assert kpis.voltage_pu[0] == pytest.approx(expected, rel=0.005)
    # The closed form is exact for this circuit; the 0.5 % bound is the acceptance test.
    assert abs(kpis.voltage_pu[0] - expected) < 1e-6


def test_unbalanced_phase_voltages_and_vuf_match_pandapower_3ph():
    """Single-phase-heavy load through a Dyn transformer and a cable with Z0 = Z1: the decoupled
    phase model against pandapower's three-phase power flow."""
    net = pp.create_empty_network()
    mv, lv0, lv1 = (pp.create_bus(net, vn_kv=22.0), pp.create_bus(net, vn_kv=0.4),
                    pp.create_bus(net, vn_kv=0.4))
    pp.create_ext_grid(net, mv, vm_pu=1.0, s_sc_max_mva=1e6, rx_max=0.1, x0x_max=1.0,
                       r0x0_max=0.1)
    pp.create_transformer_from_parameters(
        net, mv, lv0, sn_mva=TRAFO_KVA / 1e3, vn_hv_kv=22.0, vn_lv_kv=0.4, vkr_percent=UR_PCT,
        vk_percent=UK_PCT, pfe_kw=0.0, i0_percent=0.0, shift_degree=150, vector_group="Dyn",
        vk0_percent=UK_PCT, vkr0_percent=UR_PCT, mag0_percent=100, mag0_rx=0,
        si0_hv_partial=0.9)
    pp.create_line_from_parameters(
        net, lv0, lv1, length_km=CABLE_KM, r_ohm_per_km=CABLE_R_OHM_PER_KM,
        x_ohm_per_km=CABLE_X_OHM_PER_KM, c_nf_per_km=0.0, max_i_ka=0.4,
        r0_ohm_per_km=CABLE_R_OHM_PER_KM, x0_ohm_per_km=CABLE_X_OHM_PER_KM, c0_nf_per_km=0.0)
    pp.create_asymmetric_load(net, lv1, p_a_mw=0.060, p_b_mw=0.020, p_c_mw=0.010)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp_3ph(net)
    res = net.res_bus_3ph.loc[lv1]

    conn = lv_feeder(TRAFO_KVA, UK_PCT, UR_PCT, 1e6, 10.0, CABLE_KM * CABLE_R_OHM_PER_KM,
                     CABLE_KM * CABLE_X_OHM_PER_KM, base_power_factor=1.0)
    kpis = grid_kpis(conn, np.zeros(1), np.array([[60.0, 20.0, 10.0]]), np.zeros(1))
    ours_pu = kpis.phase_voltage_v[0] / (400.0 / math.sqrt(3))
    np.testing.assert_allclose(ours_pu, [res.vm_a_pu, res.vm_b_pu, res.vm_c_pu], rtol=0.005)
    assert kpis.voltage_unbalance_pct[0] == pytest.approx(res.unbalance_percent, rel=0.05)
