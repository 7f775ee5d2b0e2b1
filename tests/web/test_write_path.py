"""One write path (issue 13): the REST API's changes run in the store's writer thread, in its
group commit, serialised after whatever the writer is doing - never in a second writer
beside it (on SQLite: "database is locked" after the busy timeout)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import event
from sqlmodel import Session

from csms.store.tables import SiteRow

pytestmark = pytest.mark.store


async def test_a_rest_patch_is_written_by_the_writer_after_its_current_batch(api, services):
    admin, op = api.tokens["admin"], api.tokens["operator"]
    site = (await api.post("/api/v1/sites", json={"name": "depot", "capacity_kw": 60},
                           headers=admin)).json()

    flushed_by: list[str] = []  # the thread of every flush that changes a site

    def record(session, flush_context, instances):
        if any(isinstance(row, SiteRow) for row in (*session.dirty, *session.new)):
            flushed_by.append(threading.current_thread().name)

    holding, release = threading.Event(), threading.Event()

    def long_write(session):  # holds the writer (and SQLite's write lock) until released
        session.get(SiteRow, site["id"]).capacity_kw = 10
        session.flush()
        holding.set()
        release.wait(timeout=30)

    event.listen(Session, "before_flush", record)
    try:
        held = services.worker.run(long_write)
        await asyncio.to_thread(holding.wait, 30)
        patch = asyncio.create_task(api.patch(f"/api/v1/sites/{site['id']}",
                                              json={"capacity_kw": 20}, headers=op))
        # The PATCH is queued behind the long write: waiting in the writer's queue, not
        # committing (or failing on the lock) in a request thread.
        for _ in range(1000):
            if services.worker._queue.qsize() >= 1:
                break
            await asyncio.sleep(0.005)
        assert services.worker._queue.qsize() == 1
        assert not patch.done()
        release.set()
        await held
        response = await patch
    finally:
        release.set()
        event.remove(Session, "before_flush", record)
    assert response.status_code == 200 and response.json()["capacity_kw"] == 20
    with Session(services.engine) as s:
        assert s.get(SiteRow, site["id"]).capacity_kw == 20  # the PATCH came last
    assert flushed_by and set(flushed_by) == {"store-writer"}


async def test_a_refused_write_keeps_nothing_and_answers_as_before(api, services):
    admin = api.tokens["admin"]
    first = (await api.post("/api/v1/sites", json={"name": "a"}, headers=admin)).json()
    await api.post("/api/v1/sites", json={"name": "b"}, headers=admin)
    r = await api.patch(f"/api/v1/sites/{first['id']}", json={"name": "b"}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"] == "a site named 'b' exists"
    r = await api.patch("/api/v1/sites/999", json={"name": "c"}, headers=admin)
    assert r.status_code == 404 and r.json()["detail"] == "site 999 not found"
    with Session(services.engine) as s:
        assert s.get(SiteRow, first["id"]).name == "a"
