"""Every CSMS-to-charger message of both versions round-trips through the outbox to a library
charge point and back, and is recorded with the charger's answer."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import call_result as r16
from ocpp.v201 import call_result as r201
from sqlmodel import Session, select

from csms.store.tables import CommandRow
from tests.ocpp.clients import Charger16, Charger201

PROFILE16 = {"connectorId": 1, "csChargingProfiles": {
    "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute", "chargingSchedule": {
        "chargingRateUnit": "A", "startSchedule": "2026-01-01T00:00:00Z",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5, "numberPhases": 3}]}}}
PROFILE201 = {"evseId": 1, "chargingProfile": {
    "id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute", "chargingSchedule": [{
        "id": 1, "chargingRateUnit": "W", "startSchedule": "2026-01-01T00:00:00Z",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]}]}}

COMMANDS16 = [
    ("RemoteStartTransaction", {"idTag": "T", "connectorId": 1}),
    ("RemoteStopTransaction", {"transactionId": 1}),
    ("Reset", {"type": "Soft"}),
    ("UnlockConnector", {"connectorId": 1}),
    ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}),
    ("GetConfiguration", {"key": ["HeartbeatInterval"]}),
    ("ClearCache", {}),
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
    ("SetChargingProfile", PROFILE16),
    ("ClearChargingProfile", {"id": 1}),
    ("GetCompositeSchedule", {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"}),
    ("DataTransfer", {"vendorId": "acme", "messageId": "hello", "data": "x"}),
]
COMMANDS201 = [
    ("RequestStartTransaction", {"idToken": {"idToken": "T", "type": "Central"},
                                 "remoteStartId": 7, "evseId": 1}),
    ("RequestStopTransaction", {"transactionId": "tx-1"}),
    ("Reset", {"type": "OnIdle"}),
    ("UnlockConnector", {"evseId": 1, "connectorId": 1}),
    ("ChangeAvailability", {"operationalStatus": "Inoperative"}),
    ("GetVariables", {"getVariableData": [{"component": {"name": "SmartChargingCtrlr"},
                                           "variable": {"name": "Enabled"}}]}),
    ("SetVariables", {"setVariableData": [{"attributeValue": "60",
                                           "component": {"name": "OCPPCommCtrlr"},
                                           "variable": {"name": "HeartbeatInterval"}}]}),
    ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}),
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
    ("SetChargingProfile", PROFILE201),
    ("ClearChargingProfile", {"chargingProfileId": 1}),
    ("GetCompositeSchedule", {"duration": 3600, "evseId": 1, "chargingRateUnit": "W"}),
    ("GetChargingProfiles", {"requestId": 2, "chargingProfile": {"chargingProfilePurpose":
                                                                 "TxDefaultProfile"}}),
    ("DataTransfer", {"vendorId": "acme"}),
]


class Peer16(Charger16):
    @on("RemoteStartTransaction")
    def a(self, **kw): return r16.RemoteStartTransaction(status="Accepted")
    @on("RemoteStopTransaction")
    def b(self, **kw): return r16.RemoteStopTransaction(status="Accepted")
    @on("Reset")
    def c(self, **kw): return r16.Reset(status="Accepted")
    @on("UnlockConnector")
    def d(self, **kw): return r16.UnlockConnector(status="Unlocked")
    @on("ChangeAvailability")
    def e(self, **kw): return r16.ChangeAvailability(status="Scheduled")
    @on("ChangeConfiguration")
    def f(self, **kw): return r16.ChangeConfiguration(status="Accepted")
    @on("GetConfiguration")
    def g(self, **kw): return r16.GetConfiguration(configuration_key=[
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}])
    @on("ClearCache")
    def h(self, **kw): return r16.ClearCache(status="Accepted")
    @on("TriggerMessage")
    def i(self, **kw): return r16.TriggerMessage(status="Accepted")
    @on("SetChargingProfile")
    def j(self, **kw): return r16.SetChargingProfile(status="Accepted")
    @on("ClearChargingProfile")
    def k(self, **kw): return r16.ClearChargingProfile(status="Accepted")
    @on("GetCompositeSchedule")
    def l(self, **kw): return r16.GetCompositeSchedule(status="Accepted", connector_id=1)  # noqa: E743
    @on("DataTransfer")
    def m(self, **kw): return r16.DataTransfer(status="UnknownVendorId")


class Peer201(Charger201):
    @on("RequestStartTransaction")
    def a(self, **kw): return r201.RequestStartTransaction(status="Accepted")
    @on("RequestStopTransaction")
    def b(self, **kw): return r201.RequestStopTransaction(status="Accepted")
    @on("Reset")
    def c(self, **kw): return r201.Reset(status="Accepted")
    @on("UnlockConnector")
    def d(self, **kw): return r201.UnlockConnector(status="Unlocked")
    @on("ChangeAvailability")
    def e(self, **kw): return r201.ChangeAvailability(status="Accepted")
    @on("GetVariables")
    def f(self, get_variable_data, **kw): return r201.GetVariables(get_variable_result=[
        {"attribute_status": "Accepted", "attribute_value": "true",
         "component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "Enabled"}}])
    @on("SetVariables")
    def g(self, **kw): return r201.SetVariables(set_variable_result=[
        {"attribute_status": "Accepted", "component": {"name": "OCPPCommCtrlr"},
         "variable": {"name": "HeartbeatInterval"}}])
    @on("GetBaseReport")
    def h(self, **kw): return r201.GetBaseReport(status="Accepted")
    @on("TriggerMessage")
    def i(self, **kw): return r201.TriggerMessage(status="Accepted")
    @on("SetChargingProfile")
    def j(self, **kw): return r201.SetChargingProfile(status="Accepted")
    @on("ClearChargingProfile")
    def k(self, **kw): return r201.ClearChargingProfile(status="Accepted")
    @on("GetCompositeSchedule")
    def l(self, **kw): return r201.GetCompositeSchedule(status="Rejected")  # noqa: E743
    @on("GetChargingProfiles")
    def m(self, **kw): return r201.GetChargingProfiles(status="NoProfiles")
    @on("DataTransfer")
    def n(self, **kw): return r201.DataTransfer(status="Accepted")


@pytest.mark.parametrize("protocol,peer,commands", [
    ("ocpp1.6", Peer16, COMMANDS16), ("ocpp2.0.1", Peer201, COMMANDS201)])
async def test_every_outgoing_command(services, protocol, peer, commands):
    ws = await websockets.connect(f"{services.ocpp_url}/OUT", subprotocols=[protocol])
    cp = peer("OUT", ws)
    task = asyncio.create_task(cp.start())
    await asyncio.sleep(0.1)
    try:
        for action, params in commands:
            row = await services.commands.submit("OUT", action, params, wait=True)
            assert row.state in ("accepted", "rejected"), (action, row.error)
            assert row.response is not None and row.completed_at is not None
    finally:
        task.cancel()
        await ws.close()
    with Session(services.engine) as s:
        rows = s.exec(select(CommandRow).order_by(CommandRow.id)).all()
    assert [r.action for r in rows] == [a for a, _ in commands]
    # Waited-for calls are stored as sent while they go out: every row says when.
    assert all(r.sent_at is not None and r.sent_at <= r.completed_at for r in rows)
    states = {r.action: r.state for r in rows}
    expected_rejected = {"DataTransfer"} if protocol == "ocpp1.6" else {
        "GetCompositeSchedule", "GetChargingProfiles"}
    assert {a for a, s in states.items() if s == "rejected"} == expected_rejected


async def test_call_timeout_then_late_reply_is_dropped(services):
    """A reply after the timeout must not be taken as the answer to the next call."""
    services.gateway.settings.call_timeout_s = 0.3
    async with websockets.connect(f"{services.ocpp_url}/SLOW",
                                  subprotocols=["ocpp1.6"]) as ws:
        await asyncio.sleep(0.1)
        first = asyncio.create_task(services.commands.submit("SLOW", "reset", wait=True))
        frame = await ws.recv()  # [2, id, "Reset", {...}]
        row = await first
        assert row.state == "timeout"
        import json

        late_id = json.loads(frame)[1]
        await ws.send(json.dumps([3, late_id, {"status": "Accepted"}]))
        second = asyncio.create_task(services.commands.submit("SLOW", "clear_cache", wait=True))
        frame2 = json.loads(await ws.recv())
        await ws.send(json.dumps([3, frame2[1], {"status": "Rejected"}]))
        row2 = await second
        assert row2.action == "ClearCache" and row2.state == "rejected"
