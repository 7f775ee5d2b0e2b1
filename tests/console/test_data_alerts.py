"""Overview alerts for what a charger sends, not only for what it draws (issues 12, 13): a charger
over its message quota, sessions whose meter data is kept but not believed, a connected charger
that went silent."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import _running_services
from tests.ocpp.clients import iso, raw


@pytest.fixture
async def services(database_url):
    """The console's CSMS with a small message quota (40 frames, then 100/s) and a 1-s
    heartbeat interval (silent after 3 s)."""
    svc = await _running_services(database_url, True, charger_messages_per_s=100.0,
                                  charger_message_burst=40, heartbeat_interval_s=1)
    try:
        yield svc
    finally:
        await svc.stop()


async def test_a_charger_over_its_quota_is_an_alert(services, client_for):
    viewer = await client_for("viewer")
    assert "quota" not in (await viewer.get("/")).text
    async with raw(services.ocpp_url, "DA-FLOOD", "ocpp1.6") as flood:
        for n in range(60):  # without waiting for the answers
            await flood.send(json.dumps([2, f"f{n}", "Heartbeat", {}]))
        answers = [json.loads(await asyncio.wait_for(flood.recv(), 10)) for _ in range(60)]
    assert all(a[0] == 3 for a in answers)
    overview = (await viewer.get("/")).text
    assert "Charger DA-FLOOD sends more than its message quota" in overview
    card = (await viewer.get("/chargers/DA-FLOOD/security")).text
    assert "quota_exceeded" in card


async def test_implausible_meter_data_is_an_alert(services, client_for, api):
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    async def call(ws, uid, action, payload):
        await ws.send(json.dumps([2, uid, action, payload]))
        reply = json.loads(await ws.recv())
        assert reply[0] == 3, reply
        return reply[2]

    async with raw(services.ocpp_url, "DA-METER", "ocpp1.6") as ws:
        tx = (await call(ws, "s", "StartTransaction", {
            "connectorId": 1, "idTag": "T", "meterStart": 100, "timestamp": iso(t0)}))[
            "transactionId"]
        await call(ws, "mv", "MeterValues", {"connectorId": 1, "transactionId": tx,
                                             "meterValue": [{"timestamp": iso(t0), "sampledValue": [
            {"value": "90000", "measurand": "Power.Active.Import", "unit": "kW"}]}]})
        await call(ws, "stop", "StopTransaction", {
            "transactionId": tx, "meterStop": 5100, "timestamp": iso(t0 + timedelta(minutes=30))})
    async with raw(services.ocpp_url, "DA-GOOD", "ocpp1.6") as ws:
        good = (await call(ws, "s", "StartTransaction", {
            "connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": iso(t0)}))[
            "transactionId"]
        await call(ws, "stop", "StopTransaction", {
            "transactionId": good, "meterStop": 900, "timestamp": iso(t0 + timedelta(minutes=9))})
    viewer = await client_for("viewer")
    overview = (await viewer.get("/")).text
    assert (f"Charger DA-METER, session {tx}: implausible meter data (implausible_samples)"
            in overview)
    assert "Charger DA-GOOD, session" not in overview
    session = (await api.get(f"/api/v1/sessions/{tx}", headers=api.tokens["viewer"])).json()
    assert session["energy_wh"] == 5000  # the register is plausible; the power sample is not
    assert session["meter_flags"] == ["implausible_samples"]



async def test_a_connected_charger_that_went_silent_is_an_alert(services, client_for):
    viewer = await client_for("viewer")
    async with raw(services.ocpp_url, "DA-QUIET", "ocpp1.6") as ws:
        await ws.send(json.dumps([2, "b", "BootNotification", {"chargePointVendor": "V",
                                                               "chargePointModel": "M"}]))
        await ws.recv()
        assert "DA-QUIET is connected but" not in (await viewer.get("/")).text
        for _ in range(60):  # 3 heartbeat intervals of silence
            if "Charger DA-QUIET is connected but has sent nothing" in (
                    await viewer.get("/")).text:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("no alert after 6 s of silence")
        await ws.send(json.dumps([2, "h", "Heartbeat", {}]))
        await ws.recv()
        assert "DA-QUIET is connected but" not in (await viewer.get("/")).text
