"""One rule for site numbers (sites.service.NUMBER_BOUNDS) on every write path, and stored
numbers from before it repaired at start, so no page goes down for everybody."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from csms.services import Services
from csms.settings import Settings
from csms.store.tables import SiteRow
from csms.web.app import create_app
from tests.console.conftest import PASSWORD, add_user, csrf_of

pytestmark = pytest.mark.store

BAD = [("transformer_kva", -1), ("capacity_kw", 0), ("capacity_kw", 1e300),
       ("latitude", 91), ("control_period_s", 2), ("pv_kwp", -3), ("short_circuit_mva", 0)]


@pytest.mark.parametrize("field,value", BAD)
async def test_the_api_refuses_numbers_out_of_bounds(api, field, value):
    admin = api.tokens["admin"]
    site = (await api.post("/api/v1/sites", json={"name": "s"}, headers=admin)).json()
    r = await api.patch(f"/api/v1/sites/{site['id']}", json={field: value}, headers=admin)
    assert r.status_code == 422 and field in r.json()["detail"], r.text
    after = (await api.get(f"/api/v1/sites/{site['id']}", headers=admin)).json()
    assert after[field] == site[field]  # nothing changed


async def test_numbers_stored_before_the_rule_are_repaired_at_start(database_url):
    from csms.store.db import create_engine

    engine = create_engine(database_url)
    with Session(engine) as s:
        s.add(SiteRow(name="legacy", capacity_kw=-5, transformer_kva=-1, latitude=500,
                      created_at=datetime(2026, 1, 1, tzinfo=UTC)))
        s.commit()
    engine.dispose()
    services = Services.build(Settings(database_url=database_url, ocpp_port=0, http_port=0,
                                       open=True, ping_interval_s=None))
    await services.start()
    try:
        import httpx

        add_user(services, "ops", "admin")
        app = create_app(services)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as c:
            token = csrf_of((await c.get("/login")).text)
            await c.post("/login", data={"username": "ops", "password": PASSWORD, "next": "/",
                                         "csrf_token": token})
            for path in ("/", "/grid", "/costs", "/smart-charging", "/settings"):
                assert (await c.get(path)).status_code == 200, path
        with Session(services.engine) as s:
            row = s.query(SiteRow).filter(SiteRow.name == "legacy").one()
            assert (row.capacity_kw, row.transformer_kva, row.latitude) == (150.0, None, 33.57)
    finally:
        await services.stop()
