"""Every malformed frame gets the version-correct CALLERROR and the connection keeps working."""

from __future__ import annotations

import json

import pytest

from tests.ocpp.clients import raw

V16, V201 = "ocpp1.6", "ocpp2.0.1"
HEARTBEAT_OK = '[2,"ok-1","Heartbeat",{}]'


def codes(v16: str, v201: str) -> dict[str, str]:
    return {V16: v16, V201: v201}


BOOT16 = {"chargePointVendor": "V", "chargePointModel": "M"}
BOOT201 = {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"}

# (name, frame per protocol, expected id, expected code per protocol)
CASES = [
    ("invalid json", "[2,", "-1", codes("FormationViolation", "RpcFrameworkError")),
    ("not an array", '{"a":1}', "-1", codes("FormationViolation", "RpcFrameworkError")),
    ("empty array", "[]", "-1", codes("FormationViolation", "RpcFrameworkError")),
    ("unknown type id", '[7,"m1","Heartbeat",{}]', "m1",
     codes("ProtocolError", "MessageTypeNotSupported")),
    ("wrong length", '[2,"m2","Heartbeat"]', "m2", codes("FormationViolation", "RpcFrameworkError")),
    ("id not a string", '[2,5,"Heartbeat",{}]', "-1",
     codes("FormationViolation", "RpcFrameworkError")),
    ("id missing", "[2]", "-1", codes("FormationViolation", "RpcFrameworkError")),
    ("id too long", json.dumps([2, "x" * 37, "Heartbeat", {}]), "-1",
     codes("FormationViolation", "RpcFrameworkError")),
    ("unknown action", '[2,"m3","MakeCoffee",{}]', "m3", codes("NotImplemented", "NotImplemented")),
    ("payload not an object", '[2,"m4","Heartbeat",[]]', "m4",
     codes("FormationViolation", "FormatViolation")),
]

# Schema failures need a payload per version.
SCHEMA_CASES = [
    ("wrong direction",
     {V16: '[2,"w1","RemoteStartTransaction",{"idTag":"T"}]',
      V201: '[2,"w1","RequestStartTransaction",{"idToken":{"idToken":"T","type":"Central"},'
            '"remoteStartId":1}]'}, "w1", codes("NotSupported", "NotSupported")),
    ("missing required",
     {V16: '[2,"r1","BootNotification",{"chargePointVendor":"V"}]',
      V201: '[2,"r1","BootNotification",{"reason":"PowerUp"}]'}, "r1",
     codes("OccurenceConstraintViolation", "OccurrenceConstraintViolation")),
    ("wrong type",
     {V16: '[2,"t1","StatusNotification",{"connectorId":"one","errorCode":"NoError","status":"Available"}]',
      V201: '[2,"t1","StatusNotification",{"timestamp":"2026-01-01T00:00:00Z",'
            '"connectorStatus":"Available","evseId":"one","connectorId":1}]'}, "t1",
     codes("TypeConstraintViolation", "TypeConstraintViolation")),
    ("enum out of range",
     {V16: '[2,"e1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Dancing"}]',
      V201: '[2,"e1","BootNotification",' + json.dumps({**BOOT201, "reason": "Bored"}) + "]"},
     "e1", codes("PropertyConstraintViolation", "PropertyConstraintViolation")),
    ("extra property",
     {V16: '[2,"x1","BootNotification",' + json.dumps({**BOOT16, "colour": "red"}) + "]",
      V201: '[2,"x1","BootNotification",' + json.dumps({**BOOT201, "colour": "red"}) + "]"},
     "x1", codes("FormationViolation", "FormatViolation")),
    ("over-long string",
     {V16: '[2,"l1","BootNotification",' + json.dumps({**BOOT16, "chargePointVendor": "V" * 21})
      + "]",
      V201: '[2,"l1","BootNotification",' + json.dumps(
          {**BOOT201, "chargingStation": {"vendorName": "V" * 51, "model": "M"}}) + "]"},
     "l1", codes("TypeConstraintViolation", "TypeConstraintViolation")),
    ("over the size limit",
     {V16: '[2,"s1","DataTransfer",' + json.dumps({"vendorId": "V", "data": "x" * 70000}) + "]",
      V201: '[2,"s1","DataTransfer",' + json.dumps({"vendorId": "V", "data": "x" * 70000}) + "]"},
     "s1", codes("FormationViolation", "FormatViolation")),
]


async def _expect_error(ws, frame, expected_id: str, expected_code: str) -> None:
    await ws.send(frame)
    reply = json.loads(await ws.recv())
    assert reply[0] == 4, reply
    assert reply[1] == expected_id
    assert reply[2] == expected_code, reply
    assert isinstance(reply[3], str) and "Traceback" not in reply[3]
    # The connection still works.
    await ws.send(HEARTBEAT_OK)
    ok = json.loads(await ws.recv())
    assert ok[:2] == [3, "ok-1"] and "currentTime" in ok[2]


@pytest.mark.parametrize("protocol", [V16, V201])
async def test_malformed_frames(services, protocol):
    async with raw(services.ocpp_url, f"BAD-{protocol}", protocol) as ws:
        for _name, frame, expected_id, expected in CASES:
            await _expect_error(ws, frame, expected_id, expected[protocol])
        for _name, frames, expected_id, expected in SCHEMA_CASES:
            await _expect_error(ws, frames[protocol], expected_id, expected[protocol])


@pytest.mark.parametrize("protocol", [V16, V201])
async def test_binary_frame(services, protocol):
    async with raw(services.ocpp_url, "BIN", protocol) as ws:
        await _expect_error(ws, b"\x00\x01binary", "-1",
                            codes("FormationViolation", "RpcFrameworkError")[protocol])


@pytest.mark.parametrize("protocol", [V16, V201])
async def test_result_for_unknown_id_is_ignored(services, protocol):
    async with raw(services.ocpp_url, "STRAY", protocol) as ws:
        await ws.send('[3,"nobody-asked",{}]')
        await ws.send('[4,"nobody-asked","GenericError","x",{}]')
        await ws.send('[3,"bad"]')
        await ws.send(HEARTBEAT_OK)
        ok = json.loads(await ws.recv())  # no answer to the stray responses, only this one
        assert ok[:2] == [3, "ok-1"]
