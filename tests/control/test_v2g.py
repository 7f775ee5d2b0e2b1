"""V2G: who may discharge (2.1 needs), SoC-based need and floor, discharge set-points only on
2.1, the planner discharging 2.1 V2G sessions in the peak band and never anyone else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.control import planner
from csms.control.v2g import (
    BATTERY_EFFICIENCY,
    V2x,
    battery_of,
    need_and_floor_wh,
    v2x_capability,
)
from csms.domain import electrical
from csms.ocpp import profiles as pf
from csms.ocpp.charging_needs import parse
from csms.ocpp.schemas import validate
from csms.sites.snapshot import ChargerInfo, EvseSession, SiteSnapshot

T_PEAK = datetime(2026, 6, 9, 19, 30, tzinfo=UTC)  # 20:30 in Casablanca: evening peak band


def needs(transfer="DC_BPT", available=None, v2x=None, dc=None):
    """The typed fact the 2.1 adapter makes of such a NotifyEVChargingNeeds."""
    n: dict = {"requestedEnergyTransfer": transfer}
    if available is not None:
        n["availableEnergyTransfer"] = available
    if v2x is not None:
        n["v2xChargingParameters"] = v2x
    if dc is not None:
        n["dcChargingParameters"] = dc
    return parse({"evseId": 1, "chargingNeeds": n})


@pytest.mark.parametrize("payload, expected", [
    (needs(v2x={"maxDischargePower": 20000, "evMinV2XEnergyRequest": -11400}), (20000, 11400)),
    (needs(v2x={"maxDischargePower": 20000}), (20000, 0.0)),
    (needs(v2x={"maxDischargePower": 20000, "evMinV2XEnergyRequest": 3000}), (20000, 0.0)),
    (needs("DC", ["DC", "DC_BPT"], {"maxDischargePower": 7000}), (7000, 0.0)),
    (needs("DC", ["DC"], {"maxDischargePower": 7000}), None),    # not bidirectional
    (needs(v2x={"maxDischargePower": 0}), None),                  # will not discharge
    (needs(), None),                                              # no V2X parameters
    (needs("AC_three_phase"), None),                              # a 2.0.1 car
    (parse({}), None),
])
def test_v2x_capability(payload, expected):
    assert v2x_capability(payload) == expected


def test_need_and_floor_from_soc():
    # 40 kWh battery, 70 % when it plugged in, min V2X at 40 % (-12 kWh), target 80 %.
    battery = battery_of(needs(dc={"evMaxCurrent": 100, "evMaxVoltage": 440,
                                   "evEnergyCapacity": 40000, "stateOfCharge": 70},
                               v2x={"maxDischargePower": 20000, "targetSoC": 80,
                                    "evMinV2XEnergyRequest": -12000}))
    assert battery.min_v2x_wh == 16000 and battery.target_soc_pct == 80
    # Now at 60 % after discharging, 3 kWh net given so far (-3000 Wh net).
    requested_wh, floor_wh = need_and_floor_wh(battery, 60.0, -3000.0)
    assert requested_wh == pytest.approx(-3000 + 8000 / BATTERY_EFFICIENCY)
    assert floor_wh == pytest.approx(8000 * BATTERY_EFFICIENCY)
    # Below the V2X minimum: nothing to give; above the target: nothing missing.
    assert need_and_floor_wh(battery, 35.0, 0.0)[1] == 0.0
    assert need_and_floor_wh(battery, 90.0, 500.0)[0] == 500.0
    assert battery_of(needs(v2x={"maxDischargePower": 1})) is None


@pytest.mark.parametrize("row, peak, price, expected", [
    ([45, 45, -30, -30], [1, 1, 1, 1], [2, 2, 2, 2], 7.5),     # a cycle in one band: its mean
    ([45, -30, 20, 0], [1, 1, 0, 0], [2, 2, 1, 1], 7.5),        # the run ends with the band
    ([-30, -30, 45, 45], [1, 1, 0, 0], [2, 2, 1, 1], -30.0),    # discharge now, charge later
    ([10, 20, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], 10.0),          # no discharge: first period
    ([-5, -20, -20], [1, 1, 1], [2, 2, 2], -5.0),                # no charge: first period
])
def test_v2g_now_removes_cycles(row, peak, price, expected):
    got = planner.v2g_now_kw_of(np.array(row, float), np.array(peak, bool),
                                np.array(price, float))
    assert got == pytest.approx(expected)


@pytest.mark.parametrize("power_w, protocol, expected", [
    (-20_000.0, "2.1", -20_000.0),
    (-20_000.05, "2.1", -20_000.0),  # towards zero: never more discharge than planned
    (-20_000.0, "2.0.1", 0.0),
    (-20_000.0, "1.6", 0.0),
    (15_000.0, "2.1", 15_000.0),
])
def test_signed_limit(power_w, protocol, expected):
    assert pf.signed_limit(power_w, "W", 0, protocol) == expected


@given(st.lists(st.floats(-150_000, 150_000), min_size=1, max_size=4),
       st.sampled_from(["1.6", "2.0.1", "2.1"]), st.sampled_from([("A",), ("W",)]),
       st.sampled_from([0, 1, 3]))
def test_discharge_only_on_21(powers, protocol, units, phases):
    """Every payload is schema-valid; 1.6/2.0.1 never get a negative limit or a 2.1 field;
    2.1 discharges at most what was planned, with limit 0 and setpoint == dischargeLimit."""
    caps = pf.Capabilities(protocol=protocol, rate_units=units, max_stack_level=1, max_periods=4,
                           max_profiles=16)
    periods = tuple((600 * k, p) for k, p in enumerate(powers))
    profile = pf.LimitProfile(purpose=pf.TX, evse_id=1, periods=periods, phases=phases,
                              transaction_id="7")
    action, payload = pf.set_profile_request(profile, caps)
    validate(protocol, 2, action, payload, "x")
    schedule = (payload["csChargingProfiles"]["chargingSchedule"] if protocol == "1.6"
                else payload["chargingProfile"]["chargingSchedule"][0])
    unit = schedule["chargingRateUnit"]
    for (_, power_w), period in zip(periods, schedule["chargingSchedulePeriod"], strict=True):
        assert period["limit"] >= 0
        if protocol != "2.1":
            assert set(period) <= {"startPeriod", "limit", "numberPhases"}
            continue
        if "setpoint" in period:
            assert period["operationMode"] == "CentralSetpoint" and period["limit"] == 0
            assert period["setpoint"] == period["dischargeLimit"] < 0
            assert electrical.limit_power_w(period["setpoint"], unit, phases) >= power_w - 1e-6
        else:
            assert period["operationMode"] == "ChargingOnly"


def test_readback_reads_the_setpoint():
    answer = {"status": "Accepted", "schedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 0.0, "setpoint": -20000.0}]}}
    assert pf.composite_first_limit_w(answer, 3) == -20000.0
    answer["schedule"]["chargingSchedulePeriod"] = [{"startPeriod": 0}]
    assert pf.composite_first_limit_w(answer, 3) is None


def _snapshot(sessions, v2g, policy="grid_support", now=T_PEAK) -> SiteSnapshot:
    chargers = (ChargerInfo(id="V", protocol="2.1", connected=True, ac=False, phases=0,
                            evse_max_w=150_000, evses=2,
                            caps=pf.Capabilities(protocol="2.1", rate_units=("W",),
                                                 max_stack_level=8, max_periods=24)),
                ChargerInfo(id="A", protocol="2.0.1", connected=True, ac=True, phases=3,
                            evse_max_w=22_080, evses=2, caps=pf.Capabilities(protocol="2.0.1")))
    return SiteSnapshot(site_id=1, name="s", now=now, capacity_kw=100.0, policy=policy,
                        policy_params={}, control_period_s=60, tariff={"name": "onee-default"},
                        pv_kwp=0.0, latitude=33.6, longitude=-7.6,
                        base_load_profile="residential", base_load_peak_kw=30.0,
                        chargers=chargers, sessions=tuple(sessions), extra={"v2g": v2g})


def _session(charger, evse, sid, ac, max_w, want_wh, left_min, now=T_PEAK) -> EvseSession:
    return EvseSession(charger_id=charger, evse_id=evse, session_id=sid,
                       transaction_ref=f"t{sid}", ac=ac, phases=3 if ac else 0, max_w=max_w,
                       started_at=now, energy_wh=0.0, requested_wh=want_wh,
                       departure=now + timedelta(minutes=left_min), needs_source="ev")


def test_planner_discharges_the_21_v2g_session_in_the_peak():
    leaf = _session("V", 1, 1, False, 45_000, 4_000, 80)
    car = _session("A", 1, 2, True, 11_040, 8_000, 85)
    plan = planner.plan(_snapshot([leaf, car], {("V", 1): V2x(20_000, 11_400)}))
    assert -20_000 <= plan.power_w[0] < -1_000 and plan.why[0] == "v2g"
    # The 2.0.1 car waits for the end of the peak band at its minimum, never at 0: the site
    # has room for it and it may leave before the band ends.
    assert plan.power_w[1] == planner.floor_power_w(plan.sessions[1])
    # The same EV without the 2.1 V2X facts is never discharged.
    plan = planner.plan(_snapshot([leaf, car], {}))
    assert (plan.power_w >= 0).all()


@settings(max_examples=12, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(3_000, 45_000), st.floats(0, 30_000),
                          st.integers(20, 300), st.booleans()), min_size=1, max_size=4),
       st.sampled_from(["grid_support", "peak_shaving", "price_optimization"]))
def test_only_v2g_sessions_go_negative(rows, policy):
    sessions, v2g = [], {}
    for k, (dc, max_w, want_wh, left_min, offers) in enumerate(rows):
        charger = "V" if dc else "A"
        sessions.append(_session(charger, k + 1, k + 1, not dc, max_w, want_wh, left_min))
        if dc and offers:
            v2g[(charger, k + 1)] = V2x(min(max_w, 20_000), 10_000)
    plan = planner.plan(_snapshot(sessions, v2g, policy))
    for s, power_w in zip(plan.sessions, plan.power_w, strict=True):
        v = v2g.get((s.charger_id, s.evse_id))
        if v is None or policy != "grid_support":
            assert power_w >= 0
        else:
            assert power_w >= -v.max_discharge_w - 1e-6
