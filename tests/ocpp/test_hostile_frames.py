"""Frames built to hurt: bounded work per frame, poison values dropped one at a time, strings
every store can keep. Over real websockets to the in-process gateway; any ERROR log fails the
test (tests/conftest.py), and these run on PostgreSQL too (`make test-store-pg`)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlmodel import Session, select

from csms.store.tables import ChargerRow, MeterSampleRow
from tests.ocpp.clients import raw

pytestmark = pytest.mark.store

V16, V201 = "ocpp1.6", "ocpp2.0.1"
HEARTBEAT = '[2,"hb","Heartbeat",{}]'


def _samples(services, charger_id: str) -> list[MeterSampleRow]:
    with Session(services.engine) as session:
        return list(session.exec(select(MeterSampleRow).where(
            MeterSampleRow.charger_id == charger_id)).all())


async def _answer(ws, frame: str) -> list:
    await ws.send(frame)
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


def _meter_values_201(*sampled: dict) -> str:
    return json.dumps([2, "mv", "MeterValues", {"evseId": 1, "meterValue": [
        {"timestamp": "2026-04-01T08:00:00Z", "sampledValue": list(sampled)}]}])


async def test_a_huge_multiplier_drops_one_sample_and_stalls_nobody(services):
    huge = {"value": 1.5, "measurand": "Power.Active.Import",
            "unitOfMeasure": {"unit": "W", "multiplier": 10_000_000}}
    good = {"value": 7.25, "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "kWh", "multiplier": 0}}
    async with raw(services.ocpp_url, "HOST-MULT", V201) as bad, \
            raw(services.ocpp_url, "HOST-BYSTANDER", V16) as bystander:
        await bad.send(_meter_values_201(huge, good))
        started_s = time.monotonic()
        # Another charger is answered meanwhile (the old code stalled everyone ~11 s).
        assert (await _answer(bystander, HEARTBEAT))[:2] == [3, "hb"]
        bystander_wait_s = time.monotonic() - started_s
        reply = json.loads(await asyncio.wait_for(bad.recv(), 10))
    assert reply[:2] == [3, "mv"]
    assert bystander_wait_s < 2.0
    kept = _samples(services, "HOST-MULT")
    # 7.25 kWh, stored in Wh (units are normalised at the edge)
    assert [(s.measurand, s.value, s.unit) for s in kept] == [
        ("Energy.Active.Import.Register", 7250.0, "Wh")]


@pytest.mark.parametrize("protocol,code", [(V16, "FormationViolation"),
                                           (V201, "FormatViolation")])
async def test_a_5000_digit_integer_is_a_format_error_and_the_link_stays(services, protocol,
                                                                          code):
    frame = '[2,"big","Heartbeat",{"x":' + "9" * 5000 + "}]"
    async with raw(services.ocpp_url, f"HOST-DIGITS-{protocol}", protocol) as ws:
        reply = await _answer(ws, frame)
        assert reply[:3] == [4, "big", code]
        assert "digits" in reply[3]
        assert (await _answer(ws, HEARTBEAT))[:2] == [3, "hb"]  # the link is still served


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_non_finite_json_numbers_are_format_errors(services, literal):
    frame = ('[2,"nan","MeterValues",{"evseId":1,"meterValue":[{"timestamp":'
             '"2026-04-01T08:00:00Z","sampledValue":[{"value":' + literal + "}]}]}]")
    async with raw(services.ocpp_url, "HOST-NAN", V201) as ws:
        reply = await _answer(ws, frame)
        assert reply[:3] == [4, "nan", "FormatViolation"]
        assert (await _answer(ws, HEARTBEAT))[:2] == [3, "hb"]


async def test_a_nan_sample_next_to_good_ones_loses_only_itself(services):
    frame = json.dumps([2, "mv16", "MeterValues", {"connectorId": 1, "meterValue": [
        {"timestamp": "2026-04-01T08:00:00Z", "sampledValue": [
            {"value": "NaN", "measurand": "Power.Active.Import", "unit": "W"},
            {"value": "1e400", "measurand": "Current.Import", "unit": "A"},
            {"value": "4200", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]},
        {"timestamp": "9999-12-31T23:00:00-05:00", "sampledValue": [{"value": "1"}]}]}])
    async with raw(services.ocpp_url, "HOST-NAN16", V16) as ws:
        assert (await _answer(ws, frame))[:2] == [3, "mv16"]
    kept = _samples(services, "HOST-NAN16")
    assert [(s.measurand, s.value) for s in kept] == [("Energy.Active.Import.Register", 4200.0)]


@pytest.mark.parametrize("protocol,frame", [
    (V16, '[2,"t","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,'
          '"timestamp":"9999-12-31T23:00:00-05:00"}]'),
    (V16, '[2,"t","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,'
          '"timestamp":"0001-01-01T00:00:00Z"}]'),
    (V201, '[2,"t","StatusNotification",{"timestamp":"0001-01-01T00:30:00+01:00",'
           '"connectorStatus":"Available","evseId":1,"connectorId":1}]'),
])
async def test_timestamps_no_charger_lived_through_are_property_errors(services, protocol,
                                                                       frame):
    async with raw(services.ocpp_url, "HOST-TIME", protocol) as ws:
        reply = await _answer(ws, frame)
        assert reply[:3] == [4, "t", "PropertyConstraintViolation"], reply
        assert (await _answer(ws, HEARTBEAT))[:2] == [3, "hb"]


@pytest.mark.parametrize("protocol,boot", [
    (V16, '{"chargePointVendor":"Bad\\ud800Vendor","chargePointModel":"M\\u0000odel"}'),
    (V201, '{"chargingStation":{"vendorName":"Bad\\udfffVendor","model":"M\\u0000odel"},'
           '"reason":"PowerUp"}'),
])
async def test_lone_surrogates_and_nul_are_stored_as_replacement_characters(services, protocol,
                                                                             boot):
    identity = f"HOST-STR-{protocol}"
    async with raw(services.ocpp_url, identity, protocol) as ws:
        reply = await _answer(ws, '[2,"boot","BootNotification",' + boot + "]")
        assert reply[:2] == [3, "boot"] and reply[2]["status"] == "Accepted"
    with Session(services.engine) as session:
        row = session.get(ChargerRow, identity)
        assert (row.vendor, row.model) == ("Bad\ufffdVendor", "M\ufffdodel")
