"""A small test-only central system on the ``ocpp`` library's central side (a real websocket
server), so the simulator tests do not need the CSMS gateway.

It records what a CSMS would persist: sessions (de-duplicated on business keys as
docs/architecture.md asks), status notifications, meter values, transaction events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call_result as r16
from ocpp.v201 import ChargePoint as CP201
from ocpp.v201 import call_result as r201


@dataclass
class Session:
    charger_id: str
    evse_id: int
    id_tag: str
    transaction_id: str
    started_at: str
    meter_start_wh: float
    stopped_at: str | None = None
    meter_stop_wh: float | None = None
    stop_reason: str | None = None

    @property
    def energy_wh(self) -> float | None:
        return None if self.meter_stop_wh is None else self.meter_stop_wh - self.meter_start_wh


@dataclass
class Central:
    sessions: dict[str, Session] = field(default_factory=dict)
    statuses: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    meter: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    events: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    received: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    cps: dict[str, object] = field(default_factory=dict)
    boots: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    delay_s: float = 0.0  # answer every request slowly (fault tests)
    _ids = itertools.count(1)
    url: str = ""

    async def wait_for(self, predicate, timeout_s: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)


def _central16(central: Central):
    class Central16(CP16):
        async def _delay(self):
            if central.delay_s:
                await asyncio.sleep(central.delay_s)

        @on("BootNotification")
        async def boot(self, **kw):
            central.boots[self.id] += 1
            return r16.BootNotification(current_time=_now(), interval=300, status="Accepted")

        @on("Heartbeat")
        async def heartbeat(self):
            return r16.Heartbeat(current_time=_now())

        @on("StatusNotification")
        async def status(self, connector_id, status, error_code, **kw):
            central.statuses[self.id].append((connector_id, status))
            return r16.StatusNotification()

        @on("Authorize")
        async def authorize(self, id_tag):
            await self._delay()
            return r16.Authorize(id_tag_info={"status": "Accepted"})

        @on("StartTransaction")
        async def start_transaction(self, connector_id, id_tag, meter_start, timestamp, **kw):
            await self._delay()
            for s in central.sessions.values():  # business-key de-duplication
                if (s.charger_id, s.evse_id, s.id_tag, s.started_at, s.meter_start_wh) == \
                        (self.id, connector_id, id_tag, timestamp, meter_start):
                    return r16.StartTransaction(transaction_id=int(s.transaction_id),
                                                id_tag_info={"status": "Accepted"})
            tid = next(central._ids)
            central.sessions[str(tid)] = Session(self.id, connector_id, id_tag, str(tid),
                                                 timestamp, meter_start)
            return r16.StartTransaction(transaction_id=tid, id_tag_info={"status": "Accepted"})

        @on("MeterValues")
        async def meter_values(self, connector_id, meter_value, transaction_id=None, **kw):
            central.meter[self.id].append((connector_id, transaction_id, meter_value))
            return r16.MeterValues()

        @on("StopTransaction")
        async def stop_transaction(self, meter_stop, timestamp, transaction_id, reason=None, **kw):
            s = central.sessions[str(transaction_id)]
            s.stopped_at, s.meter_stop_wh, s.stop_reason = timestamp, meter_stop, reason
            return r16.StopTransaction(id_tag_info={"status": "Accepted"})

        @on("DataTransfer")
        async def data(self, **kw):
            return r16.DataTransfer(status="Accepted")

    return Central16


def _central201(central: Central):
    class Central201(CP201):
        @on("BootNotification")
        async def boot(self, **kw):
            central.boots[self.id] += 1
            return r201.BootNotification(current_time=_now(), interval=300, status="Accepted")

        @on("Heartbeat")
        async def heartbeat(self):
            return r201.Heartbeat(current_time=_now())

        @on("StatusNotification")
        async def status(self, timestamp, connector_status, evse_id, connector_id, **kw):
            central.statuses[self.id].append((evse_id, connector_status))
            return r201.StatusNotification()

        @on("Authorize")
        async def authorize(self, id_token, **kw):
            if central.delay_s:
                await asyncio.sleep(central.delay_s)
            return r201.Authorize(id_token_info={"status": "Accepted"})

        @on("TransactionEvent")
        async def tx_event(self, event_type, timestamp, trigger_reason, seq_no, transaction_info,
                           meter_value=None, evse=None, id_token=None, offline=None, **kw):
            tid = transaction_info["transaction_id"]
            seen = {(e[0], e[1]) for e in central.events[self.id]}
            if (tid, seq_no) in seen:  # replayed twice: idempotent
                return r201.TransactionEvent()
            central.events[self.id].append((tid, seq_no, event_type, trigger_reason,
                                            transaction_info, meter_value, offline))

            def energy(mv):
                for m in mv or []:
                    for sv in m["sampled_value"]:
                        if sv.get("measurand", "Energy.Active.Import.Register") == \
                                "Energy.Active.Import.Register":
                            return sv["value"]
                return None
            if event_type == "Started":
                central.sessions[tid] = Session(self.id, evse["id"], id_token["id_token"], tid,
                                                timestamp, energy(meter_value))
            elif event_type == "Ended":
                s = central.sessions[tid]
                s.stopped_at, s.meter_stop_wh = timestamp, energy(meter_value)
                s.stop_reason = transaction_info.get("stopped_reason")
            if meter_value and event_type == "Updated":
                central.meter[self.id].append((evse and evse.get("id"), tid, meter_value))
            return r201.TransactionEvent()

        @on("MeterValues")
        async def meter_values(self, evse_id, meter_value, **kw):
            central.meter[self.id].append((evse_id, None, meter_value))
            return r201.MeterValues()

        @on("NotifyEVChargingNeeds")
        async def needs(self, charging_needs, evse_id, **kw):
            central.received[self.id].append(("NotifyEVChargingNeeds", charging_needs))
            return r201.NotifyEVChargingNeeds(status="Accepted")

        @on("ReportChargingProfiles")
        async def report(self, request_id, charging_limit_source, charging_profile, evse_id, **kw):
            central.received[self.id].append(("ReportChargingProfiles", charging_profile))
            return r201.ReportChargingProfiles()

    return Central201


def _now() -> str:
    return datetime.now(UTC).isoformat()


@contextlib.asynccontextmanager
async def running_central():
    """Start a central system on an ephemeral port; yields the ``Central`` record."""
    central = Central()
    classes = {"ocpp1.6": _central16(central), "ocpp2.0.1": _central201(central)}

    async def handler(ws):
        cid = ws.request.path.rstrip("/").split("/")[-1]
        cp = classes[ws.subprotocol](cid, ws)
        central.cps[cid] = cp
        with contextlib.suppress(websockets.ConnectionClosed):
            await cp.start()

    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6", "ocpp2.0.1"],
                                compression=None, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        central.url = f"ws://127.0.0.1:{port}/ocpp"
        yield central
