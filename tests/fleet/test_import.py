"""Fleet import (``registry.import_fleet``, ``csms vehicles import``, ``POST
/api/v1/vehicles/import``): a vehicle per entry from its catalogue model, its id token created
(Accepted) and linked; idempotent; errors name the entry and change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, create_engine, select

from csms.cli import main as csms_main
from csms.fleet import catalogue, registry
from csms.store.tables import IdTokenRow, VehicleRow

pytestmark = pytest.mark.store
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
FLEET = [{"id_token": "FLEET-0001", "model": "Nissan Leaf", "name": "FLEET-0001 Nissan Leaf"},
         {"id_token": "FLEET-0002", "model": "renault kangoo e-tech"},  # any case, no name
         {"id_token": "FLEET-0003", "model": "Dacia Spring", "name": "Van pool 3"}]


@pytest.fixture
def db(database_url):
    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            yield s
    finally:
        engine.dispose()


def _state(s: Session) -> list[tuple]:
    vehicles = s.exec(select(VehicleRow).order_by(VehicleRow.id)).all()
    tokens = s.exec(select(IdTokenRow).order_by(IdTokenRow.id_token)).all()
    return ([(v.id, v.name, v.model, v.battery_wh, v.ac_max_w, v.dc_max_w, v.id_token)
             for v in vehicles] + [(t.id_token, t.status) for t in tokens])


def test_import_creates_links_and_is_idempotent(db):
    db.add(IdTokenRow(id_token="FLEET-0003", status="Blocked", created_at=T0))
    db.commit()
    result = registry.import_fleet(db, FLEET, T0)
    db.commit()
    assert (len(result.created), len(result.updated), len(result.unchanged)) == (3, 0, 0)
    assert result.id_tokens_created == ["FLEET-0001", "FLEET-0002"]
    by_token = {v.id_token: v for v in registry.list_vehicles(db)}
    leaf, kangoo, spring = (by_token[f"FLEET-000{i}"] for i in (1, 2, 3))
    model = catalogue.model_named("Nissan Leaf")
    assert (leaf.name, leaf.model, leaf.battery_wh, leaf.ac_max_w, leaf.v2g) == (
        "FLEET-0001 Nissan Leaf", "Nissan Leaf", model.battery_wh, model.ac_max_w, True)
    assert (kangoo.name, kangoo.model) == ("FLEET-0002 Renault Kangoo E-Tech",
                                           "Renault Kangoo E-Tech")
    assert spring.name == "Van pool 3"
    assert db.get(IdTokenRow, "FLEET-0001").status == "Accepted"
    assert db.get(IdTokenRow, "FLEET-0003").status == "Blocked"  # the operator's, kept
    before = _state(db)
    again = registry.import_fleet(db, FLEET, T0)
    db.commit()
    assert (len(again.created), len(again.updated), len(again.unchanged),
            again.id_tokens_created) == (0, 0, 3, [])
    assert _state(db) == before


def test_import_updates_by_token_and_keeps_corrected_facts(db):
    registry.import_fleet(db, FLEET, T0)
    db.commit()
    kangoo = db.exec(select(VehicleRow).where(VehicleRow.id_token == "FLEET-0002")).one()
    registry.update_vehicle(db, kangoo, {"ac_max_w": 22_000})  # the optional 22 kW charger
    db.commit()
    changed = [dict(FLEET[0], model="Tesla Model 3", name="Pool car 1"), FLEET[1]]
    result = registry.import_fleet(db, changed, T0)
    db.commit()
    assert [v.id_token for v in result.updated] == ["FLEET-0001"]
    assert [v.id_token for v in result.unchanged] == ["FLEET-0002"]
    car = db.exec(select(VehicleRow).where(VehicleRow.id_token == "FLEET-0001")).one()
    assert (car.name, car.model, car.v2g, car.battery_wh) == (
        "Pool car 1", "Tesla Model 3", False, catalogue.model_named("Tesla Model 3").battery_wh)
    assert db.get(VehicleRow, kangoo.id).ac_max_w == 22_000
    assert len(registry.list_vehicles(db)) == 3


@pytest.mark.parametrize("entries, words", [
    ([FLEET[0], {"id_token": "FLEET-0009", "model": "Trabant"}],
     ["entry 2 (FLEET-0009)", "unknown model 'Trabant'"]),
    ([{"model": "BMW i3"}], ["entry 1", "id_token"]),
    ([{"id_token": "X", "model": "BMW i3", "colour": "red"}], ["entry 1 (X)", "colour"]),
    ([FLEET[0], dict(FLEET[1], id_token="FLEET-0001")], ["entry 2", "also in entry 1"]),
    ({"id_token": "X"}, ["JSON list"]),
])
def test_bad_entries_are_refused_naming_the_entry(db, entries, words):
    with pytest.raises(registry.VehicleError) as err:
        registry.import_fleet(db, entries, T0)
    db.rollback()
    for w in words:
        assert w in str(err.value)
    assert _state(db) == []


def test_found_by_name_it_gets_the_token_and_a_taken_name_is_a_conflict(db):
    registry.create_vehicle(db, {"name": "Taken", "model": "BMW i3"}, T0)
    db.commit()
    result = registry.import_fleet(db, [{"id_token": "FLEET-0006", "model": "BMW i3",
                                         "name": "Taken"}], T0)
    db.commit()
    assert [(v.name, v.id_token) for v in result.updated] == [("Taken", "FLEET-0006")]
    registry.import_fleet(db, [{"id_token": "FLEET-0007", "model": "BMW i3"}], T0)
    db.commit()
    before = _state(db)
    with pytest.raises(registry.VehicleConflict, match="entry 1 .FLEET-0007.*'Taken'"):
        registry.import_fleet(db, [{"id_token": "FLEET-0007", "model": "BMW i3",
                                    "name": "Taken"}], T0)
    db.rollback()
    assert _state(db) == before


def test_cli_import_twice_and_unknown_model(database_url, tmp_path, capsys):
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(FLEET))
    args = ["vehicles", "import", str(path), "--database-url", database_url]
    assert csms_main(args) == 0
    assert "3 vehicles: 3 added, 0 updated, 0 unchanged; 3 id tokens added" \
        in capsys.readouterr().out
    assert csms_main(args) == 0
    assert "0 added, 0 updated, 3 unchanged; 0 id tokens added" in capsys.readouterr().out
    path.write_text(json.dumps([{"id_token": "FLEET-0042", "model": "Trabant"}]))
    assert csms_main(args) == 1
    err = capsys.readouterr().err
    assert "entry 1 (FLEET-0042)" in err and "unknown model" in err
    path.write_text("not json")
    with pytest.raises(SystemExit, match="cannot read"):
        csms_main(args)


async def test_api_import(api):
    op = api.tokens["operator"]
    r = await api.post("/api/v1/vehicles/import", headers=op, json=FLEET)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (3, 0, 0)
    assert body["id_tokens_created"] == ["FLEET-0001", "FLEET-0002", "FLEET-0003"]
    assert [v["id_token"] for v in body["vehicles"]] == ["FLEET-0001", "FLEET-0002",
                                                         "FLEET-0003"]
    tokens = (await api.get("/api/v1/id-tokens", headers=op)).json()
    assert {t["id_token"]: t["status"] for t in tokens}["FLEET-0002"] == "Accepted"
    r = await api.post("/api/v1/vehicles/import", headers=op, json=FLEET)
    assert (r.json()["created"], r.json()["unchanged"]) == (0, 3)
    r = await api.post("/api/v1/vehicles/import", headers=op,
                       json=[{"id_token": "Z1", "model": "Trabant"}])
    assert r.status_code == 422 and "entry 1 (Z1)" in r.json()["detail"]
    r = await api.post("/api/v1/vehicles/import", headers=api.tokens["viewer"], json=FLEET)
    assert r.status_code == 403
