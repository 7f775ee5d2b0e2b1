"""Meter data as chargers really send it: re-sent after a stall, reordered, absurd.

Real websockets to the in-process gateway, rows read back from the store (SQLite, and
PostgreSQL under `make test-store-pg`), sessions read back through the REST API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from csms.store.tables import MeterSampleRow, SessionRow
from tests.ocpp.clients import iso, raw

pytestmark = pytest.mark.store

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def _rows(services, table, **where):
    with Session(services.engine) as session:
        query = select(table)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return list(session.exec(query).all())


async def _call(ws, unique_id: str, action: str, payload: dict) -> dict:
    await ws.send(json.dumps([2, unique_id, action, payload]))
    reply = json.loads(await ws.recv())
    assert reply[:2] == [3, unique_id], reply
    return reply[2]


async def test_meter_values_re_sent_after_a_stall_are_stored_once(services):
    async with raw(services.ocpp_url, "MI-16", "ocpp1.6") as ws:
        start = await _call(ws, "s", "StartTransaction", {
            "connectorId": 1, "idTag": "T", "meterStart": 1000, "timestamp": iso(T0)})
        tx = start["transactionId"]
        readings = [{"timestamp": iso(T0 + timedelta(minutes=m)), "sampledValue": [
            {"value": str(1000 + 100 * m), "measurand": "Energy.Active.Import.Register",
             "unit": "Wh"},
            {"value": "3.1", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
            {"value": "3.2", "measurand": "Current.Import", "unit": "A", "phase": "L2"}]}
            for m in range(1, 18)]
        for attempt in range(2):  # the charger re-sends all 17 after no answer in time
            for n, reading in enumerate(readings):
                await _call(ws, f"mv{attempt}-{n}", "MeterValues", {
                    "connectorId": 1, "transactionId": tx, "meterValue": [reading]})
    samples = _rows(services, MeterSampleRow, charger_id="MI-16")
    assert len(samples) == 17 * 3
    assert _rows(services, SessionRow, charger_id="MI-16")[0].energy_wh == 1700


async def test_an_ended_before_its_last_updated_leaves_the_right_energy(services):
    def event(kind: str, seq: int, minutes: int, wh: float | None) -> dict:
        payload = {"eventType": kind, "timestamp": iso(T0 + timedelta(minutes=minutes)),
                   "triggerReason": "MeterValuePeriodic", "seqNo": seq,
                   "transactionInfo": {"transactionId": "reorder-1"},
                   "evse": {"id": 1, "connectorId": 1}}
        if wh is not None:
            payload["meterValue"] = [{"timestamp": payload["timestamp"], "sampledValue": [
                {"value": wh, "measurand": "Energy.Active.Import.Register",
                 "unitOfMeasure": {"unit": "Wh"}}]}]
        return payload

    async with raw(services.ocpp_url, "MI-201", "ocpp2.0.1") as ws:
        # Updated seq 1 arrives first, then Ended (no register of its own), then the late
        # Updated seq 2 that carries the last register, then the Started itself.
        await _call(ws, "u1", "TransactionEvent", event("Updated", 1, 20, 2000.0))
        await _call(ws, "e", "TransactionEvent", event("Ended", 3, 60, None))
        await _call(ws, "u2", "TransactionEvent", event("Updated", 2, 50, 8000.0))
        await _call(ws, "s", "TransactionEvent", event("Started", 0, 0, 0.0))
    row = _rows(services, SessionRow, charger_id="MI-201")[0]
    assert (row.meter_start_wh, row.meter_stop_wh, row.energy_wh) == (0.0, 8000.0, 8000.0)
    assert not row.register_non_monotonic and not row.active


async def test_absurd_meter_data_is_kept_flagged_and_not_used(services, api):
    async with raw(services.ocpp_url, "MI-ABSURD", "ocpp1.6") as ws:
        tx = (await _call(ws, "s", "StartTransaction", {
            "connectorId": 1, "idTag": "T", "meterStart": 500, "timestamp": iso(T0)})
              )["transactionId"]
        await _call(ws, "mv", "MeterValues", {"connectorId": 1, "transactionId": tx,
                                              "meterValue": [{"timestamp": iso(T0), "sampledValue": [
            {"value": "-40", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "90000000", "measurand": "Power.Active.Import", "unit": "kW"},
            {"value": "7200", "measurand": "Power.Active.Import", "unit": "W",
             "location": "EV"}]}]})
        await _call(ws, "stop", "StopTransaction", {
            "transactionId": tx, "meterStop": 10**18, "timestamp": iso(T0 + timedelta(hours=1))})
    session = (await api.get(f"/api/v1/sessions/{tx}", headers=api.tokens["viewer"])).json()
    assert session["meter_stop_wh"] == 1e18  # kept as sent
    assert session["energy_wh"] is None  # not believed
    assert "absurd_register" in session["meter_flags"]
    flags = {(s.measurand, s.location): s.flag
             for s in _rows(services, MeterSampleRow, charger_id="MI-ABSURD")}
    assert flags == {("Energy.Active.Import.Register", None): "negative",
                     ("Power.Active.Import", None): "absurd",
                     ("Power.Active.Import", "EV"): None}
