"""HTTP connection limits: the console and API can never starve the OCPP gateway.

Both servers share one process and one descriptor table. Uvicorn's h11 server has no deadline for
a request's head (a client sending a header byte every few seconds stays forever) nor for a
request body that stops arriving, and no cap on open connections, so slow clients could hold every
descriptor and chargers could no longer connect. `GuardedH11Protocol` adds:

- a head deadline: the whole request line and headers within ``head_timeout_s`` of the
  connection (or of the previous response), however slowly the bytes come - then 408 and close;
- a body deadline: no more than ``body_timeout_s`` between two pieces of a request body;
- a connection cap: beyond ``max_connections`` open connections a new one gets 503 and is
  closed at once, so its descriptor is returned immediately.

Refusals are logged once per cause per minute with a count, not once per connection.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

# The share of the process's descriptors the HTTP server may hold; the rest stay for chargers,
# the database and log files.
HTTP_DESCRIPTOR_SHARE = 0.25
_LOG_EVERY_S = 60.0


class _CountedWarning:
    """One log line per cause per minute, with how many times it happened."""

    def __init__(self, message: str) -> None:
        self.message, self.count, self.last_s = message, 0, float("-inf")

    def __call__(self) -> None:
        self.count += 1
        now_s = time.monotonic()
        if now_s - self.last_s >= _LOG_EVERY_S:
            log.warning("%s (%d since the last report)", self.message, self.count)
            self.count, self.last_s = 0, now_s


def raise_descriptor_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (the usual server start-up step) and
    return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def http_connection_cap(configured: int, descriptor_limit: int) -> int:
    """The configured cap, never more than the HTTP server's share of the descriptors."""
    return max(8, min(configured, int(descriptor_limit * HTTP_DESCRIPTOR_SHARE)))


def guarded_protocol(max_connections: int, head_timeout_s: float, body_timeout_s: float):
    """The uvicorn ``http`` protocol class with these limits."""

    refused = _CountedWarning(f"HTTP connection refused: {max_connections} already open")
    head_late = _CountedWarning(f"HTTP request head not received within {head_timeout_s:g} s; "
                                "connection closed")
    body_late = _CountedWarning(f"HTTP request body stalled for {body_timeout_s:g} s; "
                                "connection closed")

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _seen_cycle = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            over = len(self.server_state.connections) >= max_connections
            super().connection_made(transport)
            if over:
                refused()
                transport.write(b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n"
                                b"retry-after: 5\r\ncontent-length: 0\r\n\r\n")
                transport.close()
                return
            self._arm(head_timeout_s, self._head_expired)

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            cycle = self.cycle
            if cycle is None or cycle is self._seen_cycle and cycle.response_complete:
                return  # still waiting for a (next) head: its deadline keeps running
            self._seen_cycle = cycle
            if cycle.more_body and not cycle.response_complete:
                self._arm(body_timeout_s, self._body_expired)  # re-armed by each piece
            else:
                self._disarm()  # the whole request is in: the app takes its time

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm(head_timeout_s, self._head_expired)  # the next request's head

        def _arm(self, delay_s: float, callback) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(delay_s, callback)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _head_expired(self) -> None:
            if self.transport.is_closing():
                return
            head_late()
            if self.cycle is None or self.cycle.response_complete:
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n"
                                     b"content-length: 0\r\n\r\n")
            self.transport.close()

        def _body_expired(self) -> None:
            if not self.transport.is_closing():
                body_late()
                self.transport.close()  # the app sees http.disconnect

    return GuardedH11Protocol
