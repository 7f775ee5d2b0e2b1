"""SecurityEventNotification (1.6 security whitepaper, 2.0.1 A04): stored with its type, shown
in the charger's events, critical ones raise an alert; malformed ones get the version's
CALLERROR."""

from __future__ import annotations

import json
import logging

import pytest

from tests.ocpp.clients import iso, raw

PROTOCOLS = pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
SUB = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}


async def _send(services, identity: str, protocol: str, payload: dict) -> list:
    async with raw(services.ocpp_url, identity, SUB[protocol]) as ws:
        await ws.send(json.dumps([2, "s-1", "SecurityEventNotification", payload]))
        return json.loads(await ws.recv())


@PROTOCOLS
async def test_security_event_is_stored_and_critical_ones_alert(services, api, protocol,
                                                                 caplog):
    caplog.set_level(logging.WARNING)
    reply = await _send(services, "SEC-1", protocol, {
        "type": "TamperDetectionActivated", "timestamp": iso(), "techInfo": "lid opened"})
    assert reply == [3, "s-1", {}]
    reply = await _send(services, "SEC-1", protocol, {"type": "InvalidMessages",
                                                      "timestamp": iso()})
    assert reply == [3, "s-1", {}]
    events = (await api.get("/api/v1/chargers/SEC-1/events?kind=SecurityEventNotification",
                            headers=api.tokens["viewer"])).json()
    assert [(e["payload"]["type"], e["payload"]["critical"]) for e in events] == [
        ("InvalidMessages", False), ("TamperDetectionActivated", True)]
    assert events[1]["payload"]["techInfo"] == "lid opened"
    alerts = [r.getMessage() for r in caplog.records if "ALERT" in r.getMessage()]
    assert alerts == ["SEC-1: ALERT: critical security event TamperDetectionActivated"]


@pytest.mark.parametrize("protocol,payload,code", [
    ("1.6", {"type": "ResetOrReboot"}, "OccurenceConstraintViolation"),
    ("2.0.1", {"type": "ResetOrReboot"}, "OccurrenceConstraintViolation"),
    ("1.6", {"type": "x" * 51, "timestamp": "2026-01-01T00:00:00Z"}, "TypeConstraintViolation"),
    ("2.0.1", {"type": "x" * 51, "timestamp": "2026-01-01T00:00:00Z"},
     "TypeConstraintViolation"),
])
async def test_malformed_security_event_gets_a_callerror(services, protocol, payload, code):
    reply = await _send(services, "SEC-2", protocol, payload)
    assert reply[0] == 4 and reply[1] == "s-1"
    assert reply[2] == code
