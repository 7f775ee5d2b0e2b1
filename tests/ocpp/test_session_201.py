"""OCPP 2.0.1: TransactionEvent Started/Updated/Ended with seqNo, over a real websocket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v201 import call
from sqlmodel import Session, select

from csms.store.tables import ChargerEventRow, MeterSampleRow, SessionRow, TransactionEventRow
from tests.ocpp.clients import connect, iso

pytestmark = pytest.mark.store

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def register(wh: float, at: datetime, context: str = "Sample.Periodic") -> list[dict]:
    return [{"timestamp": iso(at), "sampledValue": [
        {"value": wh, "measurand": "Energy.Active.Import.Register", "context": context,
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": 11000, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}}]}]


def event(kind: str, seq: int, at: datetime, wh: float, tx: str = "TX-1", **extra):
    ctx = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(kind,
                                                                          "Sample.Periodic")
    trigger = {"Started": "Authorized", "Updated": "MeterValuePeriodic",
               "Ended": "EVCommunicationLost"}[kind]
    info = {"transactionId": tx, **extra.pop("info", {})}
    return call.TransactionEvent(event_type=kind, timestamp=iso(at), trigger_reason=trigger,
                                 seq_no=seq, transaction_info=info,
                                 meter_value=register(wh, at, ctx), **extra)


def _rows(services, table):
    with Session(services.engine) as s:
        return s.exec(select(table)).all()


async def test_full_session_201(services):
    async with connect(services.ocpp_url, "CP201-1", "2.0.1") as cp:
        boot = await cp.call(call.BootNotification(
            charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"),
            suppress=False)
        assert boot.status == "Accepted"
        await cp.call(call.StatusNotification(timestamp=iso(T0), connector_status="Occupied",
                                              evse_id=1, connector_id=1), suppress=False)
        auth = await cp.call(call.Authorize(id_token={"id_token": "TAG", "type": "ISO14443"}),
                             suppress=False)
        assert auth.id_token_info["status"] == "Accepted"
        started = await cp.call(event("Started", 0, T0, 2000, evse={"id": 1, "connector_id": 1},
                                      id_token={"id_token": "TAG", "type": "ISO14443"}),
                                suppress=False)
        assert started.id_token_info["status"] == "Accepted"
        await cp.call(event("Updated", 1, T0 + timedelta(minutes=30), 7500,
                            info={"charging_state": "Charging"}), suppress=False)
        await cp.call(event("Ended", 2, T0 + timedelta(hours=1), 13000,
                            info={"stopped_reason": "EVDisconnected"}), suppress=False)
        await cp.call(call.NotifyEVChargingNeeds(
            evse_id=1, charging_needs={"requested_energy_transfer": "AC_three_phase",
                                       "departure_time": iso(T0 + timedelta(hours=8))}),
            suppress=False)
    (row,) = _rows(services, SessionRow)
    assert row.transaction_ref == "TX-1" and row.evse_id == 1 and row.id_token == "TAG"
    assert row.meter_start_wh == 2000 and row.meter_stop_wh == 13000
    assert row.energy_wh == 11000 and not row.active and row.stop_reason == "EVDisconnected"
    assert row.started_at == T0 and row.stopped_at == T0 + timedelta(hours=1)
    assert len(_rows(services, MeterSampleRow)) == 6
    kinds = [e.kind for e in _rows(services, ChargerEventRow)]
    assert "NotifyEVChargingNeeds" in kinds


async def test_replayed_event_counted_once(services):
    async with connect(services.ocpp_url, "CP201-2", "2.0.1") as cp:
        await cp.call(event("Started", 0, T0, 0, evse={"id": 1}), suppress=False)
        update = event("Updated", 1, T0 + timedelta(minutes=5), 1000)
        await cp.call(update, suppress=False)
        await cp.call(update, suppress=False)  # offline replay of the same seqNo
        await cp.call(event("Ended", 2, T0 + timedelta(minutes=10), 2000), suppress=False)
        await cp.call(event("Ended", 2, T0 + timedelta(minutes=10), 2000), suppress=False)
    (row,) = _rows(services, SessionRow)
    assert row.energy_wh == 2000
    assert sorted(e.seq_no for e in _rows(services, TransactionEventRow)) == [0, 1, 2]
    assert len(_rows(services, MeterSampleRow)) == 6  # 3 events x 2 values, replays not added


async def test_offline_queued_events_with_old_timestamps(services):
    """Events replayed hours later keep the charger's time and get a receive time."""
    old = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    async with connect(services.ocpp_url, "CP201-3", "2.0.1") as cp:
        await cp.call(event("Started", 0, old, 100, tx="OLD", evse={"id": 2},
                            offline=True), suppress=False)
        await cp.call(event("Ended", 1, old + timedelta(hours=2), 900, tx="OLD", offline=True),
                      suppress=False)
    (row,) = _rows(services, SessionRow)
    assert row.started_at == old and row.stopped_at == old + timedelta(hours=2)
    assert row.started_received_at > old + timedelta(days=30)
    assert row.energy_wh == 800


async def test_foreign_transaction_is_a_security_event(services):
    async with connect(services.ocpp_url, "A", "2.0.1") as a:
        await a.call(event("Started", 0, T0, 0, tx="SHARED", evse={"id": 1}), suppress=False)
    async with connect(services.ocpp_url, "B", "2.0.1") as b:
        await b.call(event("Ended", 5, T0 + timedelta(hours=1), 99999, tx="SHARED"),
                     suppress=False)
    (row,) = _rows(services, SessionRow)
    assert row.charger_id == "A" and row.active and row.meter_stop_wh is None
    security = [e for e in _rows(services, ChargerEventRow) if e.kind == "security"]
    assert security and security[0].charger_id == "B"
    assert security[0].payload["kind"] == "foreign_transaction"
