"""Table-driven cases whose optimum is computed by hand (periods of 1 h unless noted)."""

from __future__ import annotations

import numpy as np
import pytest

from csms.charging import Problem, max_energy_kwh, online_schedule, schedule


def one_hour(avail, energy, max_kw, cap=100.0, **kw) -> Problem:
    return Problem(period_s=3600.0, available=np.array(avail, bool), energy_kwh=energy,
                   max_kw=max_kw, capacity_kw=cap, **kw)


def test_price_optimization_fills_the_cheapest_periods_earliest_first():
    # 10 kWh at <= 7 kW; prices 2,1,3,1: 7 kWh at the first 1 MAD period, 3 at the second.
    p = one_hour([[1, 1, 1, 1]], [10.0], [7.0], price_mad_per_kwh=[2.0, 1.0, 3.0, 1.0])
    np.testing.assert_allclose(schedule(p, "price_optimization").power_kw, [[0, 7, 0, 3]],
                               atol=1e-6)


def test_uncontrolled_charges_at_max_from_arrival():
    p = one_hour([[0, 1, 1, 1]], [10.0], [7.0])
    np.testing.assert_allclose(schedule(p, "uncontrolled").power_kw, [[0, 7, 3, 0]])


def test_peak_shaving_spreads_evenly():
    # Two sessions of 8 kWh over 4 h: 16 kWh / 4 h = 4 kW flat is the least peak.
    p = one_hour([[1, 1, 1, 1]] * 2, [8.0, 8.0], [7.0, 7.0])
    result = schedule(p, "peak_shaving")
    assert p.site_import_kw(result.power_kw).max() == pytest.approx(4.0, abs=1e-5)


def test_peak_shaving_with_base_load_fills_around_it():
    # Base 6,0,0,6; 6 kWh anywhere at <= 7 kW: import 6,3,3,6 or lower peak impossible (< 6).
    p = one_hour([[1, 1, 1, 1]], [6.0], [7.0], base_load_kw=[6.0, 0, 0, 6.0])
    assert p.site_import_kw(schedule(p, "peak_shaving").power_kw).max() == pytest.approx(6.0)


def test_site_limit_caps_the_energy_and_names_the_reason():
    # Three EVs want 10 kWh each in 2 h at 7 kW, the site allows 12 kW: 24 kWh is the max flow.
    p = one_hour([[1, 1]] * 3, [10.0] * 3, [7.0] * 3, cap=12.0)
    assert max_energy_kwh(p) == pytest.approx(24.0)
    result = schedule(p, "load_balancing")
    assert result.power_kw.sum() == pytest.approx(24.0)
    assert set(result.why.ravel()) <= {"site_limit", "ev_max", "energy_met"}
    assert "site_limit" in set(result.why.ravel())


def test_valley_filling_flattens_the_valley():
    # Base 10,0,0,10 and 10 kWh: the valley is filled to 5 kW (piecewise-linear: +-0.2 kW).
    p = one_hour([[1, 1, 1, 1]], [10.0], [7.0], base_load_kw=[10.0, 0, 0, 10.0])
    np.testing.assert_allclose(schedule(p, "valley_filling").power_kw, [[0, 5, 5, 0]], atol=0.2)


def test_renewable_integration_follows_the_sun():
    p = one_hour([[1, 1, 1, 1]], [10.0], [10.0], pv_kw=[0, 10.0, 0, 0],
                 price_mad_per_kwh=[1.0, 1.0, 1.0, 1.0])
    result = schedule(p, "renewable_integration")
    np.testing.assert_allclose(result.power_kw, [[0, 10, 0, 0]], atol=1e-6)


def test_grid_support_discharges_at_peak_but_keeps_the_energy():
    # Base 5 kW; peak band = period 1. A V2G car (7 kW both ways) wants 7 kWh net.
    p = one_hour([[1, 1, 1, 1]], [7.0], [7.0], base_load_kw=5.0, discharge_max_kw=[7.0],
                 peak_mask=[False, True, False, False], price_mad_per_kwh=[1.0, 2.0, 1.0, 1.0])
    result = schedule(p, "grid_support")
    power = result.power_kw[0]
    assert max(0.0, 5.0 + power[1]) == pytest.approx(0.0, abs=1e-6)   # no peak-band import
    assert power.sum() == pytest.approx(7.0, abs=1e-6)                # nobody left short
    assert np.all(np.cumsum(power) >= -1e-9)
    assert result.why[0, 1] == "v2g"


def test_grid_support_follows_the_frequency_droop():
    # 50 Hz: 7 kW; 49.85 Hz: half; 49.8 Hz: none.
    p = one_hour([[1, 1, 1, 1]], [28.0], [7.0], frequency_hz=[50.0, 49.85, 49.8, 50.0])
    result = schedule(p, "grid_support")
    np.testing.assert_allclose(result.power_kw, [[7, 3.5, 0, 7]], atol=1e-6)
    assert list(result.why[0]) == ["ev_max", "frequency", "frequency", "ev_max"]


def test_circuit_constraint_binds():
    p = one_hour([[1, 1], [1, 1]], [14.0, 14.0], [7.0, 7.0], constraint_matrix=[[1.0, 1.0]],
                 constraint_limits_kw=[[10.0]], constraint_names=("circuit_a",))
    result = schedule(p, "price_optimization")
    assert result.power_kw.sum() == pytest.approx(20.0)
    assert np.all(result.power_kw.sum(axis=0) <= 10.0 + 1e-6)
    assert "circuit_a" in set(result.why.ravel())
    assert set(result.why.ravel()) <= {"circuit_a", "ev_max"}


def test_energy_met_and_not_present():
    p = one_hour([[0, 1, 1, 1]], [7.0], [7.0])
    result = schedule(p, "load_balancing")
    assert list(result.why[0]) == ["not_present", "ev_max", "energy_met", "energy_met"]


def test_online_sees_only_arrived_sessions():
    # EV b arrives in period 2 needing 14 kWh at 7 kW in 2 h; the 7 kW site forces a to finish
    # first. Online knows b only at period 2: a waits for the cheap periods 2-3, and then a and
    # b share 7 kW for 2 h: 14 kWh instead of the oracle's 28.
    p = one_hour([[1, 1, 1, 1], [0, 0, 1, 1]], [14.0, 14.0], [7.0, 7.0], cap=7.0,
                 price_mad_per_kwh=[2.0, 2.0, 1.0, 1.0])
    oracle = schedule(p, "price_optimization").power_kw.sum()
    online = online_schedule(p, "price_optimization").power_kw.sum()
    assert oracle == pytest.approx(28.0)
    assert online == pytest.approx(14.0)


@pytest.mark.parametrize("policy", ["load_balancing", "peak_shaving", "valley_filling",
                                    "price_optimization", "renewable_integration"])
def test_when_not_every_kwh_fits_the_car_leaving_first_charges_first(policy):
    # One 7 kW site, two cars that could each take 21 kWh; A leaves after 2 h, B after 3 h.
    # Any split delivers 21 kWh; earliest deadline first gives A the first two hours (an
    # objective that favoured the lax car starved A and gave B all three).
    p = one_hour([[1, 1, 0], [1, 1, 1]], [100.0, 100.0], [7.0, 7.0], cap=7.0)
    np.testing.assert_allclose(schedule(p, policy).power_kw, [[7, 7, 0], [0, 0, 7]],
                               atol=1e-6)


@pytest.mark.parametrize("mode", [schedule, online_schedule])
@pytest.mark.parametrize(("floor_kwh", "band_import_kwh", "power_kw"), [
    # Nothing in the battery to give: the car must take before it gives (4 in, 4 back), then
    # gets its 4 kWh: 6+4 + 6-4 = 12 kWh imported in the band.
    (0.0, 12.0, [4, -4, 4, 0]),
    # 10 kWh above its V2X minimum: it covers 10 of the band's 12 kWh of base load and
    # takes 10 + 4 kWh back at 7 kW off-band.
    (10.0, 2.0, [-4, -6, 7, 7]),
])
def test_grid_support_reaches_the_peak_band_minimum_with_the_battery(mode, floor_kwh,
                                                                     band_import_kwh,
                                                                     power_kw):
    # Base 6 kW, peak band = hours 0-1; one V2G car (7 kW both ways) wants 4 kWh net.
    p = one_hour([[1, 1, 1, 1]], [4.0], [7.0], cap=20.0, base_load_kw=6.0,
                 discharge_max_kw=[7.0], energy_floor_kwh=[floor_kwh],
                 peak_mask=[True, True, False, False], price_mad_per_kwh=[2.0, 2.0, 1.0, 1.0])
    result = mode(p, "grid_support")
    band = np.maximum(p.site_import_kw(result.power_kw), 0.0)[p.peak_mask].sum()
    assert band == pytest.approx(band_import_kwh, abs=1e-6)
    np.testing.assert_allclose(result.power_kw[0], power_kw, atol=1e-6)
    assert result.power_kw.sum() == pytest.approx(4.0, abs=1e-6)   # leaves with its energy
