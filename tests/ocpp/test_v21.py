"""OCPP 2.1 over a real websocket: handshake, a V2X session, 2.1 error codes and message types,
and a discharge set-point sent through the gateway and validated against the 2.1 schema."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from ocpp.routing import on
from ocpp.v21 import ChargePoint as CP21
from ocpp.v21 import call, call_result
from sqlmodel import Session, select

from csms.ocpp import framing
from csms.ocpp import profiles as pf
from csms.store.tables import ChargerEventRow, ChargerRow, MeterSampleRow, SessionRow
from tests.ocpp.clients import connect, iso, raw
from tests.ocpp.test_bad_frames import CASES, HEARTBEAT_OK, SCHEMA_CASES, V201, _expect_error

pytestmark = pytest.mark.store

V21 = "ocpp2.1"
T0 = datetime(2026, 2, 1, 18, 0, tzinfo=UTC)


class Charger21(CP21):
    profiles: list

    @on("SetChargingProfile")
    async def set_profile(self, evse_id, charging_profile, **_):
        self.profiles.append((evse_id, charging_profile))
        return call_result.SetChargingProfile(status="Accepted")


@contextlib.asynccontextmanager
async def connect21(url: str, identity: str, offered=(V21,)):
    async with connect(url, identity, "2.1", cls=Charger21, subprotocols=list(offered)) as cp:
        cp.profiles = []
        yield cp


def _rows(services, table):
    with Session(services.engine) as s:
        return s.exec(select(table)).all()


@pytest.mark.parametrize("offered, chosen", [
    ([V21], V21),
    ([V21, "ocpp2.0.1", "ocpp1.6"], V21),
    (["ocpp2.0.1", V21], "ocpp2.0.1"),  # the charger's order of preference wins
    (["ocpp1.6", V21], "ocpp1.6"),
    (["ocpp2.2", V21], V21),
])
async def test_handshake_picks_charger_preference(services, offered, chosen):
    async with websockets.connect(f"{services.ocpp_url}/HS21", subprotocols=offered) as ws:
        assert ws.subprotocol == chosen


def meter(at: datetime, import_wh: float, export_wh: float, power_w: float, ctx: str) -> list:
    return [{"timestamp": iso(at), "sampledValue": [
        {"value": import_wh, "measurand": "Energy.Active.Import.Register", "context": ctx,
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": export_wh, "measurand": "Energy.Active.Export.Register", "context": ctx,
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": power_w, "measurand": "Power.Active.Import", "context": ctx,
         "unitOfMeasure": {"unit": "W"}}]}]


async def test_v2x_session_and_discharge_setpoint(services):
    async with connect21(services.ocpp_url, "CP21-1") as cp:
        boot = await cp.call(call.BootNotification(
            charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"),
            suppress=False)
        assert boot.status == "Accepted"
        assert services.gateway.protocol("CP21-1") == "2.1"
        auth = await cp.call(call.Authorize(id_token={"id_token": "TAG", "type": "eMAID"}),
                             suppress=False)
        assert auth.id_token_info["status"] == "Accepted"
        tx = {"transaction_id": "TX21"}
        started = await cp.call(call.TransactionEvent(
            event_type="Started", timestamp=iso(T0), trigger_reason="Authorized", seq_no=0,
            transaction_info=tx, evse={"id": 1, "connector_id": 1},
            id_token={"id_token": "TAG", "type": "eMAID"},
            meter_value=meter(T0, 1000, 0, 0, "Transaction.Begin")), suppress=False)
        assert started.id_token_info["status"] == "Accepted"
        needs = await cp.call(call.NotifyEVChargingNeeds(evse_id=1, charging_needs={
            "requested_energy_transfer": "DC_BPT", "available_energy_transfer": ["DC", "DC_BPT"],
            "departure_time": iso(T0 + timedelta(hours=3)),
            "dc_charging_parameters": {"ev_max_current": 110, "ev_max_voltage": 440,
                                       "energy_amount": 7600, "ev_max_power": 45000},
            "v2x_charging_parameters": {"max_charge_power": 45000, "max_discharge_power": 20000,
                                        "ev_min_v2x_energy_request": -11400}}), suppress=False)
        assert needs.status == "Accepted"
        # The CSMS sends a discharge set-point the 2.1 way; the library validates it (2.1
        # schema) on the charger side too.
        profile = pf.LimitProfile(purpose=pf.TX, evse_id=1, periods=((0, -20_000.0),), phases=0,
                                  start=T0, duration_s=600, transaction_id="TX21")
        caps = pf.Capabilities(protocol="2.1", rate_units=("W",), max_stack_level=1)
        action, payload = pf.set_profile_request(profile, caps)
        answer = await services.gateway.call("CP21-1", action, payload)
        assert answer["status"] == "Accepted"
        (evse_id, got), = cp.profiles
        period = got["charging_schedule"][0]["charging_schedule_period"][0]
        assert evse_id == 1 and period["operation_mode"] == "CentralSetpoint"
        assert period["setpoint"] == -20_000.0 and period["discharge_limit"] == -20_000.0
        assert period["limit"] == 0.0
        await cp.call(call.TransactionEvent(
            event_type="Updated", timestamp=iso(T0 + timedelta(minutes=30)),
            trigger_reason="MeterValuePeriodic", seq_no=1,
            transaction_info={**tx, "charging_state": "Charging"},
            meter_value=meter(T0 + timedelta(minutes=30), 1000, 10_000, 0, "Sample.Periodic")),
            suppress=False)
        await cp.call(call.TransactionEvent(
            event_type="Ended", timestamp=iso(T0 + timedelta(hours=2)),
            trigger_reason="EVCommunicationLost", seq_no=2,
            transaction_info={**tx, "stopped_reason": "EVDisconnected"},
            meter_value=meter(T0 + timedelta(hours=2), 21_000, 10_000, 0, "Transaction.End")),
            suppress=False)
    (row,) = _rows(services, SessionRow)
    assert row.transaction_ref == "TX21" and row.energy_wh == 20_000 and not row.active
    export = [s.value for s in _rows(services, MeterSampleRow)
              if s.measurand == "Energy.Active.Export.Register"]
    assert export == [0, 10_000, 10_000]
    (charger,) = [c for c in _rows(services, ChargerRow) if c.id == "CP21-1"]
    assert charger.protocol == "2.1"
    needs_rows = [e for e in _rows(services, ChargerEventRow) if e.kind == "NotifyEVChargingNeeds"]
    assert needs_rows[0].payload["max_discharge_w"] == 20000


async def test_profiles_never_discharge_before_21():
    profile = pf.LimitProfile(purpose=pf.TX, evse_id=1, periods=((0, -20_000.0),), phases=0,
                              transaction_id="7")
    for protocol in ("1.6", "2.0.1"):
        caps = pf.Capabilities(protocol=protocol, rate_units=("W",), max_stack_level=1)
        _, payload = pf.set_profile_request(profile, caps)
        text = json.dumps(payload)
        assert "setpoint" not in text and "operationMode" not in text
        periods = (payload.get("chargingProfile", {}).get("chargingSchedule", [{}])[0]
                   if protocol != "1.6" else payload["csChargingProfiles"]["chargingSchedule"])
        assert periods["chargingSchedulePeriod"][0]["limit"] == 0.0


@pytest.mark.parametrize("protocol", [V21])
async def test_malformed_frames_get_21_codes(services, protocol):
    """2.1 keeps the 2.0.1 error codes (part 4); the same frames give the same answers."""
    assert framing.ERROR_CODES["2.1"] == framing.ERROR_CODES["2.0.1"]
    async with raw(services.ocpp_url, "BAD-21", protocol) as ws:
        for _name, frame, expected_id, expected in CASES:
            await _expect_error(ws, frame, expected_id, expected[V201])
        for _name, frames, expected_id, expected in SCHEMA_CASES:
            await _expect_error(ws, frames[V201], expected_id, expected[V201])


async def test_21_message_types_send_and_callresulterror(services):
    """SEND (6) and CALLRESULTERROR (5) are 2.1 only: never answered on 2.1, rejected as
    MessageTypeNotSupported on 2.0.1."""
    stream = json.dumps([6, "s-1", "NotifyPeriodicEventStream",
                         {"id": 1, "pending": 0, "basetime": iso(T0),
                          "data": [{"t": 0, "v": "1.0"}]}])
    async with raw(services.ocpp_url, "SEND-21", V21) as ws:
        await ws.send(stream)
        await ws.send('[5,"ours-1","FormatViolation","bad result",{}]')
        await ws.send('[6,"s-2","NotifyPeriodicEventStream",{"id":"x"}]')  # invalid: dropped
        await ws.send(HEARTBEAT_OK)
        ok = json.loads(await ws.recv())  # only the heartbeat is answered
        assert ok[:2] == [3, "ok-1"]
    kinds = [e.kind for e in _rows(services, ChargerEventRow)]
    assert kinds.count("NotifyPeriodicEventStream") == 1
    async with raw(services.ocpp_url, "SEND-201", V201) as ws:
        await _expect_error(ws, stream, "s-1", "MessageTypeNotSupported")
