"""/api/v1/sites: CRUD, live PATCH, charger membership, load series from meter values, KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms.store.tables import MeterSampleRow, SessionRow

pytestmark = pytest.mark.store
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)




async def test_site_crud_and_live_patch(api):
    admin, op, viewer = (api.tokens[r] for r in ("admin", "operator", "viewer"))
    r = await api.post("/api/v1/sites", json={"name": "depot", "capacity_kw": 60}, headers=admin)
    assert r.status_code == 201, r.text
    site = r.json()
    assert site["policy"] == "load_balancing" and site["capacity_kw"] == 60
    assert (await api.post("/api/v1/sites", json={"name": "depot"}, headers=admin)
            ).status_code == 422
    bad = await api.patch(f"/api/v1/sites/{site['id']}", json={"policy": "magic"}, headers=op)
    assert bad.status_code == 422 and "unknown policy" in bad.json()["detail"]
    assert (await api.patch(f"/api/v1/sites/{site['id']}", json={"capacity_kw": -1},
                            headers=op)).status_code == 422
    r = await api.patch(f"/api/v1/sites/{site['id']}",
                        json={"capacity_kw": 45.5, "policy": "peak_shaving"}, headers=op)
    assert r.status_code == 200 and r.json()["capacity_kw"] == 45.5
    assert r.json()["policy"] == "peak_shaving"
    assert (await api.patch(f"/api/v1/sites/{site['id']}", json={"capacity_kw": 1},
                            headers=viewer)).status_code == 403
    r = await api.put(f"/api/v1/sites/{site['id']}/chargers/CP-1",
                      json={"phase_wiring": "L2", "max_power_w": 7360, "charger_type": "AC"},
                      headers=admin)
    assert r.status_code == 200 and r.json()["phase_wiring"] == "L2"
    got = (await api.get(f"/api/v1/sites/{site['id']}", headers=viewer)).json()
    assert got["chargers"] == ["CP-1"]
    assert (await api.get("/api/v1/sites/999", headers=viewer)).status_code == 404
    assert (await api.delete(f"/api/v1/sites/{site['id']}", headers=admin)).status_code == 204
    assert (await api.get("/api/v1/sites", headers=viewer)).json() == []


async def test_load_series_from_registers(api):
    """A 1-phase charger on L2 whose register gains 1 kWh per 10 minutes: 6 kW on L2."""
    admin, viewer = api.tokens["admin"], api.tokens["viewer"]
    site = (await api.post("/api/v1/sites", json={"name": "s", "capacity_kw": 20},
                           headers=admin)).json()
    await api.put(f"/api/v1/sites/{site['id']}/chargers/CP-L2",
                  json={"phase_wiring": "L2", "max_power_w": 7360}, headers=admin)
    with Session(api.engine) as s:
        row = SessionRow(charger_id="CP-L2", protocol="1.6", transaction_ref="1", evse_id=1,
                         started_at=T0, started_received_at=T0)
        s.add(row)
        s.flush()
        for k in range(4):  # registers at 0, 10, 20, 30 min: 0, 1, 2, 3 kWh
            s.add(MeterSampleRow(charger_id="CP-L2", session_id=row.id, evse_id=1,
                                 timestamp=T0 + timedelta(minutes=10 * k),
                                 received_at=T0, measurand="Energy.Active.Import.Register",
                                 value=1000.0 * k, unit="Wh"))
        s.commit()
    r = await api.get(f"/api/v1/sites/{site['id']}/load", headers=viewer, params={
        "from": T0.isoformat(), "to": (T0 + timedelta(minutes=40)).isoformat(), "step_s": 600})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ev_kw"] == [6.0, 6.0, 6.0, 0.0]
    assert body["ev_kw_per_phase"][0] == [0.0, 6.0, 0.0]
    assert body["import_kw"] == body["ev_kw"] and body["limit_kw"] == [20.0] * 4
    assert len(body["timestamps"]) == 4 and body["pv_kw"] == [0.0] * 4
    bad = await api.get(f"/api/v1/sites/{site['id']}/load", headers=viewer, params={
        "from": T0.isoformat(), "to": T0.isoformat()})
    assert bad.status_code == 422
    kpis = await api.get(f"/api/v1/sites/{site['id']}/kpis", headers=viewer)
    assert kpis.status_code == 200, kpis.text
    k = kpis.json()
    assert {"grid", "cost", "savings", "chargers"} <= set(k)
    assert k["cost"]["projected_mad"] >= k["cost"]["today_mad"] >= 0


async def test_the_live_edge_holds_sessions_in_progress(api):
    """Chargers report at their own instants: at the end of the window a session in progress
    whose next reading is not in yet is held at its last rate up to the site's freshest
    reading (it showed the busy current minute at a fraction of its draw); an ended session
    is not, and nothing is held past the freshest reading."""
    admin, viewer = api.tokens["admin"], api.tokens["viewer"]
    site = (await api.post("/api/v1/sites", json={"name": "edge", "capacity_kw": 60},
                           headers=admin)).json()
    plan = {"CP-A": ([0, 10, 20, 30], True), "CP-B": ([0, 10, 20, 30, 38], True),
            "CP-C": ([0, 10, 20, 30], False)}
    for cid in plan:
        await api.put(f"/api/v1/sites/{site['id']}/chargers/{cid}",
                      json={"phase_wiring": "L1L2L3", "max_power_w": 11040}, headers=admin)
    with Session(api.engine) as s:
        for cid, (minutes, active) in plan.items():
            row = SessionRow(charger_id=cid, protocol="1.6", transaction_ref="1", evse_id=1,
                             started_at=T0, started_received_at=T0, active=active)
            s.add(row)
            s.flush()
            for m in minutes:  # 6 kW each: 1 kWh per 10 minutes
                s.add(MeterSampleRow(charger_id=cid, session_id=row.id, evse_id=1,
                                     timestamp=T0 + timedelta(minutes=m), received_at=T0,
                                     measurand="Energy.Active.Import.Register",
                                     value=100.0 * m, unit="Wh"))
        s.commit()
    r = await api.get(f"/api/v1/sites/{site['id']}/load", headers=viewer, params={
        "from": T0.isoformat(), "to": (T0 + timedelta(minutes=50)).isoformat(), "step_s": 600})
    assert r.status_code == 200, r.text
    # Last step with data: B to 38 min (4.8 kW), A held to 38 min (4.8), C ended at 30.
    assert r.json()["ev_kw"] == [18.0, 18.0, 18.0, 9.6, 0.0]


async def test_readings_outside_transactions_are_not_counted_twice(api):
    """Clock-aligned readings without a transaction (1.6 MeterValues without transactionId,
    2.0.1 MeterValuesRequest): the main meter (EVSE 0, OCPP 2.0.1 J01: evseId 0 is the
    station's main meter) counts what its EVSEs' sessions already count, and an EVSE's idle
    readings before and after a session span the session's energy. Neither adds to the EV
    load; an EVSE drawing outside any transaction still does."""
    admin, viewer = api.tokens["admin"], api.tokens["viewer"]
    site = (await api.post("/api/v1/sites", json={"name": "aligned", "capacity_kw": 50},
                           headers=admin)).json()
    for cid in ("CP-AL", "CP-FREE"):
        await api.put(f"/api/v1/sites/{site['id']}/chargers/{cid}",
                      json={"max_power_w": 22_080}, headers=admin)
    reg = "Energy.Active.Import.Register"
    with Session(api.engine) as s:
        # CP-AL EVSE 1: idle at 5 kWh, a session 08:10-08:40 at 12 kW (6 kWh), idle after.
        row = SessionRow(charger_id="CP-AL", protocol="1.6", transaction_ref="A", evse_id=1,
                         started_at=T0 + timedelta(minutes=10),
                         started_received_at=T0 + timedelta(minutes=10),
                         stopped_at=T0 + timedelta(minutes=40), active=False)
        s.add(row)
        s.flush()
        for m in range(10, 41, 5):
            s.add(MeterSampleRow(charger_id="CP-AL", session_id=row.id, evse_id=1,
                                 timestamp=T0 + timedelta(minutes=m), received_at=T0,
                                 measurand=reg, value=5000.0 + 200.0 * (m - 10), unit="Wh"))
        for m, wh in ((0, 5000.0), (45, 11_000.0), (60, 11_000.0)):  # aligned, no transaction
            s.add(MeterSampleRow(charger_id="CP-AL", session_id=None, evse_id=1,
                                 timestamp=T0 + timedelta(minutes=m), received_at=T0,
                                 measurand=reg, value=wh, unit="Wh"))
        for m, wh in ((0, 20_000.0), (15, 21_000.0), (30, 24_000.0), (45, 26_000.0),
                      (60, 26_000.0)):  # the main meter: the same energy, and its own
            s.add(MeterSampleRow(charger_id="CP-AL", session_id=None, evse_id=0,
                                 timestamp=T0 + timedelta(minutes=m), received_at=T0,
                                 measurand=reg, value=wh, unit="Wh"))
        # CP-FREE EVSE 1 draws 6 kW with no transaction at all (free vend): it counts.
        for m in range(0, 61, 15):
            s.add(MeterSampleRow(charger_id="CP-FREE", session_id=None, evse_id=1,
                                 timestamp=T0 + timedelta(minutes=m), received_at=T0,
                                 measurand=reg, value=100.0 * m, unit="Wh"))
        s.commit()
    r = await api.get(f"/api/v1/sites/{site['id']}/load", headers=viewer, params={
        "from": T0.isoformat(), "to": (T0 + timedelta(minutes=60)).isoformat(), "step_s": 600})
    assert r.status_code == 200, r.text
    ev = r.json()["ev_kw"]
    # 6 kW free vend throughout, plus the session's 12 kW from 08:10 to 08:40.
    assert ev == pytest.approx([6.0, 18.0, 18.0, 18.0, 6.0, 6.0], abs=1e-6), ev
