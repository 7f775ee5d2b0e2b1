"""Sessions a charger left open (a reboot, a lost StopTransaction) are closed and flagged when
the charger says the EVSE is free; a real stop arriving later still wins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from csms.store.tables import SessionRow
from tests.ocpp.clients import iso, raw

pytestmark = pytest.mark.store
T0 = datetime(2026, 4, 1, 8, tzinfo=UTC)


async def _call(ws, unique_id: str, action: str, payload: dict) -> dict:
    await ws.send(json.dumps([2, unique_id, action, payload]))
    reply = json.loads(await ws.recv())
    assert reply[:2] == [3, unique_id], reply
    return reply[2]


def _sessions(services, charger_id: str) -> list[SessionRow]:
    with Session(services.engine) as s:
        return list(s.exec(select(SessionRow).where(SessionRow.charger_id == charger_id)
                           .order_by(SessionRow.id)).all())


def _mv(tx: int, at: datetime, wh: int) -> dict:
    return {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": iso(at),
            "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register",
                              "unit": "Wh"}]}]}


async def test_a_reboot_without_stop_is_closed_when_the_connector_is_available(services):
    async with raw(services.ocpp_url, "RC-16", "ocpp1.6") as ws:
        tx = (await _call(ws, "s", "StartTransaction", {
            "connectorId": 1, "idTag": "T", "meterStart": 1000, "timestamp": iso(T0)}))[
            "transactionId"]
        await _call(ws, "mv", "MeterValues", _mv(tx, T0 + timedelta(minutes=30), 6000))
        # The charger reboots and forgets the transaction: no StopTransaction, only this.
        await _call(ws, "b", "BootNotification", {"chargePointVendor": "V",
                                                 "chargePointModel": "M"})
        await _call(ws, "st", "StatusNotification", {
            "connectorId": 1, "errorCode": "NoError", "status": "Available",
            "timestamp": iso(T0 + timedelta(minutes=40))})
        [row] = _sessions(services, "RC-16")
        assert not row.active and row.stop_reason == "Reconciled"
        assert row.energy_wh == 5000 and row.meter_flags == ["reconciled_available"]
        # The lost StopTransaction turns up after all: it replaces the reconciliation.
        await _call(ws, "stop", "StopTransaction", {
            "transactionId": tx, "meterStop": 6500, "reason": "Reboot",
            "timestamp": iso(T0 + timedelta(minutes=35))})
    [row] = _sessions(services, "RC-16")
    assert (row.stop_reason, row.energy_wh, row.meter_flags) == ("Reboot", 5500, None)


async def test_a_new_transaction_on_the_same_evse_closes_the_forgotten_one(services):
    async with raw(services.ocpp_url, "RC-201", "ocpp2.0.1") as ws:
        def started(ref: str, minutes: int) -> dict:
            at = iso(T0 + timedelta(minutes=minutes))
            return {"eventType": "Started", "timestamp": at, "triggerReason": "CablePluggedIn",
                    "seqNo": 0, "transactionInfo": {"transactionId": ref},
                    "evse": {"id": 1, "connectorId": 1}, "meterValue": [{"timestamp": at,
                    "sampledValue": [{"value": 100.0 * minutes,
                                      "measurand": "Energy.Active.Import.Register"}]}]}

        await _call(ws, "a", "TransactionEvent", started("old", 0))
        await _call(ws, "b", "TransactionEvent", started("new", 90))
        # A replayed Started of an even older transaction closes nothing newer than itself.
        await _call(ws, "c", "TransactionEvent", started("older", -60))
    rows = {r.transaction_ref: r for r in _sessions(services, "RC-201")}
    assert not rows["old"].active and rows["old"].stop_reason == "Reconciled"
    assert rows["old"].meter_flags == ["reconciled_new_transaction"]
    assert rows["new"].active
