"""Chargers as the field has them (issue 12, "Done when"): offline for a day then replaying,
replays under new message ids, MeterValues after the stop, seqNo gaps, duplicates and resets,
clocks a day off, crossing CALLs, flapping and half-open links.

Each scenario keeps a ledger of what the charger sent and checks it against the store: 0 lost,
0 doubled, 0 wrong energy. Real websockets to the in-process gateway; SQLite, and PostgreSQL
under ``make test-store-pg``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from sqlmodel import Session, select
from websockets.protocol import State

from csms.store.tables import SessionRow
from tests.faults.ledger import REGISTER, Ledger
from tests.ocpp.clients import iso, raw, reply_to, status_of
from tests.security.helpers import basic, register

pytestmark = pytest.mark.store

T0 = datetime(2026, 4, 1, 8, tzinfo=UTC)


async def _call(ws, unique_id: str, action: str, payload: dict) -> dict:
    await ws.send(json.dumps([2, unique_id, action, payload]))
    reply = await reply_to(ws, unique_id)
    assert reply[0] == 3, reply
    return reply[2]


def _mv16(tx: int, at: datetime, wh: float) -> dict:
    return {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": iso(at),
            "sampledValue": [{"value": str(wh), "measurand": REGISTER, "unit": "Wh"}]}]}


def _event(kind: str, tx: str, seq: int, at: datetime, wh: float | None,
           trigger: str = "MeterValuePeriodic") -> dict:
    payload = {"eventType": kind, "timestamp": iso(at), "triggerReason": trigger, "seqNo": seq,
               "transactionInfo": {"transactionId": tx}, "evse": {"id": 1, "connectorId": 1}}
    if kind == "Ended":
        payload["transactionInfo"]["stoppedReason"] = "EVDisconnected"
    if wh is not None:
        payload["meterValue"] = [{"timestamp": iso(at), "sampledValue": [
            {"value": wh, "measurand": REGISTER, "unitOfMeasure": {"unit": "Wh"}}]}]
    return payload


async def _session_16(ws, ledger: Ledger, start: datetime, minutes: int, *, tag: str = "T",
                      wh_per_min: float = 20.0, resend: bool = False) -> str:
    """One 1.6 transaction with a register reading a minute; ``resend`` sends every message a
    second time under a new message id (the charger never saw the first answer)."""
    copies = 2 if resend else 1
    started = {"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": iso(start)}
    answers = [await _call(ws, f"{tag}-s{n}", "StartTransaction", started)
               for n in range(copies)]
    tx = answers[0]["transactionId"]
    assert all(a["transactionId"] == tx for a in answers)
    for m in range(1, minutes):
        at, wh = start + timedelta(minutes=m), wh_per_min * m
        for n in range(copies):
            await _call(ws, f"{tag}-mv{m}-{n}", "MeterValues", _mv16(tx, at, wh))
        ledger.readings.add((at, wh))
    stop_wh = wh_per_min * minutes
    for n in range(copies):
        await _call(ws, f"{tag}-stop{n}", "StopTransaction", {
            "transactionId": tx, "meterStop": stop_wh, "reason": "EVDisconnected",
            "timestamp": iso(start + timedelta(minutes=minutes))})
    ledger.energy_wh[str(tx)] = stop_wh
    return str(tx)


async def test_a_day_offline_then_500_messages_replayed(services):
    """The charger was offline for 24 h and replays its queue: StartTransaction, 498 MeterValues
    and StopTransaction, all a day old, back to back."""
    ledger = Ledger("F-OFFLINE")
    async with raw(services.ocpp_url, ledger.charger_id, "ocpp1.6") as ws:
        await _session_16(ws, ledger, T0 - timedelta(days=1), minutes=499)
    ledger.check(services.engine)
    assert len(ledger.readings) == 498


async def test_replays_under_new_message_ids_count_once(services):
    ledger16 = Ledger("F-REPLAY-16")
    async with raw(services.ocpp_url, ledger16.charger_id, "ocpp1.6") as ws:
        await _session_16(ws, ledger16, T0, minutes=30, resend=True)
    ledger16.check(services.engine)

    ledger = Ledger("F-REPLAY-201")
    async with raw(services.ocpp_url, ledger.charger_id, "ocpp2.0.1") as ws:
        events = [_event("Started", "rp-1", 0, T0, 0.0, "CablePluggedIn")]
        events += [_event("Updated", "rp-1", m, T0 + timedelta(minutes=m), 100.0 * m)
                   for m in range(1, 20)]
        events.append(_event("Ended", "rp-1", 20, T0 + timedelta(minutes=20), 2000.0,
                             "EVCommunicationLost"))
        for copy in range(2):
            for n, event in enumerate(events):
                await _call(ws, f"c{copy}-{n}", "TransactionEvent", event)
    ledger.energy_wh["rp-1"] = 2000.0
    ledger.readings = {(T0 + timedelta(minutes=m), 100.0 * m) for m in range(21)}
    ledger.check(services.engine)


async def test_meter_values_after_the_stop_change_nothing_but_are_kept(services):
    ledger = Ledger("F-AFTER-STOP")
    async with raw(services.ocpp_url, ledger.charger_id, "ocpp1.6") as ws:
        tx = await _session_16(ws, ledger, T0, minutes=10)
        # Late readings of the same transaction: one from before the stop, one after it.
        for at, wh in ((T0 + timedelta(minutes=5, seconds=30), 110.0),
                       (T0 + timedelta(minutes=15), 300.0)):
            await _call(ws, f"late-{wh}", "MeterValues", _mv16(int(tx), at, wh))
            ledger.readings.add((at, wh))
    ledger.check(services.engine)
    with Session(services.engine) as s:
        row = s.exec(select(SessionRow).where(SessionRow.transaction_ref == tx)).one()
    assert (row.meter_stop_wh, row.stopped_at) == (200.0, T0 + timedelta(minutes=10))


async def test_seq_no_gaps_duplicates_and_a_reset(services):
    """seqNo 0, 1, 2, then 5 (3 and 4 lost), 5 again (a duplicate), then the charger reboots and
    numbers the same transaction from 0 again: nothing after the reset may be taken for a
    duplicate."""
    ledger = Ledger("F-SEQ")
    plan = [("Started", 0, 0), ("Updated", 1, 1), ("Updated", 2, 2), ("Updated", 5, 5),
            ("Updated", 5, 5), ("Updated", 0, 8), ("Updated", 1, 9), ("Ended", 2, 10)]
    async with raw(services.ocpp_url, ledger.charger_id, "ocpp2.0.1") as ws:
        for n, (kind, seq, minute) in enumerate(plan):
            await _call(ws, f"q{n}", "TransactionEvent", _event(
                kind, "seq-1", seq, T0 + timedelta(minutes=minute), 100.0 * minute))
            ledger.readings.add((T0 + timedelta(minutes=minute), 100.0 * minute))
    ledger.energy_wh["seq-1"] = 1000.0
    ledger.check(services.engine)
    with Session(services.engine) as s:
        row = s.exec(select(SessionRow).where(SessionRow.transaction_ref == "seq-1")).one()
    assert not row.active and row.stop_reason == "EVDisconnected"
    assert set(row.meter_flags or ()) >= {"seq_gap", "seq_reset"}


@pytest.mark.parametrize("skew", [timedelta(days=1), -timedelta(days=1)],
                         ids=["ahead", "behind"])
async def test_a_clock_a_day_off(services, api, skew):
    ledger = Ledger(f"F-SKEW-{skew.days}")
    now = datetime.now(UTC).replace(microsecond=0)
    async with raw(services.ocpp_url, ledger.charger_id, "ocpp1.6") as ws:
        await _call(ws, "b", "BootNotification", {"chargePointVendor": "V",
                                                 "chargePointModel": "M"})
        await _call(ws, "h", "Heartbeat", {})
        await _session_16(ws, ledger, now + skew, minutes=5)
        v201 = Ledger(ledger.charger_id + "-201")
    async with raw(services.ocpp_url, v201.charger_id, "ocpp2.0.1") as ws:
        for n, (kind, minute) in enumerate((("Started", 0), ("Updated", 2), ("Ended", 4))):
            at = now + skew + timedelta(minutes=minute)
            await _call(ws, f"e{n}", "TransactionEvent",
                        _event(kind, "skew-1", n, at, 500.0 * minute))
            v201.readings.add((at, 500.0 * minute))
    v201.energy_wh["skew-1"] = 2000.0
    ledger.check(services.engine)
    v201.check(services.engine)
    # The pages that list sessions by time still answer.
    for path in ("/api/v1/sessions", f"/api/v1/chargers/{ledger.charger_id}",
                 f"/api/v1/chargers/{ledger.charger_id}/events"):
        response = await api.get(path, headers=api.tokens["viewer"])
        assert response.status_code == 200, (path, response.text)


async def test_crossing_calls_are_both_answered(services, api):
    """The CSMS sends a CALL while the charger's own CALL is on its way: each side answers the
    other's (OCPP-J 4.1.1 allows one outstanding CALL per direction)."""
    ledger = Ledger("F-CROSS")
    async with raw(services.ocpp_url, ledger.charger_id, "ocpp1.6") as ws:
        tx = (await _call(ws, "s", "StartTransaction", {
            "connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": iso(T0)}))[
            "transactionId"]
        response = await api.post(f"/api/v1/chargers/{ledger.charger_id}/commands",
                                  headers=api.tokens["operator"],
                                  json={"action": "GetConfiguration", "params": {}})
        assert response.status_code == 202, response.text
        command_id = response.json()["id"]
        incoming = json.loads(await asyncio.wait_for(ws.recv(), 10))
        while incoming[0] == 2 and incoming[2] != "GetConfiguration":  # e.g. the control loop
            await ws.send(json.dumps([3, incoming[1], {"status": "Accepted"}]))
            incoming = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert incoming[0] == 2 and incoming[2] == "GetConfiguration"
        # Our CALL crosses theirs: sent before answering it.
        await ws.send(json.dumps([2, "mine", "MeterValues",
                                  _mv16(tx, T0 + timedelta(minutes=1), 50.0)]))
        await ws.send(json.dumps([3, incoming[1], {"configurationKey": []}]))
        reply = await reply_to(ws, "mine", 10)
        assert reply[0] == 3, reply
        ledger.readings.add((T0 + timedelta(minutes=1), 50.0))
        await _call(ws, "stop", "StopTransaction", {
            "transactionId": tx, "meterStop": 80, "timestamp": iso(T0 + timedelta(minutes=2))})
        ledger.energy_wh[str(tx)] = 80.0
    ledger.check(services.engine)
    for _ in range(50):
        command = (await api.get(f"/api/v1/commands/{command_id}",
                                 headers=api.tokens["operator"])).json()
        if command["state"] not in ("queued", "sent"):
            break
        await asyncio.sleep(0.1)
    assert (command["state"], command["response"]) == ("accepted", {"configurationKey": []})


async def test_a_flapping_charger_loses_nothing(services):
    """The link drops every few messages, sometimes before the answer is read; the charger
    reconnects at once and re-sends what was not answered (same content, a new message id)."""
    ledger = Ledger("F-FLAP")
    pending: list[tuple[str, dict]] = []
    start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": iso(T0)}
    tx = None
    minute, links = 1, 0
    while minute <= 60 or pending:
        links += 1
        async with raw(services.ocpp_url, ledger.charger_id, "ocpp1.6") as ws:
            for n in range(5):
                if pending:
                    action, payload = pending.pop(0)
                elif tx is None:
                    action, payload = "StartTransaction", start
                elif minute <= 60:
                    at = T0 + timedelta(minutes=minute)
                    action, payload = "MeterValues", _mv16(tx, at, 10.0 * minute)
                    ledger.readings.add((at, 10.0 * minute))
                    minute += 1
                else:
                    break
                unique_id = f"{links}-{n}"
                await ws.send(json.dumps([2, unique_id, action, payload]))
                if n == 4:  # the link drops before this answer is read
                    pending.append((action, payload))
                    break
                reply = await reply_to(ws, unique_id)
                assert reply[0] == 3, reply
                if action == "StartTransaction":
                    tx = reply[2]["transactionId"]
    async with raw(services.ocpp_url, ledger.charger_id, "ocpp1.6") as ws:
        await _call(ws, "stop", "StopTransaction", {
            "transactionId": tx, "meterStop": 600, "timestamp": iso(T0 + timedelta(hours=1))})
    ledger.energy_wh[str(tx)] = 600.0
    ledger.check(services.engine)
    assert links > 10


async def _half_open(host: str, port: int, identity: str) -> asyncio.StreamWriter:
    """A websocket handshake, then silence: nothing read, no pong, no close."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write((
        f"GET /ocpp/{identity} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode())
    assert b" 101 " in await asyncio.wait_for(reader.read(4096), 10)
    return writer


async def test_half_open_links_are_replaced_or_dropped(database_url):
    """A charger whose link died without a close (power cut at the modem) still holds a socket
    here. When it reconnects, the new link is served at once; a link nobody replaces is
    dropped when its pings go unanswered."""
    from tests.conftest import _running_services

    services = await _running_services(database_url, True, ping_interval_s=0.5,
                                       ping_timeout_s=0.5)
    writers = []
    try:
        for identity in ("F-HALF", "F-HALF-GONE"):
            writers.append(await _half_open("127.0.0.1", services.gateway.port, identity))
        assert {"F-HALF", "F-HALF-GONE"} <= set(services.gateway.links)
        ledger = Ledger("F-HALF")
        async with raw(services.ocpp_url, ledger.charger_id, "ocpp1.6") as ws:
            await _session_16(ws, ledger, T0, minutes=3)
        ledger.check(services.engine)
        # Ping every 0.5 s, 0.5 s for the pong, then the close handshake's own timeout.
        for _ in range(300):
            if "F-HALF-GONE" not in services.gateway.links:
                break
            await asyncio.sleep(0.1)
        assert "F-HALF-GONE" not in services.gateway.links
    finally:
        for writer in writers:
            writer.close()
        await services.stop()


async def test_duplicate_identities_with_and_without_the_password(closed_services):
    """While a charger charges: 20 connections under its name with a wrong password (from
    another network) change nothing; 5 simultaneous ones with the right password (the charger itself, reconnecting
    over a flaky modem) leave exactly one link served, and the transaction is whole."""
    register(closed_services, "F-DUP", 1)
    url = f"{closed_services.ocpp_url}/F-DUP"
    ledger = Ledger("F-DUP")
    async with raw(closed_services.ocpp_url, "F-DUP", "ocpp1.6",
                   additional_headers=basic("F-DUP")) as ws:
        tx = (await _call(ws, "s", "StartTransaction", {
            "connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": iso(T0)}))[
            "transactionId"]
        statuses = await asyncio.gather(*(
            status_of(url, basic("F-DUP", "not-the-password-123"), source="127.0.0.9")
            for _ in range(20)))
        assert set(statuses) <= {401, 429}, statuses
        at = T0 + timedelta(minutes=1)
        await _call(ws, "mv", "MeterValues", {"connectorId": 1, "transactionId": tx,
                                              "meterValue": [{"timestamp": iso(at), "sampledValue": [
            {"value": "100", "measurand": REGISTER, "unit": "Wh"}]}]})
        ledger.readings.add((at, 100.0))
    links = await asyncio.gather(*(
        websockets.connect(url, subprotocols=["ocpp1.6"], additional_headers=basic("F-DUP"))
        for _ in range(5)))
    try:
        await asyncio.sleep(0.5)
        served = [ws for ws in links if ws.state is State.OPEN]
        assert len(served) == 1
        await _call(served[0], "stop", "StopTransaction", {
            "transactionId": tx, "meterStop": 150, "timestamp": iso(T0 + timedelta(minutes=2))})
    finally:
        for ws in links:
            await ws.close()
    ledger.energy_wh[str(tx)] = 150.0
    ledger.check(closed_services.engine)
