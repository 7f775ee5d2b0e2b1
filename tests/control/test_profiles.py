"""csms.ocpp.profiles: payloads chargers accept, limits rounded down, capability parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.domain import electrical
from csms.ocpp import profiles as pf
from csms.ocpp.schemas import validate

CAPS16 = pf.Capabilities(protocol="1.6", rate_units=("A", "W"), max_stack_level=3,
                         max_periods=24, max_profiles=16, evses=2, probed=True)
CAPS201 = pf.Capabilities(protocol="2.0.1", rate_units=("A", "W"), max_stack_level=3,
                          max_periods=24, max_profiles=16, evses=2, probed=True)
T = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("power_w, unit, phases, expected", [
    (11_040.0, "A", 3, 16.0),       # 11040 / 690 = 16.0 exactly
    (11_039.0, "A", 3, 15.9),       # rounded down, never up
    (4_139.0, "A", 3, 0.0),         # 5.99 A: below 6 A -> 0
    (4_140.0, "A", 3, 6.0),
    (1_380.0, "A", 1, 6.0),
    (7_000.55, "W", 3, 7_000.5),    # one decimal, down
    (3_000.0, "W", 3, 0.0),         # 4.35 A per phase: below the AC minimum
    (3_000.0, "W", 0, 3_000.0),     # DC: no minimum
    (-5.0, "A", 3, 0.0),
])
def test_to_limit(power_w, unit, phases, expected):
    assert electrical.to_limit(power_w, unit, phases) == expected


@given(st.floats(0, 400_000), st.sampled_from(["A", "W"]), st.sampled_from([0, 1, 3]))
def test_limit_never_above_the_planned_power(power_w, unit, phases):
    value = electrical.to_limit(power_w, unit, phases)
    assert electrical.limit_power_w(value, unit, phases) <= power_w + 1e-6
    assert round(value, 1) == value
    if phases and unit == "A":
        assert value == 0 or value >= 6.0


def test_tx_profile_16_validates_and_carries_the_transaction():
    p = pf.LimitProfile(purpose=pf.TX, evse_id=1, periods=((0, 11_040.0),), phases=3, start=T,
                        duration_s=300, transaction_id="42")
    action, payload = pf.set_profile_request(p, CAPS16)
    validate("1.6", 2, action, payload, "-")
    prof = payload["csChargingProfiles"]
    assert payload["connectorId"] == 1 and prof["transactionId"] == 42
    assert prof["chargingProfilePurpose"] == "TxProfile" and prof["stackLevel"] == 1
    assert prof["chargingProfileId"] == pf.TX_PROFILE_ID_BASE + 1
    assert prof["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}]
    assert prof["chargingProfileKind"] == "Absolute" and prof["chargingSchedule"]["duration"] == 300


def test_failsafe_201_on_evse_0_at_level_0():
    p = pf.LimitProfile(purpose=pf.TX_DEFAULT, evse_id=0, periods=((0, 1_500.0),), phases=1)
    action, payload = pf.set_profile_request(p, CAPS201)
    validate("2.0.1", 2, action, payload, "-")
    prof = payload["chargingProfile"]
    assert payload["evseId"] == 0 and prof["stackLevel"] == 0
    assert prof["chargingProfilePurpose"] == "TxDefaultProfile"
    assert prof["chargingProfileKind"] == "Relative"
    assert prof["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 6.5


def test_rules_chargers_enforce():
    with pytest.raises(ValueError):
        pf.set_profile_request(
            pf.LimitProfile(purpose=pf.MAX, evse_id=1, periods=((0, 1.0),)), CAPS16)
    with pytest.raises(ValueError):
        pf.set_profile_request(
            pf.LimitProfile(purpose=pf.TX, evse_id=1, periods=((0, 1.0),)), CAPS201)
    # Power-only charger: Watts; a charger without stack levels gets level 0.
    caps = pf.Capabilities(protocol="2.0.1", rate_units=("W",), max_stack_level=0, max_periods=1,
                           max_profiles=1)
    _, payload = pf.set_profile_request(pf.LimitProfile(
        purpose=pf.TX, evse_id=2, periods=((0, 7_400.0), (60, 5_000.0)), phases=3,
        transaction_id="t"), caps)
    sched = payload["chargingProfile"]["chargingSchedule"][0]
    assert sched["chargingRateUnit"] == "W" and len(sched["chargingSchedulePeriod"]) == 1
    assert payload["chargingProfile"]["stackLevel"] == 0


def test_parse_probe_both_versions():
    r16 = {"configurationKey": [
        {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Current"},
        {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "5"},
        {"key": "ChargingScheduleMaxPeriods", "readonly": True, "value": "10"},
        {"key": "MaxChargingProfilesInstalled", "readonly": True, "value": "4"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"}]}
    assert pf.parse_probe("1.6", r16) == pf.Capabilities(
        protocol="1.6", rate_units=("A",), max_stack_level=5, max_periods=10, max_profiles=4,
        evses=2, probed=True)
    r201 = {"getVariableResult": [
        {"attributeStatus": "Accepted", "component": {"name": "SmartChargingCtrlr"},
         "variable": {"name": n}, "attributeValue": v}
        for n, v in [("RateUnit", "A,W"), ("ProfileStackLevel", "8"),
                     ("PeriodsPerSchedule", "24"), ("Entries", "16")]]}
    assert pf.parse_probe("2.0.1", r201) == pf.Capabilities(
        protocol="2.0.1", rate_units=("A", "W"), max_stack_level=8, max_periods=24,
        max_profiles=16, evses=1, probed=True)
    assert not pf.parse_probe("1.6", {}).probed
    action, payload = pf.probe_request("2.0.1")
    validate("2.0.1", 2, action, payload, "-")


def test_composite_first_limit():
    resp = {"status": "Accepted", "schedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
        {"startPeriod": 60, "limit": 10.0}, {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}]}}
    assert pf.composite_first_limit_w(resp, 3) == 16.0 * 230 * 3
    # A one-phase car under the charger's three-phase 16 A gets one phase's worth: our
    # 16.9 A one-phase limit (3,887 W) is not exceeded by the composite's 16 A.
    assert pf.composite_first_limit_w(resp, 1) == 16.0 * 230
    assert pf.composite_first_limit_w({"status": "Rejected"}, 3) is None
