"""Per-charger quotas: a flooding charger is answered later, loses nothing, and slows nobody."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlmodel import Session, select

from csms.store.tables import ChargerEventRow
from tests.conftest import _running_services
from tests.ocpp.clients import raw

pytestmark = pytest.mark.store


@pytest.fixture
async def throttled(database_url):
    svc = await _running_services(database_url, True, charger_messages_per_s=100.0,
                                  charger_message_burst=20)
    try:
        yield svc
    finally:
        await svc.stop()


async def test_a_flood_is_answered_later_in_full_and_others_are_not_slowed(throttled, caplog):
    async with raw(throttled.ocpp_url, "FLOOD", "ocpp1.6") as flood, \
            raw(throttled.ocpp_url, "QUIET", "ocpp1.6") as quiet:
        started_s = time.monotonic()
        for n in range(220):  # sent without waiting for the answers
            await flood.send(f'[2,"f{n}","Heartbeat",{{}}]')
        await quiet.send('[2,"q","Heartbeat",{}]')
        assert json.loads(await asyncio.wait_for(quiet.recv(), 5))[:2] == [3, "q"]
        quiet_s = time.monotonic() - started_s
        answers = [json.loads(await asyncio.wait_for(flood.recv(), 10)) for _ in range(220)]
        flood_s = time.monotonic() - started_s
    assert [a[1] for a in answers] == [f"f{n}" for n in range(220)]  # all, in order
    assert all(a[0] == 3 for a in answers)
    assert flood_s >= 1.5  # (220 - 20 burst) / 100 per s = 2 s of pacing
    assert quiet_s < 1.0
    assert sum("over its message quota" in r.getMessage() for r in caplog.records) == 1


async def test_the_daily_byte_budget_survives_a_reconnect_and_is_reported(database_url):
    svc = await _running_services(database_url, True, charger_bytes_per_day=2**20)
    # 1 MiB a day refills at ~12 B/s: once spent, a 16 kB frame waits ~20 min.
    frame = {"vendorId": "V", "data": "x" * 16_000}

    async def answered(ws, unique_id: str) -> bool:
        await ws.send(json.dumps([2, unique_id, "DataTransfer", frame]))
        try:
            return json.loads(await asyncio.wait_for(ws.recv(), 3))[:2] == [3, unique_id]
        except TimeoutError:
            return False  # held back

    try:
        async with raw(svc.ocpp_url, "DAY", "ocpp1.6") as ws:
            through = 0
            while through < 100 and await answered(ws, f"a{through}"):
                through += 1
        assert 60 <= through <= 66  # 2**20 / 16 kB = 65.5
        async with raw(svc.ocpp_url, "DAY", "ocpp1.6") as ws:  # a reconnect refills nothing
            assert not await answered(ws, "b")
        with Session(svc.engine) as s:
            events = s.exec(select(ChargerEventRow).where(ChargerEventRow.charger_id == "DAY")
                            ).all()
        reports = [e.payload["detail"] for e in events
                   if e.kind == "security" and e.payload["kind"] == "quota_exceeded"]
        assert len(reports) == 1 and "over its daily byte budget" in reports[0], reports
    finally:
        await svc.stop()


async def test_many_samples_per_message_are_paced_and_all_stored(database_url):
    """Every sampledValue is a stored row: a charger packing thousands into its frames is paced
    on samples (the message and byte quotas alone let it write tens of thousands of rows a
    second), and every one of them is kept."""
    from csms.store.tables import MeterSampleRow

    svc = await _running_services(database_url, True, charger_samples_per_s=2000.0,
                                  charger_sample_burst=800)
    per_message, messages = 400, 10  # 54 kB frames, under the 64 KiB frame cap
    t0 = time.time() - 86_400

    def iso(s: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))

    try:
        async with raw(svc.ocpp_url, "SAMPLES", "ocpp1.6") as ws, \
                raw(svc.ocpp_url, "QUIET-S", "ocpp1.6") as quiet:
            started_s = time.monotonic()
            for n in range(messages):
                await ws.send(json.dumps([2, f"m{n}", "MeterValues", {"connectorId": 1, "meterValue": [
                    {"timestamp": iso(t0 + n * per_message + i), "sampledValue": [
                        {"value": str(i), "measurand": "Energy.Active.Import.Register",
                         "unit": "Wh"}]} for i in range(per_message)]}]))
            await quiet.send('[2,"q","Heartbeat",{}]')
            assert json.loads(await asyncio.wait_for(quiet.recv(), 5))[:2] == [3, "q"]
            answers = [json.loads(await asyncio.wait_for(ws.recv(), 15)) for _ in range(messages)]
            paced_s = time.monotonic() - started_s
        assert [a[:2] for a in answers] == [[3, f"m{n}"] for n in range(messages)]
        assert paced_s >= 1.2  # (4,000 - 800 burst) / 2,000 per s = 1.6 s of pacing
        with Session(svc.engine) as s:
            stored = s.exec(select(MeterSampleRow.id).where(
                MeterSampleRow.charger_id == "SAMPLES")).all()
            events = s.exec(select(ChargerEventRow).where(
                ChargerEventRow.charger_id == "SAMPLES")).all()
        assert len(stored) == messages * per_message
        reports = [e.payload["detail"] for e in events
                   if e.kind == "security" and e.payload["kind"] == "quota_exceeded"]
        assert len(reports) == 1 and "over its meter sample quota" in reports[0], reports
    finally:
        await svc.stop()
