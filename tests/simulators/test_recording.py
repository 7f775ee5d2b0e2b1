"""``csms-sim --record``: the drivers a site saw, as a scenario the oracle can run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.evaluate.run import evaluate
from csms.evaluate.scenario import scenario_from_dict
from simulators.charger.model import CHARGER_TYPES
from simulators.ev import EV
from simulators.recording import Recorder, physics_cap
from simulators.vehicles import load_vehicles

T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def _dc_car():
    return next(v for v in load_vehicles() if v.dc_max_power_w >= 100_000)


def test_physics_cap_is_what_the_car_takes_alone():
    # An 11 kW AC car on a 22 kW charger for 30 min, far from full: 11 kW x 0.5 h.
    spec = next(v for v in load_vehicles() if v.ac_phases == 3 and v.ac_max_power_w >= 11_000)
    ev = EV(spec, soc_pct=10.0, target_soc_pct=90.0)
    kwh, kw, phases = physics_cap(CHARGER_TYPES["ac22"].supply(), ev, 1800.0)
    assert kw == pytest.approx(min(spec.ac_max_power_w, 22_080.0) / 1000.0, rel=0.01)
    assert kwh == pytest.approx(kw * 0.5, rel=0.01)
    assert phases == 3
    assert ev.soc_pct == 10.0  # the car recorded is not charged by the estimate


def test_physics_cap_stops_at_the_target_and_follows_the_dc_taper():
    spec = _dc_car()
    ev = EV(spec, soc_pct=70.0, target_soc_pct=80.0)
    kwh, kw, _ = physics_cap(CHARGER_TYPES["dc150"].supply(), ev, 3 * 3600.0)
    battery_kwh = spec.capacity_wh * 0.10 / 1000.0
    assert battery_kwh <= kwh <= battery_kwh / 0.85  # the target, plus charging losses
    assert kw <= 150.0


def test_scenario_round_trip_and_oracle():
    rec = Recorder()
    dc, ac = CHARGER_TYPES["dc50"].supply(), CHARGER_TYPES["ac22"].supply()
    spec = _dc_car()
    rec.arrived("A-1", 1, dc, EV(spec, 20.0, 80.0), T0 + timedelta(minutes=1), 1200.0)
    rec.arrived("A-2", 2, ac, EV(spec, 20.0, 80.0), T0 + timedelta(minutes=2), 7200.0)
    rec.arrived("A-3", 1, ac, EV(spec, 20.0, 80.0), T0 + timedelta(hours=2), 600.0)  # after
    data = rec.scenario(T0, T0 + timedelta(minutes=30), 30.0, 60)
    sc = scenario_from_dict(data)
    assert [s.id for s in sc.sessions] == ["s1", "s2"] and sc.periods == 30
    assert sc.sessions[1].departure == T0 + timedelta(minutes=30)  # cut at the horizon
    assert sc.sessions[0].min_kw == 0.0 and sc.sessions[1].min_kw > 4.0
    out = evaluate(sc, ["load_balancing"], oracle=True, with_sessions=False)
    oracle_kwh = out["results"]["load_balancing"]["energy_delivered_kwh"]
    # 30 kW for the 28 whole periods both cars are in, at most.
    assert 0 < oracle_kwh <= 30.0 * 29 / 60 + 1e-6
    assert oracle_kwh <= sum(s.energy_kwh for s in sc.sessions) + 1e-6


def test_the_oracle_keeps_each_phase_under_its_limit():
    """Three one-phase 6.6 kW cars under a 30 kW site (10 kW a phase): on chargers wired
    straight they all load L1 and get 10 kW between them; rotated (L1, L2, L3) each gets its
    own phase. Without the phase limit the oracle would give both layouts ~20 kW."""
    spec = next(v for v in load_vehicles() if v.ac_phases == 1)
    ac = CHARGER_TYPES["ac22"].supply()

    def oracle_kw(rotations, phase_limit_kw):
        rec = Recorder()
        for k, rotation in enumerate(rotations):
            rec.arrived(f"P-{k}", 1, ac, EV(spec, 10.0, 90.0), T0, 3600.0, rotation)
        data = rec.scenario(T0, T0 + timedelta(hours=1), 30.0, 60, phase_limit_kw=phase_limit_kw)
        sc = scenario_from_dict(data)
        out = evaluate(sc, ["load_balancing"], oracle=True, with_sessions=False)
        return data, out["results"]["load_balancing"]["energy_delivered_kwh"]

    data, straight = oracle_kw(["RST", "RST", "RST"], 10.0)
    assert [s["grid_phases"] for s in data["sessions"]] == ["L1", "L1", "L1"]
    assert data["site"]["phase_limit_kw"] == 10.0
    car_kw = data["sessions"][0]["max_kw"]
    assert straight == pytest.approx(10.0, rel=1e-6)
    data, rotated = oracle_kw(["RST", "STR", "TRS"], 10.0)
    assert [s["grid_phases"] for s in data["sessions"]] == ["L1", "L2", "L3"]
    assert rotated == pytest.approx(3 * min(car_kw, 10.0), rel=1e-6)
    _, pooled = oracle_kw(["RST", "RST", "RST"], None)
    assert pooled == pytest.approx(3 * car_kw, rel=1e-6)


def test_a_dc_session_loads_the_three_phases():
    rec = Recorder()
    rec.arrived("D-1", 1, CHARGER_TYPES["dc50"].supply(), EV(_dc_car(), 20.0, 80.0), T0, 600.0,
                "STR")
    assert rec.scenario(T0, T0 + timedelta(minutes=10), 50.0)["sessions"][0]["grid_phases"] \
        == "L1L2L3"


def test_grid_phases_are_checked():
    data = {"start": T0.isoformat(), "site": {"capacity_kw": 30.0, "phase_limit_kw": 10.0},
            "sessions": [{"arrival": T0.isoformat(), "departure": T0.isoformat(),
                          "energy_kwh": 1.0, "grid_phases": "L4"}]}
    with pytest.raises(ValueError, match="grid_phases"):
        scenario_from_dict(data)
