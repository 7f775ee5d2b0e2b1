"""The console's vehicle registry page: it renders the registry, its form adds a vehicle from a
catalogue model (CSRF-checked, operators only), links it to an id token, and shows the reason
for bad input."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from csms import clock
from csms.store.tables import IdTokenRow, VehicleRow
from csms.web.console.i18n import translate

pytestmark = pytest.mark.store


async def test_page_renders_in_both_languages(client_for):
    for lang in ("en", "fr"):
        client = await client_for("viewer", lang)
        r = await client.get("/vehicles")
        assert r.status_code == 200
        assert translate(lang, "vehicle_none") in r.text
        assert "Renault Twingo E-Tech" in r.text  # the catalogue and the model picker
        assert 'href="/vehicles" aria-current="page"' in r.text


async def test_form_adds_and_links_a_vehicle(client_for, services):
    client = await client_for("operator")
    with Session(services.engine) as s:
        s.add(IdTokenRow(id_token="BADGE-9", created_at=clock.now()))
        s.commit()
    form = {"csrf_token": client.csrf, "name": "Van 9", "model": "Iveco eDaily",
            "battery_kwh": "", "ac_kw": "22", "ac_phases": "", "dc_kw": "", "id_token": "",
            "ev_id": ""}
    r = await client.post("/vehicles", data=form)
    assert r.status_code == 200, r.text
    with Session(services.engine) as s:
        van = s.exec(select(VehicleRow).where(VehicleRow.name == "Van 9")).one()
    assert (van.battery_wh, van.ac_max_w, van.dc_max_w, van.model) == (
        105_000, 22_000, 80_000, "Iveco eDaily")
    assert "Van 9" in r.text and "105.0" in r.text
    r = await client.post(f"/vehicles/{van.id}/link", data={
        "csrf_token": client.csrf, "id_token": "BADGE-9", "ev_id": "aa:bb:cc:dd:ee:ff"})
    assert r.status_code == 200
    with Session(services.engine) as s:
        van = s.get(VehicleRow, van.id)
    assert (van.id_token, van.ev_id) == ("BADGE-9", "AABBCCDDEEFF")
    # Bad input: the reason, nothing stored.
    r = await client.post("/vehicles", data={**form, "name": "Bad", "model": "",
                                             "battery_kwh": "40", "ac_kw": "22",
                                             "ac_phases": "1"})
    assert r.status_code == 422 and "63 A per phase" in r.text
    # Without the CSRF token, or as a viewer: refused.
    r = await client.post("/vehicles", data={**form, "csrf_token": "", "name": "No"})
    assert r.status_code == 403
    viewer = await client_for("viewer")
    r = await viewer.post("/vehicles", data={**form, "csrf_token": viewer.csrf, "name": "No"})
    assert r.status_code == 403
    with Session(services.engine) as s:
        names = set(s.exec(select(VehicleRow.name)).all())
    assert names == {"Van 9"}
    r = await client.post(f"/vehicles/{van.id}/delete", data={"csrf_token": client.csrf})
    assert r.status_code == 200 and translate("en", "vehicle_deleted") in r.text
