"""Security profiles per charger at the opening handshake, both listeners, 1.6 and 2.0.1: who is
admitted, who is refused (HTTP 401/403, or a TLS alert for a certificate the TLS layer rejects),
and the security event each refusal leaves."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, select

from csms.store.tables import ChargerCertificateRow, ChargerRow
from tests.security.helpers import PASSWORD, basic, handshake, register, security_events

PROTOCOLS = pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])


@PROTOCOLS
async def test_profile_1_plain_and_tls_with_basic(tls_services, tls_lab, protocol):
    register(tls_services, "P1", 1)
    ws_url, wss_url = f"{tls_services.ocpp_url}/P1", f"{tls_services.wss_url}/P1"
    assert await handshake(ws_url, headers=basic("P1"), protocol=protocol) == 101
    assert await handshake(wss_url, ssl_context=tls_lab.client_context(), headers=basic("P1"),
                           protocol=protocol) == 101
    assert await handshake(ws_url, protocol=protocol) == 401
    assert await handshake(ws_url, headers=basic("P1", "wrong-password-0123456"),
                           protocol=protocol) == 401
    assert [e.payload["kind"] for e in security_events(tls_services, "P1")] == ["auth_failed"]


@PROTOCOLS
async def test_profile_2_needs_tls_and_basic(tls_services, tls_lab, protocol):
    register(tls_services, "P2", 2)
    wss_url = f"{tls_services.wss_url}/P2"
    assert await handshake(f"{tls_services.ocpp_url}/P2", headers=basic("P2"),
                           protocol=protocol) == 403
    events = security_events(tls_services, "P2")
    assert [e.payload["kind"] for e in events] == ["downgrade_refused"]
    assert "requires TLS" in events[0].payload["detail"]
    ctx = tls_lab.client_context()
    assert await handshake(wss_url, ssl_context=ctx, headers=basic("P2"), protocol=protocol) == 101
    assert await handshake(wss_url, ssl_context=ctx, protocol=protocol) == 401
    assert await handshake(wss_url, ssl_context=ctx, headers=basic("P2", "x" * 20),
                           protocol=protocol) == 401
    assert await handshake(wss_url, ssl_context=ctx, headers=basic("OTHER"),
                           protocol=protocol) == 401
    assert len(security_events(tls_services, "P2")) == 3


@PROTOCOLS
async def test_profile_3_needs_its_own_certificate(tls_services, tls_lab, protocol):
    register(tls_services, "P3", 3, password=None)
    wss_url = f"{tls_services.wss_url}/P3"
    own = tls_lab.client_context(cert=tls_lab.client_cert("P3"))
    assert await handshake(wss_url, ssl_context=own, protocol=protocol) == 101  # no Basic
    with Session(tls_services.engine) as s:
        seen = s.exec(select(ChargerCertificateRow)).all()
    assert [(c.charger_id, c.state) for c in seen] == [("P3", "presented")]
    assert seen[0].last_used_at is not None

    assert await handshake(wss_url, ssl_context=tls_lab.client_context(),
                           protocol=protocol) == 401
    other_cn = tls_lab.client_context(cert=tls_lab.client_cert("SOMEONE-ELSE"))
    assert await handshake(wss_url, ssl_context=other_cn, protocol=protocol) == 403
    assert await handshake(f"{tls_services.ocpp_url}/P3", protocol=protocol) == 403
    kinds = [e.payload["kind"] for e in security_events(tls_services, "P3")]
    assert kinds == ["certificate_missing", "certificate_mismatch", "downgrade_refused"]


@PROTOCOLS
@pytest.mark.parametrize("bad", ["other_ca", "expired"])
async def test_profile_3_certificate_the_tls_layer_rejects(tls_services, tls_lab, protocol, bad):
    register(tls_services, "P3X", 3, password=None)
    cert = tls_lab.client_cert("P3X", **{bad: True})
    result = await handshake(f"{tls_services.wss_url}/P3X",
                             ssl_context=tls_lab.client_context(cert=cert), protocol=protocol)
    assert result in ("tls", 401, 403)
    assert "P3X" not in tls_services.gateway.links


@PROTOCOLS
async def test_raising_2_to_3_keeps_the_password_but_basic_alone_is_refused(
        tls_services, tls_lab, tls_api, protocol):
    register(tls_services, "UP", 2)
    wss_url = f"{tls_services.wss_url}/UP"
    ctx = tls_lab.client_context()
    assert await handshake(wss_url, ssl_context=ctx, headers=basic("UP"), protocol=protocol) == 101
    r = await tls_api.patch("/api/v1/chargers/UP", json={"security_profile": 3},
                            headers=tls_api.tokens["admin"])
    assert r.status_code == 200, r.text
    assert r.json()["security_profile"] == 3 and r.json()["has_password"]
    assert await handshake(wss_url, ssl_context=ctx, headers=basic("UP"), protocol=protocol) == 401
    with_cert = tls_lab.client_context(cert=tls_lab.client_cert("UP"))
    assert await handshake(wss_url, ssl_context=with_cert, protocol=protocol) == 101
    assert security_events(tls_services, "UP")[-1].payload["kind"] == "certificate_missing"


async def test_profile_3_organization_check(database_url, tls_lab):
    from tests.conftest import _tls_services

    svc = await _tls_services(database_url, tls_lab, tls_require_org="ACME CPO")
    try:
        register(svc, "ORG", 3, password=None)
        url = f"{svc.wss_url}/ORG"
        good = tls_lab.client_context(cert=tls_lab.client_cert("ORG", organization="ACME CPO"))
        assert await handshake(url, ssl_context=good) == 101
        other = tls_lab.client_context(cert=tls_lab.client_cert("ORG", organization="Other"))
        assert await handshake(url, ssl_context=other) == 403
        assert await handshake(url, ssl_context=tls_lab.client_context(
            cert=tls_lab.client_cert("ORG"))) == 403
    finally:
        await svc.stop()


async def test_profile_0_and_rows_from_before_profiles(tls_services, tls_lab):
    register(tls_services, "NOPW", 0, password=None)  # nobody said it may skip auth
    assert await handshake(f"{tls_services.ocpp_url}/NOPW") == 401
    register(tls_services, "OPEN0", 0, password=None, allow_unauthenticated=True)
    assert await handshake(f"{tls_services.ocpp_url}/OPEN0") == 101
    register(tls_services, "LEGACY", 0)  # a password without a profile: Basic is checked
    assert await handshake(f"{tls_services.ocpp_url}/LEGACY") == 401
    assert await handshake(f"{tls_services.ocpp_url}/LEGACY", headers=basic("LEGACY")) == 101


async def test_no_secret_in_any_log(tls_services, tls_lab, caplog):
    caplog.set_level(logging.DEBUG)
    register(tls_services, "SECRET", 2)
    wrong = "wrong-but-long-password-99"
    ctx = tls_lab.client_context()
    for headers in (basic("SECRET"), basic("SECRET", wrong)):
        await handshake(f"{tls_services.ocpp_url}/SECRET", headers=headers)
        await handshake(f"{tls_services.wss_url}/SECRET", ssl_context=ctx, headers=headers)
    # Every record of the CSMS side (the test's own websockets client logs its headers).
    text = "\n".join(r.getMessage() for r in caplog.records
                     if not r.name.startswith("websockets.client"))
    assert "<withheld>" in text  # the server's DEBUG header log was there, redacted
    assert "SECRET" in text  # the refusals were logged ...
    for secret in (PASSWORD, wrong, basic("SECRET")["Authorization"].split()[1],
                   basic("SECRET", wrong)["Authorization"].split()[1]):
        assert secret not in text  # ... without the password or the Basic header value
    with Session(tls_services.engine) as s:
        assert s.get(ChargerRow, "SECRET").password_hash != PASSWORD


@PROTOCOLS
async def test_raising_the_profile_closes_a_connection_it_no_longer_allows(
        tls_services, tls_lab, tls_api, protocol):
    import asyncio

    import websockets
    from websockets.exceptions import ConnectionClosed

    from tests.security.helpers import SUBPROTOCOL

    register(tls_services, "RAISE", 1)
    admin = tls_api.tokens["admin"]
    async with websockets.connect(f"{tls_services.ocpp_url}/RAISE", additional_headers=basic(
            "RAISE"), subprotocols=[SUBPROTOCOL[protocol]]) as plain, \
            websockets.connect(f"{tls_services.wss_url}/RAISE", additional_headers=basic("RAISE"),
                               ssl=tls_lab.client_context(),
                               subprotocols=[SUBPROTOCOL[protocol]]) as secure:
        # The wss connection replaced the ws one; raise to 2: the wss link stays.
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(plain.recv(), 5)
        r = await tls_api.patch("/api/v1/chargers/RAISE", json={"security_profile": 2},
                                headers=admin)
        assert r.status_code == 200
        assert tls_services.gateway.links["RAISE"].tls
        # Raise to 3: a Basic-authenticated link is not enough any more.
        r = await tls_api.patch("/api/v1/chargers/RAISE", json={"security_profile": 3},
                                headers=admin)
        assert r.status_code == 200
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(secure.recv(), 5)
        assert "security profile raised to 3" in closed.value.rcvd.reason
