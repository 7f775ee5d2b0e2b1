"""kill -9 between the commit and the answer (issue 12): the charger never sees the answer, so
it re-sends the same message under a new message id once the CSMS is back. Whether the crash
came before or after the commit, the store ends with each transaction once and the right energy.

A real ``csms serve`` killed three times per charger at different points of a transaction (a
start, a meter value, a stop) and delays after the send, restarted on the same database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from sqlalchemy import create_engine

from tests.faults.ledger import REGISTER, Ledger
from tests.ocpp.clients import iso, reply_to
from tests.server import start_server

pytestmark = pytest.mark.store
T0 = datetime(2026, 4, 1, 8, tzinfo=UTC)
READINGS = 30
# Message index at which the CSMS dies, and how long after the send (seconds): from "before
# the frame is read" to "well after the commit".
KILLS = {0: 0.0, READINGS // 2: 0.05, READINGS + 1: 0.3}
DRIVE_TIMEOUT_S = 180.0  # a hang is a failure with a traceback, not a stuck suite


def _messages_16(ledger: Ledger, tx: dict) -> Iterator[tuple[str, dict]]:
    yield "StartTransaction", {"connectorId": 1, "idTag": "K", "meterStart": 0,
                               "timestamp": iso(T0)}
    for m in range(1, READINGS + 1):
        at = T0 + timedelta(minutes=m)
        ledger.readings.add((at, 50.0 * m))
        yield "MeterValues", {"connectorId": 1, "transactionId": tx["id"], "meterValue": [
            {"timestamp": iso(at), "sampledValue": [
                {"value": str(50 * m), "measurand": REGISTER, "unit": "Wh"}]}]}
    yield "StopTransaction", {"transactionId": tx["id"], "meterStop": 50 * (READINGS + 1),
                              "timestamp": iso(T0 + timedelta(minutes=READINGS + 1))}


def _messages_201(ledger: Ledger, tx: dict) -> Iterator[tuple[str, dict]]:
    for m in range(READINGS + 2):
        kind = "Started" if m == 0 else "Ended" if m == READINGS + 1 else "Updated"
        at = T0 + timedelta(minutes=m)
        ledger.readings.add((at, 50.0 * m))
        yield "TransactionEvent", {
            "eventType": kind, "timestamp": iso(at), "seqNo": m,
            "triggerReason": "MeterValuePeriodic", "evse": {"id": 1, "connectorId": 1},
            "transactionInfo": {"transactionId": "kill-1"},
            "meterValue": [{"timestamp": iso(at), "sampledValue": [
                {"value": 50.0 * m, "measurand": REGISTER, "unitOfMeasure": {"unit": "Wh"}}]}]}


async def _drive(tmp_path, servers: list, identity: str, subprotocol: str, messages, tx: dict):
    """Send ``messages`` one CALL at a time; at each kill point kill -9 the CSMS (the last of
    ``servers``) that long after the send, restart it and re-send the unanswered message under
    a new id."""
    server = servers[-1]
    ws = await websockets.connect(f"{server.ocpp_url}/{identity}", subprotocols=[subprotocol])
    try:
        for n, (action, payload) in enumerate(messages):
            attempt = 0
            while True:
                await ws.send(json.dumps([2, f"{n}-{attempt}", action, payload]))
                if n in KILLS and attempt == 0:
                    await asyncio.sleep(KILLS[n])
                    server.kill()
                    await ws.close()
                    server = start_server(tmp_path, fresh=False,
                                          database_url=server.database_url)
                    servers.append(server)
                    ws = await websockets.connect(f"{server.ocpp_url}/{identity}",
                                                  subprotocols=[subprotocol])
                    attempt += 1
                    continue
                reply = await reply_to(ws, f"{n}-{attempt}")
                assert reply[0] == 3, reply
                break
            if action == "StartTransaction":
                tx["id"] = reply[2]["transactionId"]
    finally:
        await ws.close()


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
async def test_kill_9_between_commit_and_answer(tmp_path, protocol):
    servers = [start_server(tmp_path)]
    ledger = Ledger(f"KILL-{protocol}")
    tx: dict = {}
    try:
        if protocol == "1.6":
            await asyncio.wait_for(_drive(tmp_path, servers, ledger.charger_id, "ocpp1.6",
                                          _messages_16(ledger, tx), tx), DRIVE_TIMEOUT_S)
            ledger.energy_wh[str(tx["id"])] = 50.0 * (READINGS + 1)
        else:
            await asyncio.wait_for(_drive(tmp_path, servers, ledger.charger_id, "ocpp2.0.1",
                                          _messages_201(ledger, tx), tx), DRIVE_TIMEOUT_S)
            ledger.energy_wh["kill-1"] = 50.0 * (READINGS + 1)
    finally:
        for server in servers:
            server.stop()
    assert len(servers) == len(KILLS) + 1
    engine = create_engine(servers[0].database_url)
    try:
        ledger.check(engine)
    finally:
        engine.dispose()
