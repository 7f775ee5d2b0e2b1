"""The registry's ``security_profile`` (0-3) through the REST API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.store
PW = "a-very-long-password-1234"


@pytest.mark.parametrize("profile,password,expected", [
    # Without a password one is generated (returned once), so Basic auth (profile 1) applies;
    # profile 0 asked for explicitly means no authentication (allow_unauthenticated).
    (None, None, 1), (None, PW, 1), (0, None, 0), (0, PW, 1), (1, PW, 1), (2, PW, 2),
    (3, None, 3), (3, PW, 3)])
async def test_create_with_a_profile(api, profile, password, expected):
    body = {"id": "CP"}
    if profile is not None:
        body["security_profile"] = profile
    if password is not None:
        body["password"] = password
    r = await api.post("/api/v1/chargers", json=body, headers=api.tokens["admin"])
    assert r.status_code == 201, r.text
    assert r.json()["security_profile"] == expected
    got = await api.get("/api/v1/chargers/CP", headers=api.tokens["viewer"])
    assert got.json()["security_profile"] == expected
    listed = await api.get("/api/v1/chargers", headers=api.tokens["viewer"])
    assert [c["security_profile"] for c in listed.json()] == [expected]


@pytest.mark.parametrize("bad", [4, -1, 7, "2", 2.5, True, "three", [2]])
async def test_profile_outside_0_3_is_422(api, bad):
    admin = api.tokens["admin"]
    r = await api.post("/api/v1/chargers", json={"id": "CP", "password": PW,
                                                 "security_profile": bad}, headers=admin)
    assert r.status_code == 422 and "security_profile" in r.json()["detail"]
    assert (await api.post("/api/v1/chargers", json={"id": "CP", "password": PW},
                           headers=admin)).status_code == 201
    r = await api.patch("/api/v1/chargers/CP", json={"security_profile": bad}, headers=admin)
    assert r.status_code == 422 and "security_profile" in r.json()["detail"]


async def test_a_charger_registered_without_a_password_gets_one_once(api):
    admin, viewer = api.tokens["admin"], api.tokens["viewer"]
    r = await api.post("/api/v1/chargers", json={"id": "GEN"}, headers=admin)
    assert r.status_code == 201
    generated = r.json()["generated_password"]
    assert 16 <= len(generated) <= 40 and r.json()["has_password"]
    again = (await api.get("/api/v1/chargers/GEN", headers=viewer)).json()
    assert again["generated_password"] is None and again["security_profile"] == 1
    r = await api.post("/api/v1/chargers", json={"id": "LAB", "allow_unauthenticated": True},
                       headers=admin)
    assert r.status_code == 201
    assert (r.json()["security_profile"], r.json()["has_password"],
            r.json()["allow_unauthenticated"], r.json()["generated_password"]) == (
                0, False, True, None)


@pytest.mark.parametrize("profile", [1, 2])
async def test_basic_profiles_need_a_password(api, profile):
    admin = api.tokens["admin"]
    await api.post("/api/v1/chargers", json={"id": "CP", "security_profile": 3}, headers=admin)
    r = await api.patch("/api/v1/chargers/CP", json={"security_profile": profile},
                        headers=admin)
    assert r.status_code == 422 and "password" in r.json()["detail"]
    r = await api.patch("/api/v1/chargers/CP", json={"security_profile": profile,
                                                     "password": PW}, headers=admin)
    assert r.status_code == 200 and r.json()["security_profile"] == profile


async def test_patch_profile_and_password(api):
    admin = api.tokens["admin"]
    await api.post("/api/v1/chargers", json={"id": "CP", "password": PW, "security_profile": 2},
                   headers=admin)
    r = await api.patch("/api/v1/chargers/CP", json={"password": None}, headers=admin)
    assert r.status_code == 422  # profile 2 cannot lose its password
    r = await api.patch("/api/v1/chargers/CP", json={"security_profile": 3}, headers=admin)
    assert r.json()["security_profile"] == 3 and r.json()["has_password"]
    r = await api.patch("/api/v1/chargers/CP", json={"security_profile": 1}, headers=admin)
    assert r.json()["security_profile"] == 1
    r = await api.patch("/api/v1/chargers/CP", json={"password": None}, headers=admin)
    assert r.json()["security_profile"] == 0 and not r.json()["has_password"]
    viewer = await api.patch("/api/v1/chargers/CP", json={"security_profile": 2},
                             headers=api.tokens["viewer"])
    assert viewer.status_code == 403
