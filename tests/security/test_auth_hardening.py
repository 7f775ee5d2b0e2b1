"""Authentication an attacker cannot turn against owners: revocable console sessions, expiring
API tokens, security settings for admins only and never stored in clear, trusted proxies only,
a Content-Security-Policy, CSV cells that cannot become formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session

from csms.services import Services
from csms.settings import Settings
from csms.store.tables import SessionRow
from csms.store.tokens import create_token
from csms.web.app import create_app
from tests.console.conftest import PASSWORD, add_user, csrf_of
from tests.ocpp.clients import connect

pytestmark = pytest.mark.store


async def test_an_expired_api_token_is_refused(api, services):
    with Session(services.engine) as s:
        expired = create_token(s, "old", "admin", timedelta(seconds=-1))
        fresh = create_token(s, "new", "admin", timedelta(days=1))
        s.commit()
    r = await api.get("/api/v1/chargers", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    r = await api.get("/api/v1/chargers", headers={"Authorization": f"Bearer {fresh}"})
    assert r.status_code == 200


CERTIFICATE = {"certificateType": "V2GRootCertificate",
               "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}


async def test_security_settings_are_for_admins(services, api):
    async with connect(services.ocpp_url, "SEC-201", "2.0.1") as _cp:
        for role, status in (("viewer", 403), ("operator", 403), ("admin", 202)):
            r = await api.post("/api/v1/chargers/SEC-201/commands", headers=api.tokens[role],
                               json={"action": "InstallCertificate", "params": CERTIFICATE})
            assert r.status_code == status, (role, r.text)
        r = await api.post("/api/v1/chargers/SEC-201/commands", headers=api.tokens["operator"],
                           json={"action": "SetVariables", "params": {"setVariableData": [{
                               "attributeValue": "3", "component": {"name": "SecurityCtrlr"},
                               "variable": {"name": "SecurityProfile"}}]}})
        assert r.status_code == 403 and "admin" in r.json()["detail"]
    async with connect(services.ocpp_url, "SEC-16", "1.6") as _cp:
        r = await api.post("/api/v1/chargers/SEC-16/commands", headers=api.tokens["operator"],
                           json={"action": "ChangeConfiguration",
                                 "params": {"key": "SecurityProfile", "value": "2"}})
        assert r.status_code == 403
        r = await api.post("/api/v1/chargers/SEC-16/commands", headers=api.tokens["operator"],
                           json={"action": "ChangeConfiguration",
                                 "params": {"key": "MeterValueSampleInterval", "value": "60"}})
        assert r.status_code == 202


async def test_x_forwarded_for_is_believed_only_from_trusted_proxies(database_url):
    settings = Settings(database_url=database_url, ocpp_port=0, http_port=0, open=True,
                        ping_interval_s=None, auth_failures_per_minute=2,
                        trusted_proxies=["10.0.0.0/8"])
    services = Services.build(settings)
    await services.start()
    try:
        add_user(services, "admin1", "admin")
        app = create_app(services)

        async def attempts(peer: str, forwarded_for: str, password: str) -> int:
            transport = httpx.ASGITransport(app=app, client=(peer, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t",
                                         headers={"X-Forwarded-For": forwarded_for}) as c:
                token = csrf_of((await c.get("/login")).text)
                r = await c.post("/login", data={"username": "admin1", "password": password,
                                                 "next": "/", "csrf_token": token})
                return r.status_code

        # Behind the trusted proxy 10.0.0.5, two clients are told apart by X-Forwarded-For.
        for _ in range(3):
            assert await attempts("10.0.0.5", "203.0.113.66", "wrong") == 401
        assert await attempts("10.0.0.5", "203.0.113.66", PASSWORD) == 429
        assert await attempts("10.0.0.5", "198.51.100.7", PASSWORD) == 303
        # An untrusted peer cannot pick its address: its header is ignored.
        for _ in range(3):
            assert await attempts("192.0.2.1", "198.51.100.99", "wrong") == 401
        assert await attempts("192.0.2.1", "198.51.100.100", PASSWORD) == 429
    finally:
        await services.stop()


async def test_csv_cells_cannot_become_formulas(api, services):
    with Session(services.engine) as s:
        s.add(SessionRow(charger_id="=cmd|' /C calc'!A0", protocol="1.6", transaction_ref="1",
                         evse_id=1, id_token="@SUM(1+1)", stop_reason="-2+3",
                         started_received_at=datetime(2026, 4, 1, tzinfo=UTC)))
        s.commit()
    text = (await api.get("/api/v1/sessions.csv", headers=api.tokens["viewer"])).text
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["charger_id"] == "'=cmd|' /C calc'!A0"
    assert row["id_token"] == "'@SUM(1+1)" and row["stop_reason"] == "'-2+3"
