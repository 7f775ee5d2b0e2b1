"""EV physics: energy conservation, taper, efficiency, the 6 A rule, V2G."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.ev import (
    EV,
    Limit,
    Supply,
    ac_efficiency,
    dc_efficiency,
    power,
    step,
)
from simulators.vehicles import FleetMix, load_vehicles, vehicle

AC22 = Supply("AC", 22_000.0, 3)
AC7 = Supply("AC", 7_360.0, 1)
DC50 = Supply("DC", 50_000.0)
DC150 = Supply("DC", 150_000.0, v2g=True)


def test_fleet_has_the_brief_vehicles_with_corrections():
    names = {v.name for v in load_vehicles()}
    assert len(names) == 14
    twingo = vehicle("Renault Twingo E-Tech")
    assert (twingo.has_dc, twingo.ac_phases, twingo.ac_max_power_w) == (False, 3, 22_000.0)
    assert not vehicle("Tesla Model 3").v2g and not vehicle("Tesla Model S").v2g
    assert vehicle("Nissan Leaf").v2g
    assert vehicle("Mercedes eVito").capacity_wh == 90_000.0
    assert vehicle("Iveco eDaily").capacity_wh == 105_000.0
    assert {v.name for v in load_vehicles() if v.v2g} == {"Nissan Leaf"}


@pytest.mark.parametrize("name, supply, limit, state, grid_w", [
    # Peugeot e-208 11 kW 3-phase on 22 kW: onboard limit 11000/(3*230) = 15.94 A per phase.
    ("Peugeot e-208", AC22, None, "Charging", 11_000.0),
    # 16 A limit is above the onboard limit: still 11 kW.
    ("Peugeot e-208", AC22, Limit(16.0, "A"), "Charging", 11_000.0),
    # 10 A per phase on 3 phases = 6900 W.
    ("Peugeot e-208", AC22, Limit(10.0, "A"), "Charging", 6_900.0),
    # 4140 W on 3 phases = 6 A exactly: allowed.
    ("Peugeot e-208", AC22, Limit(4_140.0, "W"), "Charging", 4_140.0),
    # 5.9 A: the EV pauses.
    ("Peugeot e-208", AC22, Limit(5.9, "A"), "SuspendedEVSE", 0.0),
    # 1-phase Dacia Spring (6.6 kW) on 3-phase 22 kW: 1 phase at 28.7 A.
    ("Dacia Spring", AC22, None, "Charging", 6_600.0),
    # numberPhases=1 limit on a 3-phase car: 10 A on one phase = 2300 W.
    ("Peugeot e-208", AC22, Limit(10.0, "A", 1), "Charging", 2_300.0),
    # ... and 16 A on one phase is capped by the onboard charger's 15.94 A per phase.
    ("Peugeot e-208", AC22, Limit(16.0, "A", 1), "Charging", 11_000.0 / 3),
    # DC 50 kW, curve at 20 %: e-208 accepts 78 kW battery side -> charger-limited 50 kW.
    ("Peugeot e-208", DC50, None, "Charging", 50_000.0),
    # DC limit 20 kW.
    ("Peugeot e-208", DC50, Limit(20_000.0), "Charging", 20_000.0),
    # DC limit 0: paused by the charger.
    ("Peugeot e-208", DC50, Limit(0.0), "SuspendedEVSE", 0.0),
])
def test_instant_power(name, supply, limit, state, grid_w):
    ev = EV(vehicle(name), soc_pct=20.0)
    p = power(ev, supply, limit)
    assert p.state == state
    assert p.grid_power_w == pytest.approx(grid_w, rel=1e-6)


def test_dc_taper_follows_the_curve():
    # e-208 curve: 78 kW battery side between 17 and 46 %, 27 kW between 69 and 83 %.
    ev = EV(vehicle("Peugeot e-208"), soc_pct=30.0)
    assert power(ev, DC150, None).battery_power_w == pytest.approx(78_000.0)
    ev.soc_pct = 75.0
    assert power(ev, DC150, None).battery_power_w == pytest.approx(27_000.0)
    ev.soc_pct = 90.0
    assert power(ev, DC150, None).battery_power_w == pytest.approx(11_000.0)


def test_ac_taper_near_full():
    ev = EV(vehicle("Peugeot e-208"), soc_pct=97.5)
    # Halfway through the 95-100 % taper: half of 15.94 A = 7.97 A per phase.
    assert power(ev, AC22, None).current_a[0] == pytest.approx(11_000 / 690 / 2)


@pytest.mark.parametrize("current_a, eff", [(0.0, 0.86), (8.0, 0.90), (16.0, 0.94), (32.0, 0.94)])
def test_ac_efficiency_table(current_a, eff):
    assert ac_efficiency(current_a) == pytest.approx(eff)


@pytest.mark.parametrize("load, eff", [(0.0, 0.905), (0.5, 0.9165), (1.0, 0.928)])
def test_dc_efficiency_table(load, eff):
    assert dc_efficiency(load) == pytest.approx(eff)


def test_ten_minutes_at_11kw_adds_the_expected_soc():
    ev = EV(vehicle("Peugeot e-208"), soc_pct=50.0)
    s = step(ev, AC22, None, 600.0)
    # 11 kW for 1/6 h = 1833.3 Wh from the grid at 15.94 A: efficiency 0.86 + 0.08 * 15.94 / 16.
    assert s.grid_energy_wh == pytest.approx(11_000 / 6)
    eff = 0.86 + 0.08 * (11_000 / 690) / 16
    assert ev.soc_pct == pytest.approx(50.0 + 11_000 / 6 * eff / 45_000 * 100)


def test_stops_exactly_at_target():
    ev = EV(vehicle("Dacia Spring"), soc_pct=79.0, target_soc_pct=80.0)
    s = step(ev, DC50, None, 3600.0)
    assert ev.soc_pct == pytest.approx(80.0)
    assert s.battery_energy_wh == pytest.approx(0.01 * 26_800)
    assert power(ev, DC50, None).state == "SuspendedEV"


def test_v2g_only_for_capable_pairs():
    leaf = EV(vehicle("Nissan Leaf"), soc_pct=60.0)
    p = power(leaf, DC150, Limit(-5_000.0))
    assert p.state == "Discharging" and p.grid_power_w == -5_000.0
    assert p.battery_power_w < -5_000.0  # the battery covers the conversion losses
    assert power(leaf, DC50, Limit(-5_000.0)).state == "SuspendedEVSE"  # charger not V2G
    tesla = EV(vehicle("Tesla Model 3"), soc_pct=60.0)
    assert power(tesla, DC150, Limit(-5_000.0)).grid_power_w == 0.0


vehicles = st.sampled_from(load_vehicles())
supplies = st.sampled_from([AC22, AC7, DC50, DC150, Supply("AC", 11_000.0, 3)])
limits = st.one_of(st.none(), st.builds(Limit, st.floats(0, 400_000), st.just("W")),
                   st.builds(Limit, st.floats(0, 80), st.just("A"),
                             st.sampled_from([None, 1, 3])))


@settings(max_examples=150, deadline=None)
@given(vehicles, supplies, limits, st.floats(0, 99.9), st.floats(1, 7200))
def test_invariants(spec, supply, limit, soc_pct, dt_s):
    if supply.kind == "DC" and not spec.has_dc:
        return
    ev = EV(spec, soc_pct=soc_pct, target_soc_pct=100.0)
    before_wh = ev.battery_wh
    p = power(ev, supply, limit)
    s = step(ev, supply, limit, dt_s)
    # Conservation: the battery gained exactly what the step says, never more than the grid gave.
    assert ev.battery_wh - before_wh == pytest.approx(s.battery_energy_wh, abs=1e-6)
    assert 0.0 <= s.battery_energy_wh <= s.grid_energy_wh + 1e-9
    if s.grid_energy_wh > 0:
        assert 0.86 <= s.battery_energy_wh / s.grid_energy_wh <= 0.94 + 1e-9
    assert ev.soc_pct <= 100.0 + 1e-9
    # Never above the charger rating, the limit, or the energy the step could hold.
    assert p.grid_power_w <= supply.max_power_w + 1e-6
    assert s.grid_energy_wh <= supply.max_power_w * dt_s / 3600 + 1e-6
    if limit is not None and limit.unit == "W":
        assert p.grid_power_w <= limit.value + 1e-6
    if limit is not None and limit.unit == "A":
        assert max(p.current_a) <= limit.value + 1e-6
    if supply.kind == "AC" and p.grid_power_w > 0:
        assert max(p.current_a) >= 6.0 or ev.soc_pct > 95.0


def test_fleet_mix_is_deterministic_by_seed():
    import random

    mix = FleetMix.default()
    a = [mix.sample(random.Random(7)).name for _ in range(3)]
    b = [mix.sample(random.Random(7)).name for _ in range(3)]
    assert a == b
    assert FleetMix.parse("urban=100").sample(random.Random(1)).segment == "urban"
    with pytest.raises(ValueError):
        FleetMix.parse("luxury=10")
