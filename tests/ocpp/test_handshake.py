"""Opening handshake: identity, subprotocol, security profile 1, duplicate connections."""

from __future__ import annotations

import asyncio
import base64

import pytest
import websockets
from sqlmodel import Session
from websockets.exceptions import ConnectionClosed

from csms import clock, security
from csms.store.tables import ChargerRow
from tests.ocpp.clients import status_of

PASSWORD = "correct-horse-battery-staple-42"


def register(services, identity: str, password: str | None = None,
             allow_unauthenticated: bool = False) -> None:
    with Session(services.engine) as s:
        s.add(ChargerRow(id=identity, registered_at=clock.now(),
                         password_hash=security.hash_password(password) if password else None,
                         allow_unauthenticated=allow_unauthenticated))
        s.commit()


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def test_unknown_identity_is_404(closed_services):
    assert await status_of(f"{closed_services.ocpp_url}/NOBODY") == 404


async def test_a_charger_without_password_connects_only_when_the_operator_allows_it(
        closed_services):
    register(closed_services, "NOPW")  # anyone knowing the identity could take it over
    assert await status_of(f"{closed_services.ocpp_url}/NOPW") == 401
    register(closed_services, "KNOWN", allow_unauthenticated=True)
    assert await status_of(f"{closed_services.ocpp_url}/KNOWN") == 101


@pytest.mark.parametrize("path,status", [
    ("/" + "x" * 49, 400), ("/a:b", 400), ("/bad%zzpct", 400), ("/bad%ff", 400),
    ("", 404), ("/a/b", 404)])
async def test_malformed_identity(services, path, status):
    assert await status_of(f"{services.ocpp_url}{path}") == status


async def test_percent_encoded_identity_is_decoded(services):
    async with websockets.connect(f"{services.ocpp_url}/CP%20one",
                                  subprotocols=["ocpp1.6"]) as ws:
        await ws.send('[2,"1","Heartbeat",{}]')
        await ws.recv()
        assert "CP one" in services.gateway.links


@pytest.mark.parametrize("offered", [["ocpp1.5"], None])
async def test_no_common_subprotocol_completes_then_closes(services, offered):
    ws = await websockets.connect(f"{services.ocpp_url}/NOSUB", subprotocols=offered)
    assert ws.subprotocol is None  # handshake completed without Sec-WebSocket-Protocol
    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd.code == 1002


async def test_charger_preference_order_wins(services):
    async with websockets.connect(f"{services.ocpp_url}/PREF",
                                  subprotocols=["ocpp2.0.1", "ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
    async with websockets.connect(f"{services.ocpp_url}/PREF2",
                                  subprotocols=["ocpp1.6", "ocpp2.0.1"]) as ws:
        assert ws.subprotocol == "ocpp1.6"


async def test_basic_auth(closed_services):
    register(closed_services, "SECURE", PASSWORD)
    url = f"{closed_services.ocpp_url}/SECURE"
    assert await status_of(url) == 401
    assert await status_of(url, {"Authorization": "Basic !!notbase64"}) == 401
    assert await status_of(url, {"Authorization": "Bearer abc"}) == 401
    assert await status_of(url, basic("SECURE", PASSWORD)) == 101
    assert await status_of(url, basic("OTHER", PASSWORD)) == 401


async def test_failed_attempts_slow_the_attacker_not_the_charger(closed_services):
    register(closed_services, "LIMITED", PASSWORD)
    url = f"{closed_services.ocpp_url}/LIMITED"
    attacker, charger = "127.0.0.7", "127.0.0.1"
    for _ in range(4):  # 3 free failures a minute (fixture), then a backoff
        assert await status_of(url, basic("LIMITED", "wrong-password-123456"),
                               source=attacker) == 401
    # The attacker's network waits, even with the right password (nothing is checked) ...
    assert await status_of(url, basic("LIMITED", PASSWORD), source=attacker) == 429
    # ... but the charger on its own network is never locked out by them.
    assert await status_of(url, basic("LIMITED", PASSWORD), source=charger) == 101


async def test_duplicate_connection_replaces_old(services):
    first = await websockets.connect(f"{services.ocpp_url}/DUP", subprotocols=["ocpp1.6"])
    await first.send('[2,"1","Heartbeat",{}]')
    await first.recv()
    second = await websockets.connect(f"{services.ocpp_url}/DUP", subprotocols=["ocpp1.6"])
    await second.send('[2,"2","Heartbeat",{}]')
    assert (await second.recv()).startswith('[3,"2"')
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(first.recv(), 5)
    assert services.gateway.links["DUP"].rpc.ws is not None
    await second.close()
