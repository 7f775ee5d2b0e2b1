"""The vehicle registry through /api/v1/vehicles: catalogue facts, validation, the id token
and EV identity links, and which vehicle a session is charging."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from csms.fleet import catalogue
from csms.fleet.identify import vehicle_for_session
from csms.store.tables import MeterSampleRow, SessionRow

pytestmark = pytest.mark.store
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_catalogue_has_the_briefs_14_models_with_the_corrections():
    models = {m.name: m for m in catalogue.models()}
    assert len(models) == 14
    twingo = models["Renault Twingo E-Tech"]
    assert (twingo.ac_max_w, twingo.ac_phases, twingo.dc_max_w) == (22_000, 3, 0)
    assert not models["Tesla Model 3"].v2g and not models["Tesla Model S"].v2g
    assert models["Nissan Leaf"].v2g
    assert models["Iveco eDaily"].battery_wh == 105_000
    assert all(m.source for m in models.values())
    assert "open-ev-data" in catalogue.citation() and "MIT" in catalogue.citation()
    assert "/work/" not in catalogue.citation()  # never a file outside the repository


async def test_vehicle_models_endpoint(api):
    r = await api.get("/api/v1/vehicle-models", headers=api.tokens["viewer"])
    assert r.status_code == 200
    body = r.json()
    assert len(body["models"]) == 14 and "MIT" in body["licence"]
    assert {"name", "battery_wh", "ac_phases", "ac_max_w", "dc_max_w", "v2g", "source"} \
        <= set(body["models"][0])


async def test_crud_from_a_catalogue_model(api):
    op, viewer = api.tokens["operator"], api.tokens["viewer"]
    r = await api.post("/api/v1/vehicles", headers=op, json={
        "name": "Van 3", "model": "Renault Kangoo E-Tech", "ac_max_w": 22_000})
    assert r.status_code == 201, r.text
    van = r.json()
    # The model's facts, with the optional 22 kW charger given explicitly.
    assert (van["battery_wh"], van["ac_phases"], van["ac_max_w"], van["dc_max_w"],
            van["v2g"]) == (45_000, 3, 22_000, 80_000, False)
    assert van["model"] == "Renault Kangoo E-Tech" and van["session_id"] is None
    assert (await api.post("/api/v1/vehicles", headers=viewer,
                           json={"name": "X", "model": "BMW i3"})).status_code == 403
    r = await api.get(f"/api/v1/vehicles/{van['id']}", headers=viewer)
    assert r.status_code == 200 and r.json()["name"] == "Van 3"
    r = await api.patch(f"/api/v1/vehicles/{van['id']}", headers=op,
                        json={"name": "Van 3b", "battery_wh": 44_000})
    assert r.status_code == 200 and (r.json()["name"], r.json()["battery_wh"]) == ("Van 3b",
                                                                                    44_000)
    for i in range(3):
        await api.post("/api/v1/vehicles", headers=op, json={"name": f"Car {i}",
                                                             "model": "Dacia Spring"})
    page = (await api.get("/api/v1/vehicles?limit=2&offset=1", headers=viewer)).json()
    assert [v["name"] for v in page] == ["Car 0", "Car 1"]
    assert (await api.get("/api/v1/vehicles?limit=0", headers=viewer)).status_code == 422
    assert (await api.delete(f"/api/v1/vehicles/{van['id']}", headers=op)).status_code == 204
    r = await api.get(f"/api/v1/vehicles/{van['id']}", headers=viewer)
    assert r.status_code == 404 and "not found" in r.json()["detail"]
    assert (await api.patch("/api/v1/vehicles/999", headers=op,
                            json={"name": "x"})).status_code == 404
    assert (await api.delete("/api/v1/vehicles/999", headers=op)).status_code == 404


@pytest.mark.parametrize("body, status, words", [
    ({"name": "A", "model": "Trabant"}, 422, "unknown model"),
    ({"name": "A", "battery_wh": 40_000}, 422, "ac_max_w"),  # no model: the facts are needed
    ({"name": "A", "battery_wh": -1, "ac_max_w": 7_000}, 422, "battery_wh"),
    ({"name": "A", "battery_wh": 40_000, "ac_max_w": 7_000, "ac_phases": 4}, 422, "ac_phases"),
    ({"name": "A", "battery_wh": 40_000, "ac_max_w": 22_000, "ac_phases": 1}, 422, "phase"),
    ({"name": "A", "model": "BMW i3", "dc_max_w": -5}, 422, "dc_max_w"),
    ({"name": "A", "model": "BMW i3", "colour": "red"}, 422, "colour"),
    ({"name": "", "model": "BMW i3"}, 422, "name"),
    ({"name": "A", "model": "BMW i3", "id_token": "NOPE"}, 422, "unknown id token"),
])
async def test_bad_input_is_refused_with_the_reason(api, body, status, words):
    r = await api.post("/api/v1/vehicles", headers=api.tokens["operator"], json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


async def test_id_token_and_ev_id_links(api):
    op = api.tokens["operator"]
    await api.post("/api/v1/id-tokens", headers=op, json={"id_token": "TAG-1"})
    r = await api.post("/api/v1/vehicles", headers=op, json={
        "name": "Leaf", "model": "Nissan Leaf", "id_token": "TAG-1",
        "ev_id": "00:1a:2b:3c:4d:5e"})
    assert r.status_code == 201, r.text
    leaf = r.json()
    assert leaf["id_token"] == "TAG-1" and leaf["ev_id"] == "001A2B3C4D5E"
    # One vehicle per token and per EV identity (in any spelling).
    r = await api.post("/api/v1/vehicles", headers=op, json={
        "name": "Other", "model": "BMW i3", "id_token": "TAG-1"})
    assert r.status_code == 409 and "TAG-1" in r.json()["detail"]
    r = await api.post("/api/v1/vehicles", headers=op, json={
        "name": "Other", "model": "BMW i3", "ev_id": "00-1A-2B-3C-4D-5E"})
    assert r.status_code == 409
    r = await api.post("/api/v1/vehicles", headers=op, json={"name": "Leaf", "model": "BMW i3"})
    assert r.status_code == 409 and "name" in r.json()["detail"]
    # Unlink with null; deleting the token unlinks it too.
    r = await api.patch(f"/api/v1/vehicles/{leaf['id']}", headers=op, json={"ev_id": None})
    assert r.status_code == 200 and r.json()["ev_id"] is None
    r = await api.patch(f"/api/v1/vehicles/{leaf['id']}", headers=op, json={"battery_wh": None})
    assert r.status_code == 422
    assert (await api.delete("/api/v1/id-tokens/TAG-1", headers=op)).status_code == 204
    r = await api.get(f"/api/v1/vehicles/{leaf['id']}", headers=op)
    assert r.json()["id_token"] is None


async def test_seed_adds_the_catalogue_once(api):
    op = api.tokens["operator"]
    r = await api.post("/api/v1/vehicles/seed", headers=op)
    assert r.status_code == 201 and len(r.json()) == 14
    r = await api.post("/api/v1/vehicles/seed", headers=op)
    assert r.status_code == 201 and r.json() == []
    names = [v["name"] for v in (await api.get("/api/v1/vehicles", headers=op)).json()]
    assert len(names) == 14 and "Mercedes EQS" in names


def _session(s: Session, token: str | None, ref: str) -> SessionRow:
    row = SessionRow(charger_id="CP-V", protocol="2.0.1", transaction_ref=ref, evse_id=1,
                     id_token=token, started_at=T0, started_received_at=T0, active=True)
    s.add(row)
    s.flush()
    return row


async def test_vehicle_for_session_by_token_then_by_ev_identity(api):
    op = api.tokens["operator"]
    await api.post("/api/v1/id-tokens", headers=op, json={"id_token": "CARD-7"})
    by_token = (await api.post("/api/v1/vehicles", headers=op, json={
        "name": "Kona", "model": "Hyundai Kona", "id_token": "CARD-7"})).json()
    by_ev = (await api.post("/api/v1/vehicles", headers=op, json={
        "name": "e-208", "model": "Peugeot e-208", "ev_id": "0A1B2C3D4E5F"})).json()
    with Session(api.engine) as s:
        carded = _session(s, "CARD-7", "t1")
        # Autocharge: the charger sends the EV's MAC address as an idToken of type MacAddress.
        autocharged = _session(s, "0a:1b:2c:3d:4e:5f", "t2")
        unknown = _session(s, "SOMEONE", "t3")
        anonymous = _session(s, None, "t4")
        s.add(MeterSampleRow(charger_id="CP-V", session_id=autocharged.id, evse_id=1,
                             timestamp=T0, received_at=T0, measurand="SoC", value=64.0,
                             unit="Percent"))
        s.commit()
        assert vehicle_for_session(s, carded).id == by_token["id"]
        assert vehicle_for_session(s, autocharged).id == by_ev["id"]
        assert vehicle_for_session(s, unknown) is None
        assert vehicle_for_session(s, anonymous) is None
        ids = carded.id, autocharged.id
    # The API shows what each vehicle is charging now.
    listed = {v["name"]: v for v in (await api.get("/api/v1/vehicles", headers=op)).json()}
    assert (listed["Kona"]["session_id"], listed["Kona"]["soc_pct"]) == (ids[0], None)
    assert (listed["e-208"]["session_id"], listed["e-208"]["soc_pct"]) == (ids[1], 64.0)
