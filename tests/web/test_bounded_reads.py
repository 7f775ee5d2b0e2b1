"""Every list and series read is bounded: page sizes, windows, no negative-limit escape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms.store.tables import ChargerRow, MeterSampleRow, SessionRow

pytestmark = pytest.mark.store
T0 = datetime(2026, 4, 1, 8, tzinfo=UTC)


async def test_series_windows_are_capped(api):
    admin = api.tokens["admin"]
    site = (await api.post("/api/v1/sites", json={"name": "w"}, headers=admin)).json()
    url = f"/api/v1/sites/{site['id']}/load"
    ok = await api.get(url, headers=admin, params={
        "from": T0.isoformat(), "to": (T0 + timedelta(days=31)).isoformat(), "step_s": 3600})
    assert ok.status_code == 200
    r = await api.get(url, headers=admin, params={
        "from": T0.isoformat(), "to": (T0 + timedelta(days=365)).isoformat(), "step_s": 3600})
    assert r.status_code == 422 and "31 days" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/sessions", "/api/v1/chargers/B-1/events",
                                  "/api/v1/chargers/B-1/messages", "/api/v1/certificates",
                                  "/api/v1/sessions/1/meter-values"])
@pytest.mark.parametrize("limit", [-1, 0, 10**7])
async def test_page_sizes_are_bounded(api, services, path, limit):
    with Session(services.engine) as s:
        s.add(ChargerRow(id="B-1", registered_at=T0))
        s.commit()
    r = await api.get(path, params={"limit": limit}, headers=api.tokens["admin"])
    assert r.status_code == 422 and "limit" in r.json()["detail"], r.text


async def test_meter_values_come_in_pages(api, services):
    with Session(services.engine) as s:
        s.add(ChargerRow(id="B-2", registered_at=T0))
        row = SessionRow(charger_id="B-2", protocol="1.6", transaction_ref="x", evse_id=1,
                         started_received_at=T0)
        s.add(row)
        s.flush()
        for n in range(25):
            at = T0 + timedelta(minutes=n)
            s.add(MeterSampleRow(charger_id="B-2", session_id=row.id, evse_id=1, timestamp=at,
                                 received_at=at, measurand="Energy.Active.Import.Register",
                                 value=float(n), unit="Wh"))
        s.commit()
        session_id = row.id
    viewer = api.tokens["viewer"]
    pages = [(await api.get(f"/api/v1/sessions/{session_id}/meter-values", headers=viewer,
                            params={"limit": 10, "offset": o})).json() for o in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [v["value"] for p in pages for v in p] == [float(n) for n in range(25)]
