"""NotifyEVChargingNeeds is parsed once, by the 2.0.1 / 2.1 adapters, into the typed
``ChargingNeeds`` (units in the names, departure aware UTC, what the EV left out None), and that
fact is what the store keeps and reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.domain import events as ev
from csms.domain.charging_needs import ChargingNeeds
from csms.ocpp.framing import FrameError
from csms.ocpp.v21 import V21Adapter
from csms.ocpp.v201 import V201Adapter

T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


async def _reported(adapter_class, payload: dict) -> tuple[dict, ev.ChargingNeedsReported]:
    seen = []

    async def dispatch(event):
        seen.append(event)

    adapter = adapter_class("CP-N", dispatch, lambda: T0)
    answer = await adapter.routes["NotifyEVChargingNeeds"](payload)
    (event,) = seen
    assert isinstance(event, ev.ChargingNeedsReported)
    assert event.charger_id == "CP-N" and event.received_at == T0
    return answer, event


async def test_201_ac_needs_become_the_typed_fact():
    answer, event = await _reported(V201Adapter, {"evseId": 2, "chargingNeeds": {
        "requestedEnergyTransfer": "AC_single_phase",
        "departureTime": "2026-03-03T18:30:00+02:00",
        "acChargingParameters": {"energyAmount": 12_000, "evMinCurrent": 6,
                                 "evMaxCurrent": 16, "evMaxVoltage": 230}}})
    assert answer == {"status": "Accepted"} and event.evse_id == 2
    needs = event.needs
    assert needs.departure == datetime(2026, 3, 3, 16, 30, tzinfo=UTC)
    assert needs.departure.utcoffset() == timedelta(0)
    assert needs.requested_transfer == "AC_single_phase" and needs.ac_phases == 1
    assert (needs.energy_wh, needs.ac_min_current_a, needs.ac_max_current_a,
            needs.ac_max_voltage_v) == (12_000.0, 6.0, 16.0, 230.0)
    # What a 2.0.1 AC car does not say is None, not zero.
    assert needs.dc_max_power_w is None and needs.soc_pct is None
    assert needs.capacity_wh is None and needs.max_discharge_w is None
    assert needs.target_soc_pct is None and not needs.bidirectional
    assert needs.available_transfers == ()


async def test_201_needs_without_departure_or_parameters():
    _, event = await _reported(V201Adapter, {"evseId": 1, "chargingNeeds": {
        "requestedEnergyTransfer": "DC"}})
    assert event.needs == ChargingNeeds(requested_transfer="DC")


async def test_21_v2x_needs_become_the_typed_fact():
    _, event = await _reported(V21Adapter, {"evseId": 1, "chargingNeeds": {
        "requestedEnergyTransfer": "DC_BPT", "availableEnergyTransfer": ["DC", "DC_BPT"],
        "departureTime": "2026-03-03T11:00:00Z",
        "dcChargingParameters": {"evMaxCurrent": 110, "evMaxVoltage": 440,
                                 "energyAmount": 7600, "evMaxPower": 45_000,
                                 "evEnergyCapacity": 40_000, "stateOfCharge": 70},
        "v2xChargingParameters": {"maxChargePower": 45_000, "maxDischargePower": 20_000,
                                  "evMinV2XEnergyRequest": -11_400, "targetSoC": 80}}})
    needs = event.needs
    assert needs.departure == datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    assert needs.bidirectional and needs.available_transfers == ("DC", "DC_BPT")
    assert (needs.energy_wh, needs.dc_max_power_w, needs.dc_max_current_a,
            needs.dc_max_voltage_v) == (7600.0, 45_000.0, 110.0, 440.0)
    assert (needs.capacity_wh, needs.soc_pct, needs.target_soc_pct) == (40_000.0, 70.0, 80.0)
    assert (needs.max_discharge_w, needs.min_v2x_energy_wh) == (20_000.0, -11_400.0)
    assert needs.target_energy_wh is None  # not sent
    assert needs.ac_phases is None and needs.ac_max_current_a is None


async def test_21_bidirectional_when_only_available():
    _, event = await _reported(V21Adapter, {"evseId": 1, "chargingNeeds": {
        "requestedEnergyTransfer": "DC", "availableEnergyTransfer": ["DC", "DC_BPT"]}})
    assert event.needs.bidirectional


async def test_a_departure_no_charger_lived_through_is_refused():
    with pytest.raises(FrameError):
        await _reported(V201Adapter, {"evseId": 1, "chargingNeeds": {
            "requestedEnergyTransfer": "DC", "departureTime": "9999-12-31T23:59:59+01:00"}})


def test_stored_form_round_trips():
    needs = ChargingNeeds(requested_transfer="DC_BPT", available_transfers=("DC", "DC_BPT"),
                          departure=datetime(2026, 3, 3, 11, 0, tzinfo=UTC),
                          energy_wh=7600.0, soc_pct=70.0, bidirectional=True)
    stored = needs.as_json()
    assert stored["departure"] == "2026-03-03T11:00:00+00:00" and stored["soc_pct"] == 70.0
    assert ChargingNeeds.from_json(stored) == needs
    assert ChargingNeeds.from_json({}) == ChargingNeeds()
