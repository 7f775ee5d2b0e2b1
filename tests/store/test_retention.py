"""Retention deletes exactly what is older than each policy's cutoff, in batches, and keeps the
operators' commands; frames age out of the in-memory log."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

from csms import retention
from csms.store.db import create_engine
from csms.store.tables import ChargerRow, CommandRow, MeterSampleRow, SiteLoadRow, SiteRow
from csms.store.worker import StoreWorker

pytestmark = pytest.mark.store
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _fill(engine, days: int = 10, per_day: int = 7) -> None:
    with Session(engine) as s:
        s.add(ChargerRow(id="RT-1", registered_at=NOW))
        site = SiteRow(name="rt", created_at=NOW)
        s.add(site)
        s.flush()
        for d in range(days, 0, -1):  # oldest first: ids grow with receive time
            for k in range(per_day):
                at = NOW - timedelta(days=d) + timedelta(minutes=k)
                # A replayed sample: old charger timestamp, received now-ish.
                s.add(MeterSampleRow(charger_id="RT-1", evse_id=1, timestamp=at - timedelta(
                    days=30), received_at=at, measurand="Power.Active.Import", value=1.0,
                    unit="W"))
            at = NOW - timedelta(days=d)
            s.add(CommandRow(charger_id="RT-1", action="SetChargingProfile", source="control",
                             created_at=at))
            s.add(CommandRow(charger_id="RT-1", action="Reset", source="api", created_at=at))
            s.add(SiteLoadRow(site_id=site.id, timestamp=at, limit_kw=1, planned_ev_kw=0,
                              measured_ev_kw=0, policy="load_balancing"))
        s.commit()


async def test_purge_keeps_what_is_younger_than_each_cutoff(database_url, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 4)  # several batches per kind
    engine = create_engine(database_url)
    _fill(engine)
    worker = StoreWorker(engine)
    worker.start()
    try:
        done = await retention.purge_once(worker, retention.Retention(3.0, 2.0, 0.0), NOW)
    finally:
        await worker.stop()
    with Session(engine) as s:
        received = s.exec(select(MeterSampleRow.received_at)).all()
        commands = s.exec(select(CommandRow.source, CommandRow.created_at)).all()
        loads = s.exec(select(SiteLoadRow.timestamp)).all()
    engine.dispose()
    # Days 10..4 back are older than 3 days (day 3 starts exactly at the cutoff: kept).
    assert done == {"meter_samples": 7 * 7, "site_load": 7, "control_commands": 8}
    assert len(received) == 3 * 7 and min(received) >= NOW - timedelta(days=3)
    assert sorted(src for src, _ in commands).count("api") == 10  # operators' kept
    assert all(at >= NOW - timedelta(days=2) for src, at in commands if src == "control")
    assert len(loads) == 3


async def test_nothing_to_purge_and_keep_forever(database_url):
    engine = create_engine(database_url)
    worker = StoreWorker(engine)
    worker.start()
    try:
        assert await retention.purge_once(worker, retention.Retention(3.0, 2.0, 0.0), NOW) == {
            "meter_samples": 0, "site_load": 0, "control_commands": 0}
        _fill(engine, days=2)
        assert await retention.purge_once(worker, retention.Retention(0.0, 0.0, 0.0),
                                          NOW) == {}
    finally:
        await worker.stop()
    engine.dispose()


def test_frames_age_out_and_idle_logs_are_forgotten():
    frame = lambda at_s: SimpleNamespace(at_s=at_s)  # noqa: E731
    logs = {"ON": deque([frame(0.0), frame(90.0)]), "OFF": deque([frame(10.0)]),
            "OFF2": deque([frame(95.0)])}
    assert retention.prune_frames(logs, 50.0, connected={"ON"}, now_s=100.0) == 2
    assert [f.at_s for f in logs["ON"]] == [90.0]
    assert "OFF" not in logs and [f.at_s for f in logs["OFF2"]] == [95.0]
