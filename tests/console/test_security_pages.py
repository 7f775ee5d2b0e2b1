"""Console security: the certificates page, the charger's security card (profile, connection,
certificate state and expiry), password rotation from the console, security alerts."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session

from csms import clock
from csms.store.tables import ChargerCertificateRow
from tests.ocpp.clients import connect, iso, raw
from tests.security.chargers import CHARGERS
from tests.security.helpers import basic, register


def _certificate(services, charger_id: str, days_left: float, state: str = "accepted") -> None:
    now = clock.wall_now()
    with Session(services.engine) as s:
        s.add(ChargerCertificateRow(
            charger_id=charger_id, state=state, subject=f"CN={charger_id}", issuer="CN=lab CA",
            serial_hex="1f", sha256_hex="ab" * 32, not_before=now - timedelta(days=1),
            not_after=now + timedelta(days=days_left), created_at=now, updated_at=now))
        s.commit()


async def test_certificates_page_and_charger_card(services, client_for):
    register(services, "SEC-A", 3, password=None)
    register(services, "SEC-B", 1)
    _certificate(services, "SEC-A", 400)
    _certificate(services, "SEC-B", 10)
    viewer = await client_for("viewer")
    page = await viewer.get("/certificates")
    assert page.status_code == 200
    assert page.text.index("SEC-B") < page.text.index("SEC-A")  # soonest to expire first
    assert "CN=lab CA" in page.text
    card = await viewer.get("/chargers/SEC-A/security")
    assert card.status_code == 200
    assert "3: TLS + client certificate" in card.text and "accepted" in card.text
    assert "rotate" not in card.text.lower()
    charger_page = await viewer.get("/chargers/SEC-A")
    assert "/chargers/SEC-A/security" in charger_page.text
    french = await viewer.get("/chargers/SEC-A/security?lang=fr")
    assert "certificat client" in french.text
    assert (await viewer.get("/chargers/NOPE/security")).status_code == 404


async def test_rotate_password_from_the_console(services, client_for):
    register(services, "SEC-C", 1)
    admin = await client_for("admin")
    viewer = await client_for("viewer")
    async with connect(services.ocpp_url, "SEC-C", "1.6", cls=CHARGERS["1.6"],
                       additional_headers=basic("SEC-C")) as cp:
        card = await admin.get("/chargers/SEC-C/security")
        assert "Set a new password" in card.text
        denied = await viewer.post("/chargers/SEC-C/password",
                                   headers={"X-CSRF-Token": viewer.csrf})
        assert denied.status_code == 403
        r = await admin.post("/chargers/SEC-C/password", headers={"X-CSRF-Token": admin.csrf})
        assert r.status_code == 200 and "New password sent" in r.text
        received = await cp.next("ChangeConfiguration")
        assert received["key"] == "AuthorizationKey" and len(received["value"]) >= 16
        assert received["value"] not in r.text
    no_csrf = await admin.post("/chargers/SEC-C/password")
    assert no_csrf.status_code in (400, 403)


async def test_security_alerts_on_the_overview(services, client_for):
    register(services, "SEC-D", 0, password=None)
    _certificate(services, "SEC-D", 5)
    async with raw(services.ocpp_url, "SEC-D") as ws:
        await ws.send(json.dumps([2, "1", "SecurityEventNotification",
                                  {"type": "SecurityLogWasCleared", "timestamp": iso()}]))
        await ws.recv()
        await ws.send(json.dumps([2, "2", "SecurityEventNotification",
                                  {"type": "InvalidMessages", "timestamp": iso()}]))
        await ws.recv()
    viewer = await client_for("viewer")
    overview = await viewer.get("/")
    assert "Charger SEC-D reported a critical security event: SecurityLogWasCleared" in \
        overview.text
    assert "InvalidMessages" not in overview.text
    assert "The certificate of charger SEC-D expires in" in overview.text
