"""Console sessions an attacker cannot keep: logout revokes on the server; pages carry a
Content-Security-Policy."""

from __future__ import annotations

import httpx
import pytest

from tests.console.conftest import PASSWORD, add_user, csrf_of

pytestmark = pytest.mark.store


async def test_logout_revokes_the_session_on_the_server(app, services):
    add_user(services, "ops", "admin")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        token = csrf_of((await client.get("/login")).text)
        r = await client.post("/login", data={"username": "ops", "password": PASSWORD,
                                               "next": "/", "csrf_token": token})
        assert r.status_code == 303
        stolen = client.cookies.get("csms_session")
        assert (await client.post("/logout", data={"csrf_token": token})).status_code == 303
    # The cookie copied before logout no longer opens anything.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 cookies={"csms_session": stolen}) as thief:
        r = await thief.get("/")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_console_pages_carry_a_content_security_policy(client_for):
    client = await client_for("viewer")
    policy = (await client.get("/")).headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
