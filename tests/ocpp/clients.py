"""Test chargers built on the ``ocpp`` library's charge-point side, over real websockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

import websockets
from ocpp.v16 import ChargePoint as CP16
from ocpp.v201 import ChargePoint as CP201
from websockets.exceptions import InvalidStatus


def iso(dt: datetime | None = None) -> str:
    return (dt or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


class Charger16(CP16):
    pass


class Charger201(CP201):
    pass


@contextlib.asynccontextmanager
async def connect(url: str, identity: str, protocol: str = "1.6", *, cls=None,
                  subprotocols: list[str] | None = None, **kwargs):
    """Yield a started library ChargePoint (``cls``, by default the plain one of ``protocol``)
    connected to ``url/identity``, offering ``subprotocols`` (default: the protocol's)."""
    sub = "ocpp1.6" if protocol == "1.6" else f"ocpp{protocol}"
    ws = await websockets.connect(f"{url}/{identity}", subprotocols=subprotocols or [sub],
                                  **kwargs)
    cls = cls or (Charger16 if protocol == "1.6" else Charger201)
    cp = cls(identity, ws, response_timeout=10)
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        task.cancel()
        await ws.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@contextlib.asynccontextmanager
async def raw(url: str, identity: str, protocol: str = "ocpp1.6", **kwargs):
    """A bare websocket for sending hand-made frames."""
    ws = await websockets.connect(f"{url}/{identity}", subprotocols=[protocol], **kwargs)
    try:
        yield ws
    finally:
        await ws.close()


async def reply_to(ws, unique_id: str, timeout_s: float = 30.0) -> list:
    """Read until the CSMS answers ``unique_id`` (a CALLRESULT or CALLERROR frame), accepting
    whatever it asks meanwhile, as a charger does (the control loop may send a
    SetChargingProfile as soon as a transaction starts)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
        if frame[0] == 2:
            await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
            continue
        if frame[1] == unique_id:
            return frame


async def status_of(url: str, headers: dict | None = None, protocol: str = "ocpp1.6",
                    source: str | None = None) -> int:
    """The handshake's HTTP status; ``source``: the local address to connect from (any of
    127.0.0.0/8 is this machine, so a test can play several networks)."""
    try:
        ws = await websockets.connect(url, subprotocols=[protocol], additional_headers=headers,
                                      **({"local_addr": (source, 0)} if source else {}))
    except InvalidStatus as exc:
        return exc.response.status_code
    await ws.close()
    return 101
