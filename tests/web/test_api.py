"""REST API: auth and roles, chargers, id tokens, sessions, commands through the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result

from tests.ocpp.clients import Charger16, connect, iso

pytestmark = pytest.mark.store




async def test_auth_required_and_roles(api):
    assert (await api.get("/api/v1/chargers")).status_code == 401
    bad = await api.get("/api/v1/chargers", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and "invalid" in bad.json()["detail"]
    assert (await api.get("/api/v1/chargers", headers=api.tokens["viewer"])).status_code == 200
    denied = await api.post("/api/v1/chargers", json={"id": "X"}, headers=api.tokens["viewer"])
    assert denied.status_code == 403 and "admin" in denied.json()["detail"]


async def test_charger_crud(api):
    admin = api.tokens["admin"]
    r = await api.post("/api/v1/chargers", json={"id": "CP-A", "password": "short"},
                       headers=admin)
    assert r.status_code == 422 and "16-40" in r.json()["detail"]
    r = await api.post("/api/v1/chargers", json={"id": "CP-A", "password": "p" * 20,
                                                 "description": "bay 1"}, headers=admin)
    assert r.status_code == 201 and r.json()["has_password"] and not r.json()["connected"]
    assert (await api.post("/api/v1/chargers", json={"id": "CP-A"},
                           headers=admin)).status_code == 409
    bad = await api.post("/api/v1/chargers", json={"id": "a:b"}, headers=admin)
    assert bad.status_code == 422 and "id" in bad.json()["detail"]
    r = await api.patch("/api/v1/chargers/CP-A", json={"description": "bay 2"}, headers=admin)
    assert r.json()["description"] == "bay 2"
    assert (await api.get("/api/v1/chargers/NOPE", headers=admin)).status_code == 404
    assert (await api.delete("/api/v1/chargers/CP-A", headers=admin)).status_code == 204
    assert (await api.get("/api/v1/chargers/CP-A", headers=admin)).status_code == 404


async def test_id_tokens_drive_authorization(api, services):
    op = api.tokens["operator"]
    r = await api.post("/api/v1/id-tokens", json={"id_token": "BLK", "status": "Blocked"},
                       headers=op)
    assert r.status_code == 201
    r = await api.post("/api/v1/id-tokens", json={"id_token": "OLD", "status": "Accepted",
                                                  "expiry": "2020-01-01T00:00:00Z"}, headers=op)
    assert r.status_code == 201
    bad = await api.post("/api/v1/id-tokens", json={"id_token": "X", "status": "Maybe"},
                         headers=op)
    assert bad.status_code == 422
    async with connect(services.ocpp_url, "AUTH16") as cp:
        blocked = await cp.call(call.Authorize(id_tag="BLK"), suppress=False)
        expired = await cp.call(call.Authorize(id_tag="OLD"), suppress=False)
    assert blocked.id_tag_info["status"] == "Blocked"
    assert expired.id_tag_info["status"] == "Expired"
    r = await api.patch("/api/v1/id-tokens/BLK", json={"status": "Accepted"}, headers=op)
    assert r.json()["status"] == "Accepted"


async def test_sessions_csv_and_meter_values(api, services):
    t0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    async with connect(services.ocpp_url, "S16") as cp:
        start = await cp.call(call.StartTransaction(connector_id=2, id_tag="T", meter_start=100,
                                                    timestamp=iso(t0)), suppress=False)
        await cp.call(call.MeterValues(connector_id=2, transaction_id=start.transaction_id,
                                       meter_value=[{"timestamp": iso(t0), "sampledValue": [
                                           {"value": "5000", "measurand": "Power.Active.Import",
                                            "unit": "W"}]}]), suppress=False)
    viewer = api.tokens["viewer"]
    r = await api.get("/api/v1/sessions", params={"charger_id": "S16", "active": True},
                      headers=viewer)
    (s,) = r.json()
    assert s["transaction_id"] == str(start.transaction_id) and s["connector_id"] == 2
    assert s["started_at"].startswith("2026-03-01T10:00:00")
    mv = await api.get(f"/api/v1/sessions/{s['id']}/meter-values", headers=viewer)
    assert mv.json()[0]["value"] == 5000 and mv.json()[0]["unit"] == "W"
    csv_text = (await api.get("/api/v1/sessions.csv", headers=viewer)).text
    assert csv_text.splitlines()[0].startswith("id,charger_id")
    assert len(csv_text.strip().splitlines()) == 2
    assert (await api.get("/api/v1/sessions/999", headers=viewer)).status_code == 404


class Obedient16(Charger16):
    @on("Reset")
    def on_reset(self, type, **kw):
        return call_result.Reset(status="Accepted")

    @on("UnlockConnector")
    def on_unlock(self, connector_id, **kw):
        return call_result.UnlockConnector(status="NotSupported")


async def _wait_state(api, command_id: int, headers) -> dict:
    for _ in range(100):
        body = (await api.get(f"/api/v1/commands/{command_id}", headers=headers)).json()
        if body["state"] not in ("queued", "sent"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("command never completed")


async def test_commands_through_outbox(api, services):
    op = api.tokens["operator"]
    import websockets

    ws = await websockets.connect(f"{services.ocpp_url}/CMD16", subprotocols=["ocpp1.6"])
    cp = Obedient16("CMD16", ws)
    task = asyncio.create_task(cp.start())
    try:
        await cp.call(call.Heartbeat(), suppress=False)
        r = await api.post("/api/v1/chargers/CMD16/commands",
                           json={"action": "reset", "params": {"type": "hard"}}, headers=op)
        assert r.status_code == 202 and r.json()["action"] == "Reset"
        done = await _wait_state(api, r.json()["id"], op)
        assert done["state"] == "accepted" and done["payload"] == {"type": "Hard"}
        r = await api.post("/api/v1/chargers/CMD16/commands",
                           json={"action": "unlock", "params": {"connector_id": 1}}, headers=op)
        assert (await _wait_state(api, r.json()["id"], op))["state"] == "rejected"
        r = await api.post("/api/v1/chargers/CMD16/commands",
                           json={"action": "ClearCache", "params": {}}, headers=op)
        done = await _wait_state(api, r.json()["id"], op)
        assert done["state"] == "error" and "NotImplemented" in done["error"]
        bad = await api.post("/api/v1/chargers/CMD16/commands",
                             json={"action": "Reset", "params": {"type": "Gentle"}}, headers=op)
        assert bad.status_code == 422 and "Reset" in bad.json()["detail"]
        unknown = await api.post("/api/v1/chargers/CMD16/commands",
                                 json={"action": "Dance"}, headers=op)
        assert unknown.status_code == 422
        viewer = await api.post("/api/v1/chargers/CMD16/commands", json={"action": "reset"},
                                headers=api.tokens["viewer"])
        assert viewer.status_code == 403
    finally:
        task.cancel()
        await ws.close()
    await asyncio.sleep(0.2)
    r = await api.post("/api/v1/chargers/CMD16/commands", json={"action": "reset"}, headers=op)
    assert r.json()["state"] == "offline"
    assert (await api.post("/api/v1/chargers/GHOST/commands", json={"action": "reset"},
                           headers=op)).status_code == 404


async def test_openapi_docs_are_served_offline(api):
    page = await api.get("/docs")
    assert page.status_code == 200
    assert "/docs-static/swagger-ui-bundle.js" in page.text and "cdn" not in page.text.lower()
    js = await api.get("/docs-static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    spec = (await api.get("/openapi.json")).json()
    assert "/api/v1/chargers/{charger_id}/commands" in spec["paths"]


async def test_deleting_a_connected_charger_disconnects_it(api, services):
    import websockets
    from websockets.exceptions import ConnectionClosed

    ws = await websockets.connect(f"{services.ocpp_url}/GONE", subprotocols=["ocpp1.6"])
    await ws.send('[2,"1","Heartbeat",{}]')
    await ws.recv()
    r = await api.delete("/api/v1/chargers/GONE", headers=api.tokens["admin"])
    assert r.status_code == 204
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    await asyncio.sleep(0.1)
    assert (await api.get("/api/v1/chargers/GONE",
                          headers=api.tokens["admin"])).status_code == 404
