"""Interop with an independent OCPP implementation: npm ocpp-rpc in strict mode.

The peer validates every response we send and every request we make against the official
schemas, so a schema slip on our side fails here even if our own tests agree with our code.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, select

from csms.store.tables import SessionRow

pytestmark = pytest.mark.interop
ROOT = Path(__file__).resolve().parents[2]
PEER = ROOT / "tests" / "interop" / "peer.js"

if shutil.which("node") is None or not (ROOT / "node_modules" / "ocpp-rpc").exists():
    pytest.skip("node and `npm ci` (ocpp-rpc) are needed for interop tests",
                allow_module_level=True)

COMMANDS = {
    "ocpp1.6": [("reset", {"type": "soft"}), ("trigger", {"message": "Heartbeat"}),
                ("GetConfiguration", {"key": ["ChargeProfileMaxStackLevel"]}),
                ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
                    "chargingProfileId": 10, "stackLevel": 1,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Relative", "chargingSchedule": {
                        "chargingRateUnit": "A", "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 13.7, "numberPhases": 3}]}}}),
                ("clear_profiles", {}), ("remote_start", {"id_token": "X", "connector_id": 1})],
    "ocpp2.0.1": [("reset", {"type": "soft"}), ("trigger", {"message": "Heartbeat"}),
                  ("GetVariables", {"getVariableData": [
                      {"component": {"name": "SmartChargingCtrlr"},
                       "variable": {"name": "ProfileStackLevel"}}]}),
                  ("SetChargingProfile", {"evseId": 1, "chargingProfile": {
                      "id": 10, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
                      "chargingProfileKind": "Relative", "chargingSchedule": [{
                          "id": 1, "chargingRateUnit": "W", "chargingSchedulePeriod": [
                              {"startPeriod": 0, "limit": 7000.0}]}]}}),
                  ("clear_profiles", {}), ("remote_start", {"id_token": "X", "evse_id": 1})],
}


async def _lines(proc):
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        if not line:
            return
        yield json.loads(line)


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_ocpp_rpc_strict_peer(services, protocol):
    identity = f"RPC-{protocol[4:]}"
    proc = await asyncio.create_subprocess_exec(
        "node", str(PEER), services.ocpp_url, identity, protocol,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    seen: dict = {}
    try:
        async for msg in _lines(proc):
            assert "error" not in msg, msg
            seen.update(msg)
            if msg.get("ready"):
                break
        assert seen["connected"] == protocol
        session = seen["session"]
        assert session["boot"]["status"] == "Accepted"
        assert session["dataTransfer"]["status"] == "UnknownVendorId"
        bad = seen["badFrame"]
        assert bad[0] == 4 and bad[2] in ("FormatViolation", "FormationViolation")
        for action, params in COMMANDS[protocol]:
            row = await services.commands.submit(identity, action, params, wait=True)
            assert row.state in ("accepted", "rejected"), (action, row.state, row.error)
        proc.stdin.close()
        async for msg in _lines(proc):
            seen.update(msg)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert len(seen["received"]) == len(COMMANDS[protocol])
    with Session(services.engine) as s:
        (row,) = s.exec(select(SessionRow).where(SessionRow.charger_id == identity)).all()
    assert row.energy_wh == 3000 and not row.active
