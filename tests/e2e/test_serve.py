"""`csms serve --open` as a subprocess: a full session per protocol shows up in the REST API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from tests.ocpp.clients import connect, iso

pytestmark = pytest.mark.store

T0 = datetime(2026, 4, 1, 7, 30, tzinfo=UTC)


def mv201(wh: float, at: datetime) -> list[dict]:
    return [{"timestamp": iso(at), "sampledValue": [
        {"value": wh, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "kWh", "multiplier": 0}}]}]


async def test_serve_open_sessions_both_versions(csms_server):
    async with connect(csms_server.ocpp_url, "E2E-16", "1.6") as cp:
        await cp.call(call16.BootNotification(charge_point_model="M", charge_point_vendor="V"),
                      suppress=False)
        await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError",
                                                status="Preparing"), suppress=False)
        await cp.call(call16.Authorize(id_tag="RFID1"), suppress=False)
        start = await cp.call(call16.StartTransaction(connector_id=1, id_tag="RFID1",
                                                      meter_start=250, timestamp=iso(T0)),
                              suppress=False)
        await cp.call(call16.MeterValues(connector_id=1, transaction_id=start.transaction_id,
                                         meter_value=[{"timestamp": iso(T0), "sampledValue": [
                                             {"value": "4000", "unit": "Wh"}]}]),
                      suppress=False)
        await cp.call(call16.StopTransaction(meter_stop=7650, timestamp=iso(T0 + timedelta(
            hours=1)), transaction_id=start.transaction_id, reason="Local"), suppress=False)
    async with connect(csms_server.ocpp_url, "E2E-201", "2.0.1") as cp:
        await cp.call(call201.BootNotification(
            charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"),
            suppress=False)
        await cp.call(call201.Authorize(id_token={"id_token": "RFID2", "type": "ISO14443"}),
                      suppress=False)
        for seq, (kind, kwh) in enumerate([("Started", 10.0), ("Updated", 15.5),
                                           ("Ended", 21.25)]):
            await cp.call(call201.TransactionEvent(
                event_type=kind, timestamp=iso(T0 + timedelta(minutes=20 * seq)),
                trigger_reason="MeterValuePeriodic", seq_no=seq,
                transaction_info={"transaction_id": "abc-1"}, evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "RFID2", "type": "ISO14443"},
                meter_value=mv201(kwh, T0 + timedelta(minutes=20 * seq))), suppress=False)
    async with httpx.AsyncClient(base_url=csms_server.http_url,
                                 headers=csms_server.auth_headers) as client:
        sessions = (await client.get("/api/v1/sessions")).json()
        chargers = (await client.get("/api/v1/chargers")).json()
    by_charger = {s["charger_id"]: s for s in sessions}
    assert by_charger["E2E-16"]["energy_wh"] == 7400
    assert by_charger["E2E-201"]["energy_wh"] == 11250
    assert by_charger["E2E-201"]["started_at"].startswith("2026-04-01T07:30:00")
    assert {c["id"]: c["protocol"] for c in chargers} == {"E2E-16": "1.6", "E2E-201": "2.0.1"}
    assert all(c["auto_registered"] for c in chargers)
