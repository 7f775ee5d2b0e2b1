"""The console's site form goes through the API's rule (sites.service.validate)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from csms.store.tables import SiteRow

pytestmark = pytest.mark.store


async def test_the_console_form_uses_the_same_rule(client_for, services):
    client = await client_for("admin")
    r = await client.post("/settings/site", data={
        "csrf_token": client.csrf, "name": "depot", "capacity_kw": "0", "voltage_level": "LV",
        "transformer_kva": "-1", "pv_kwp": "0", "base_load_peak_kw": "0",
        "base_load_profile": "", "tariff": '{"name": "onee-default"}'})
    assert r.status_code == 200 and re.search(r"(capacity_kw|transformer_kva) must be", r.text)
    with Session(services.engine) as s:
        assert s.query(SiteRow).filter(SiteRow.name == "depot").first() is None
