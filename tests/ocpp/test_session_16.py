"""OCPP 1.6: a full session over a real websocket with the library's charge point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from sqlmodel import Session, select

from csms.store.tables import MeterSampleRow, SessionRow
from tests.ocpp.clients import connect, iso

pytestmark = pytest.mark.store


def _sessions(services):
    with Session(services.engine) as s:
        return s.exec(select(SessionRow).order_by(SessionRow.id)).all()


async def test_full_session_16(services):
    async with connect(services.ocpp_url, "CP16-1") as cp:
        boot = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"),
                             suppress=False)
        assert boot.status == "Accepted" and boot.interval > 0
        hb = await cp.call(call.Heartbeat(), suppress=False)
        assert datetime.fromisoformat(hb.current_time).tzinfo is not None
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                              status="Preparing"), suppress=False)
        auth = await cp.call(call.Authorize(id_tag="TAG1"), suppress=False)
        assert auth.id_tag_info["status"] == "Accepted"
        t0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag="TAG1",
                                                    meter_start=1000, timestamp=iso(t0)),
                              suppress=False)
        tx = start.transaction_id
        assert isinstance(tx, int)
        mv = [{"timestamp": iso(t0 + timedelta(minutes=15)), "sampledValue": [
            {"value": "3.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
            {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"}]}]
        await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=mv),
                      suppress=False)
        stop = await cp.call(call.StopTransaction(
            meter_stop=12500, timestamp=iso(t0 + timedelta(hours=1)), transaction_id=tx,
            reason="EVDisconnected", id_tag="TAG1", transaction_data=mv), suppress=False)
        assert stop.id_tag_info["status"] == "Accepted"
    rows = _sessions(services)
    assert len(rows) == 1
    row = rows[0]
    assert row.id == tx and row.energy_wh == 11500 and not row.active
    assert row.started_at == t0 and row.stopped_at == t0 + timedelta(hours=1)
    assert row.stop_reason == "EVDisconnected"
    with Session(services.engine) as s:
        samples = s.exec(select(MeterSampleRow).where(MeterSampleRow.session_id == tx)).all()
    # transactionData repeats the MeterValues readings (same instant, measurand, phase): one
    # reading is one row (ux_samples_reading), whatever message carried it.
    assert len(samples) == 2
    # Units are normalised once, at the edge: the 3.5 kWh register is stored as 3,500 Wh.
    assert sorted((s.measurand, s.value, s.unit) for s in samples) == [
        ("Energy.Active.Import.Register", 3500.0, "Wh"), ("Power.Active.Import", 7000.0, "W")]


async def test_repeated_start_returns_same_transaction_id(services):
    t0 = iso(datetime(2026, 1, 2, 8, 0, tzinfo=UTC))
    async with connect(services.ocpp_url, "CP16-2") as cp:
        req = call.StartTransaction(connector_id=1, id_tag="T", meter_start=5, timestamp=t0)
        first = await cp.call(req, suppress=False)
        again = await cp.call(req, suppress=False)
        other = await cp.call(call.StartTransaction(connector_id=1, id_tag="T", meter_start=6,
                                                    timestamp=t0), suppress=False)
    assert first.transaction_id == again.transaction_id
    assert other.transaction_id != first.transaction_id
    assert len(_sessions(services)) == 2


async def test_stop_of_foreign_transaction_changes_nothing(services):
    t0 = iso(datetime(2026, 1, 3, 8, 0, tzinfo=UTC))
    async with connect(services.ocpp_url, "OWNER") as owner:
        start = await owner.call(call.StartTransaction(connector_id=1, id_tag="T",
                                                       meter_start=0, timestamp=t0),
                                 suppress=False)
    async with connect(services.ocpp_url, "INTRUDER") as intruder:
        stop = await intruder.call(call.StopTransaction(
            meter_stop=999, timestamp=t0, transaction_id=start.transaction_id), suppress=False)
        assert stop.id_tag_info["status"] == "Invalid"
        await intruder.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id,
                                             meter_value=[{"timestamp": t0, "sampledValue": [
                                                 {"value": "50"}]}]), suppress=False)
    (row,) = _sessions(services)
    assert row.active and row.meter_stop_wh is None and row.charger_id == "OWNER"
    assert row.energy_wh in (None, 0)
    with Session(services.engine) as s:
        linked = s.exec(select(MeterSampleRow).where(
            MeterSampleRow.session_id == row.id)).all()
    assert linked == []


async def test_register_going_backwards_is_flagged_not_used(services):
    t0 = datetime(2026, 1, 4, 8, 0, tzinfo=UTC)
    async with connect(services.ocpp_url, "CP16-NM") as cp:
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag="T", meter_start=5000,
                                                    timestamp=iso(t0)), suppress=False)
        await cp.call(call.StopTransaction(meter_stop=4000, timestamp=iso(t0 + timedelta(hours=1)),
                                           transaction_id=start.transaction_id), suppress=False)
    (row,) = _sessions(services)
    assert row.register_non_monotonic and row.energy_wh is None and row.meter_stop_wh == 4000


async def test_transaction_ids_survive_restart(database_url):
    """1.6 transactionIds are never reused, also after the CSMS restarts."""
    from tests.conftest import _running_services

    ids = []
    for day in (5, 6):
        svc = await _running_services(database_url, open_mode=True)
        try:
            async with connect(svc.ocpp_url, "CP16-R") as cp:
                start = await cp.call(call.StartTransaction(
                    connector_id=1, id_tag="T", meter_start=0,
                    timestamp=iso(datetime(2026, 1, day, tzinfo=UTC))), suppress=False)
                ids.append(start.transaction_id)
        finally:
            await svc.stop()
    assert ids[1] > ids[0]
