"""Basic-auth password rotation (2.0.1 A01 / TC_073, 1.6 whitepaper "Update Charge Point
Password"): the new password reaches the charger, the old one works until the charger confirms,
nothing logs or stores the password in clear."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlmodel import Session, select

from csms import security
from csms.store.tables import ChargerRow, CommandRow
from tests.ocpp.clients import connect
from tests.security.chargers import CHARGERS
from tests.security.helpers import PASSWORD, basic, handshake, register

PROTOCOLS = pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
NEW = "brand-new-password-0987654"


def _sent_password(protocol: str, received: dict) -> str:
    if protocol == "1.6":
        assert received["key"] == "AuthorizationKey"
        return received["value"]
    (data,) = received["data"]
    assert (data["component"]["name"], data["variable"]["name"]) == (
        "SecurityCtrlr", "BasicAuthPassword")
    return data["attribute_value"]


async def _finished(services, command_id: int) -> CommandRow:
    for _ in range(100):
        with Session(services.engine) as s:
            row = s.get(CommandRow, command_id)
        if row.completed_at is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError("password change never finished")


async def _rotate(services, api, protocol: str, answer: str) -> tuple[CommandRow, str]:
    register(services, "ROT", 1)
    async with connect(services.ocpp_url, "ROT", protocol, cls=CHARGERS[protocol],
                       additional_headers=basic("ROT")) as cp:
        cp.password_status = answer
        r = await api.post("/api/v1/chargers/ROT/password", json={"password": NEW},
                           headers=api.tokens["admin"])
        assert r.status_code == 202, r.text
        received = await cp.next("ChangeConfiguration" if protocol == "1.6" else "SetVariables")
        row = await _finished(services, r.json()["id"])
    return row, _sent_password(protocol, received)


@PROTOCOLS
async def test_confirmed_change_drops_the_old_password(closed_services, api_closed, protocol,
                                                       caplog):
    caplog.set_level(logging.DEBUG)
    row, sent = await _rotate(closed_services, api_closed, protocol, "Accepted")
    assert sent == NEW and row.state == "accepted"
    url = f"{closed_services.ocpp_url}/ROT"
    assert await handshake(url, headers=basic("ROT", NEW), protocol=protocol) == 101
    assert await handshake(url, headers=basic("ROT"), protocol=protocol) == 401
    with Session(closed_services.engine) as s:
        charger = s.get(ChargerRow, "ROT")
        commands = s.exec(select(CommandRow)).all()
    assert security.verify_password(NEW, charger.password_hash)
    assert charger.password_pending_hash is None
    # Never in clear: not in the outbox, not in the frame log, not in any log record.
    assert all(NEW not in str(c.payload) for c in commands) and "***" in str(commands[0].payload)
    frames = (await api_closed.get("/api/v1/chargers/ROT/messages",
                                   headers=api_closed.tokens["viewer"])).json()
    assert any("***" in f["text"] for f in frames)
    assert all(NEW not in f["text"] for f in frames)
    csms_logs = [r.getMessage() for r in caplog.records if r.name.startswith(("csms", "websockets.server"))]
    assert any("ROT" in m for m in csms_logs)
    assert all(NEW not in m and PASSWORD not in m for m in csms_logs)


@PROTOCOLS
async def test_old_password_works_until_the_charger_confirms(closed_services, api_closed,
                                                             protocol):
    row, _ = await _rotate(closed_services, api_closed, protocol, "RebootRequired")
    assert row.state == "accepted"
    url = f"{closed_services.ocpp_url}/ROT"
    assert await handshake(url, headers=basic("ROT"), protocol=protocol) == 101  # old
    charger = (await api_closed.get("/api/v1/chargers/ROT",
                                    headers=api_closed.tokens["viewer"])).json()
    assert charger["password_pending"]
    # Logging in with the new password is the confirmation; then only the new one works.
    assert await handshake(url, headers=basic("ROT", NEW), protocol=protocol) == 101
    assert await handshake(url, headers=basic("ROT"), protocol=protocol) == 401
    assert await handshake(url, headers=basic("ROT", NEW), protocol=protocol) == 101


@PROTOCOLS
async def test_rejected_change_keeps_the_old_password(closed_services, api_closed, protocol):
    row, _ = await _rotate(closed_services, api_closed, protocol, "Rejected")
    assert row.state == "rejected"
    url = f"{closed_services.ocpp_url}/ROT"
    for _ in range(50):  # the pending hash is dropped right after the answer is stored
        with Session(closed_services.engine) as s:
            if s.get(ChargerRow, "ROT").password_pending_hash is None:
                break
        await asyncio.sleep(0.05)
    assert await handshake(url, headers=basic("ROT", NEW), protocol=protocol) == 401
    assert await handshake(url, headers=basic("ROT"), protocol=protocol) == 101


async def test_password_change_errors(closed_services, api_closed):
    admin = api_closed.tokens["admin"]
    register(closed_services, "OFF", 1)
    r = await api_closed.post("/api/v1/chargers/OFF/password", json={}, headers=admin)
    assert r.status_code == 409 and "not connected" in r.json()["detail"]
    r = await api_closed.post("/api/v1/chargers/NOPE/password", json={}, headers=admin)
    assert r.status_code == 404
    r = await api_closed.post("/api/v1/chargers/OFF/password", json={"password": "short"},
                              headers=admin)
    assert r.status_code == 422 and "16-40" in r.json()["detail"]
    r = await api_closed.post("/api/v1/chargers/OFF/password", json={},
                              headers=api_closed.tokens["operator"])
    assert r.status_code == 403


@PROTOCOLS
async def test_generated_password(closed_services, api_closed, protocol):
    register(closed_services, "GEN", 1)
    async with connect(closed_services.ocpp_url, "GEN", protocol, cls=CHARGERS[protocol],
                       additional_headers=basic("GEN")) as cp:
        r = await api_closed.post("/api/v1/chargers/GEN/password", json={},
                                  headers=api_closed.tokens["admin"])
        assert r.status_code == 202 and "***" in str(r.json()["payload"])
        sent = _sent_password(protocol, await cp.next(
            "ChangeConfiguration" if protocol == "1.6" else "SetVariables"))
        security.validate_charger_password(sent)
        await _finished(closed_services, r.json()["id"])
    assert await handshake(f"{closed_services.ocpp_url}/GEN",
                           headers=basic("GEN", sent), protocol=protocol) == 101


def _raw_password_call(protocol: str, password: str) -> dict:
    if protocol == "1.6":
        return {"action": "ChangeConfiguration",
                "params": {"key": "AuthorizationKey", "value": password}}
    return {"action": "SetVariables", "params": {"setVariableData": [{
        "attributeValue": password, "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"}}]}}


@PROTOCOLS
async def test_raw_password_command_is_a_rotation(closed_services, api_closed, protocol):
    """The command API's ChangeConfiguration AuthorizationKey / SetVariables BasicAuthPassword
    takes the same path: hashed, redacted, the old password kept until confirmed."""
    register(closed_services, "RAW", 1)
    admin, operator = api_closed.tokens["admin"], api_closed.tokens["operator"]
    url = "/api/v1/chargers/RAW/commands"
    async with connect(closed_services.ocpp_url, "RAW", protocol, cls=CHARGERS[protocol],
                       additional_headers=basic("RAW")) as cp:
        cp.password_status = "RebootRequired"
        assert (await api_closed.post(url, json=_raw_password_call(protocol, NEW),
                                      headers=operator)).status_code == 403
        short = await api_closed.post(url, json=_raw_password_call(protocol, "short"),
                                      headers=admin)
        assert short.status_code == 422 and "16-40" in short.json()["detail"]
        other = _raw_password_call("2.0.1" if protocol == "1.6" else "1.6", NEW)
        assert (await api_closed.post(url, json=other, headers=admin)).status_code == 422
        r = await api_closed.post(url, json=_raw_password_call(protocol, NEW), headers=admin)
        assert r.status_code == 202 and NEW not in r.text and "***" in r.text
        assert _sent_password(protocol, await cp.next(
            "ChangeConfiguration" if protocol == "1.6" else "SetVariables")) == NEW
        await _finished(closed_services, r.json()["id"])
    url_ws = f"{closed_services.ocpp_url}/RAW"
    assert await handshake(url_ws, headers=basic("RAW"), protocol=protocol) == 101
    assert await handshake(url_ws, headers=basic("RAW", NEW), protocol=protocol) == 101
    assert await handshake(url_ws, headers=basic("RAW"), protocol=protocol) == 401
    offline = await api_closed.post(url, json=_raw_password_call(protocol, NEW), headers=admin)
    assert offline.status_code == 202 and offline.json()["state"] == "offline"
    assert NEW not in offline.text
