"""Test chargers built on the ``ocpp`` library's charge-point side, over real websockets."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import websockets
from ocpp.v16 import ChargePoint as CP16
from ocpp.v201 import ChargePoint as CP201


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
