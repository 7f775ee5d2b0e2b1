"""A bare ``ocpp``-library central system with the library's defaults, for comparison.

No persistence, no framing layer: the library's own routing and validation
(ASYNC_VALIDATION = True, websockets' default compression). Prints its port.
"""

from __future__ import annotations

import asyncio
import resource
import sys
from datetime import UTC, datetime

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result


class CentralSystemPoint(ChargePoint):
    @on("Heartbeat")
    def on_heartbeat(self, **kwargs):
        return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())

    @on("MeterValues")
    def on_meter_values(self, **kwargs):
        return call_result.MeterValues()


async def handler(ws):
    cp = CentralSystemPoint(ws.request.path.rsplit("/", 1)[-1], ws)
    try:
        await cp.start()
    except websockets.exceptions.ConnectionClosed:
        pass


async def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"OCPP gateway: ws://127.0.0.1:{port}/ocpp/{{charge_point_id}}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    import logging

    logging.getLogger("ocpp").setLevel(logging.WARNING)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
