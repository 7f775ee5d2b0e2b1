"""Text no store keeps is refused at the door, the same on SQLite and PostgreSQL (both found by
schemathesis: PostgreSQL answered 500 to a NUL in a charger id, SQLite to a null status)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.store


@pytest.mark.parametrize("path", ["/api/v1/chargers/%00", "/api/v1/chargers/a%00b/events",
                                  "/api/v1/sessions?charger_id=%00", "/api/v1/id-tokens/%FF"])
async def test_nul_or_non_utf8_in_the_url_is_a_400(api, path):
    r = await api.get(path, headers=api.tokens["admin"])
    assert r.status_code == 400 and "URL" in r.json()["detail"]


@pytest.mark.parametrize("body", ['{"id": "CP-N", "description": "a\\u0000b"}',
                                  '{"id": "CP-S", "description": "\\ud800"}',
                                  '{"id": "CP-T", "description": "x\\udc00"}'])
async def test_nul_or_lone_surrogates_in_json_are_a_422(api, body):
    r = await api.post("/api/v1/chargers", content=body, headers={
        **api.tokens["admin"], "content-type": "application/json"})
    assert r.status_code == 422, r.text


async def test_a_pair_of_surrogates_is_a_character_and_passes(api):
    r = await api.post("/api/v1/chargers", content='{"id": "CP-E", "description": "\\ud83d\\ude00"}',
                       headers={**api.tokens["admin"], "content-type": "application/json"})
    assert r.status_code == 201 and r.json()["description"] == "\U0001f600"


async def test_required_token_fields_cannot_be_nulled(api):
    admin = api.tokens["admin"]
    await api.post("/api/v1/id-tokens", json={"id_token": "T1"}, headers=admin)
    r = await api.patch("/api/v1/id-tokens/T1", json={"status": None}, headers=admin)
    assert r.status_code == 422 and "status cannot be null" in r.text
