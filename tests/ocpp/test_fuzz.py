"""Fuzzing the framing and the adapters of both versions over a real websocket.

Hypothesis builds frames: real messages (boot, status, transactions, meter values) with one
leaf replaced by something hostile (huge or negative numbers, NaN strings, far dates, lone
surrogates, NUL, nested junk), and random frames. Every frame must get a CALLRESULT or a
CALLERROR other than InternalError, nothing may log at ERROR (tests/conftest.py), and the
gateway's event loop must keep answering (its largest stall is measured while fuzzing).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.store

HOSTILE = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80), st.just(10**19), st.just(-1),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([
        "NaN", "Infinity", "-1e400", "1e400", "9" * 400, "", "\x00", "\ud800", "\udfff x",
        "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-13-45T99:99:99Z",
        "1970-01-01T00:00:00Z", "x" * 5000]),
    st.text(max_size=40), st.none(), st.booleans(),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                         max_size=3))

AT = "2026-04-01T08:00:00Z"
MV16 = [{"timestamp": AT, "sampledValue": [
    {"value": "1200", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
    {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW", "phase": "L1"}]}]
MV201 = [{"timestamp": AT, "sampledValue": [
    {"value": 1.2, "measurand": "Energy.Active.Import.Register",
     "unitOfMeasure": {"unit": "kWh", "multiplier": 0}},
    {"value": 32, "measurand": "Current.Import", "phase": "L2"}]}]
BASES = {
    "ocpp1.6": [
        ("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
        ("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                "status": "Available", "timestamp": AT}),
        ("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 10,
                              "timestamp": AT}),
        ("MeterValues", {"connectorId": 1, "transactionId": 1, "meterValue": MV16}),
        ("StopTransaction", {"transactionId": 1, "meterStop": 900, "timestamp": AT,
                             "reason": "Local", "transactionData": MV16}),
        ("DataTransfer", {"vendorId": "V", "messageId": "m", "data": "d"}),
        ("Authorize", {"idTag": "T"}),
    ],
    "ocpp2.0.1": [
        ("BootNotification", {"chargingStation": {"model": "M", "vendorName": "V"},
                              "reason": "PowerUp"}),
        ("StatusNotification", {"timestamp": AT, "connectorStatus": "Occupied", "evseId": 1,
                                "connectorId": 1}),
        ("TransactionEvent", {"eventType": "Updated", "timestamp": AT,
                              "triggerReason": "MeterValuePeriodic", "seqNo": 3,
                              "transactionInfo": {"transactionId": "fz-1",
                                                  "chargingState": "Charging"},
                              "evse": {"id": 1, "connectorId": 1}, "meterValue": MV201}),
        ("MeterValues", {"evseId": 1, "meterValue": MV201}),
        ("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {
            "requestedEnergyTransfer": "AC_three_phase",
            "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                                     "evMaxCurrent": 32, "evMaxVoltage": 400}}}),
        ("DataTransfer", {"vendorId": "V", "data": {"k": [1, 2]}}),
    ],
}


def _paths(value, prefix=()):
    """Every leaf path of a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))
    else:
        yield prefix


def _replace(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    out = list(value)
    out[head] = _replace(out[head], rest, new)
    return out


@st.composite
def frames(draw, protocol: str) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:  # random junk in a frame's shape
        return json.dumps([draw(st.sampled_from([2, 3, 4, 2.0, "2", 7])),
                           draw(st.text(max_size=40)), draw(st.text(max_size=30)),
                           draw(st.dictionaries(st.text(max_size=8), HOSTILE, max_size=4))])
    action, base = draw(st.sampled_from(BASES[protocol]))
    paths = list(_paths(base))
    payload = _replace(base, draw(st.sampled_from(paths)), draw(HOSTILE))
    if kind == 1:  # and an extra key
        payload = {**payload, draw(st.text(min_size=1, max_size=8)): draw(HOSTILE)}
    unique_id = draw(st.text(alphabet="abcdef0123456789", min_size=1, max_size=12))
    return json.dumps([2, unique_id, action, payload])


class _Gateway:
    """The in-process CSMS on a loop of its own thread, with a stall monitor on that loop."""

    def __init__(self, services) -> None:
        self.services = services
        self.loop = asyncio.new_event_loop()
        self.max_stall_s = 0.0
        self.slow_callbacks: list[tuple[float, str]] = []
        self.sockets: dict[str, object] = {}


class _SlowCallbacks(logging.Handler):
    """asyncio's debug mode reports each callback that held the loop longer than
    ``loop.slow_callback_duration``: the loop's own work, not the test's lateness under load."""

    def __init__(self, found: list[tuple[float, str]]) -> None:
        super().__init__(logging.WARNING)
        self.found = found

    def emit(self, record: logging.LogRecord) -> None:
        # The duration ends the message, after the callback's description (which can run to
        # hundreds of characters): read it before shortening the message for the report.
        message = record.getMessage()
        took = re.search(r"took ([0-9.]+) seconds", message)
        if took:
            self.found.append((float(took.group(1)), message[:300]))


@pytest.fixture
def gateway(database_url):
    from csms.services import Services
    from csms.settings import Settings

    ready = threading.Event()
    holder: dict = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        settings_ = Settings(database_url=database_url, ocpp_port=0, http_port=0, open=True,
                             ping_interval_s=None)
        services = Services.build(settings_)
        loop.run_until_complete(services.start())
        gw = _Gateway(services)
        gw.loop = loop

        async def monitor() -> None:
            while True:
                started = time.perf_counter()
                await asyncio.sleep(0.01)
                gw.max_stall_s = max(gw.max_stall_s, time.perf_counter() - started - 0.01)

        holder["monitor"] = loop.create_task(monitor())
        # Issue 12: no event-loop stall over 100 ms while fuzzing.
        loop.set_debug(True)
        loop.slow_callback_duration = 0.1
        slow = _SlowCallbacks(gw.slow_callbacks)
        logging.getLogger("asyncio").addHandler(slow)
        holder["slow"] = slow
        holder["gw"] = gw
        ready.set()
        loop.run_forever()
        holder["monitor"].cancel()
        loop.run_until_complete(services.stop())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30)
    gw = holder["gw"]
    yield gw
    gw.loop.call_soon_threadsafe(gw.loop.stop)
    thread.join(30)
    logging.getLogger("asyncio").removeHandler(holder["slow"])


def _exchange(gw: _Gateway, protocol: str, frame: str) -> list:
    async def go() -> list:
        ws = gw.sockets.get(protocol)
        if ws is None or ws.state.name != "OPEN":
            url = f"ws://127.0.0.1:{gw.services.gateway.port}/ocpp/FUZZ-{protocol[4:]}"
            ws = gw.sockets[protocol] = await websockets.connect(url, subprotocols=[protocol],
                                                                 max_size=2**22)
        await ws.send(frame)
        # A probe after it: the replies before the probe's are the frame's (a CALLRESULT or
        # CALLERROR from the charger is never answered, so there may be none).
        await ws.send('[2,"probe-hb","Heartbeat",{}]')
        replies = []
        while True:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if reply[:2] == [3, "probe-hb"]:
                return replies
            replies.append(reply)

    # The client runs on the gateway's loop too: a stalled loop stalls the answer.
    return asyncio.run_coroutine_threadsafe(go(), gw.loop).result(30)


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
def test_fuzzed_frames_get_a_proper_answer(gateway, protocol):
    @settings(max_examples=100, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(frame=frames(protocol))
    def check(frame: str) -> None:
        replies = _exchange(gateway, protocol, frame)
        if json.loads(frame)[0] in (3, 4):
            assert replies == [], replies  # never answer an answer
            return
        assert len(replies) == 1 and replies[0][0] in (3, 4), replies
        if replies[0][0] == 4:
            assert replies[0][2] != "InternalError", (frame[:300], replies)

    check()
    # The frozen loop of a 10**10,000,000 multiplier stalled ~11 s. A callback's wall time
    # also counts waiting for the GIL, which hypothesis's generation in the test's own thread
    # holds, and this process's garbage collections (the served process freezes its imports,
    # this one does not): callbacks of 120-135 ms on a quiet machine, and the 2.0.1 case on
    # PostgreSQL failed a 0.5 s bound once in CI (2026-12-04). Both probes keep a 1 s bound
    # against freezes; the 100 ms is asserted on a real `csms serve` process in
    # test_fuzz_process.py, where no test code shares the interpreter.
    took_s = [seconds for seconds, _ in gateway.slow_callbacks]
    assert max(took_s, default=0.0) < 1.0, gateway.slow_callbacks
    assert gateway.max_stall_s < 1.0, gateway.max_stall_s
