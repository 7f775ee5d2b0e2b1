"""One OCPP-J RPC endpoint over a websocket: dispatches the charger's CALLs to an adapter and
sends our CALLs with one outstanding request per direction (OCPP-J 1.6 section 4.1.1).

Replies to our CALLs are matched by message id, never by arrival order, so a late reply after a
timeout is dropped instead of shifting every later response (the ``ocpp`` library's queue does
the latter). A charger's CALL is handled inline in the receive loop: handlers only await the
store, never a CALL to the charger, so CALLs crossing in both directions cannot deadlock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed

from csms.domain.durability import StoreUnavailable, UnstorableValue
from csms.ocpp import framing, schemas
from csms.ocpp.commands import redact_password
from csms.ocpp.framing import (
    CALL,
    CALLRESULT,
    Call,
    CallError,
    CallResult,
    CallResultError,
    FrameError,
    Send,
)
from csms.ocpp.quota import ChargerQuota

log = logging.getLogger(__name__)

# RFC 6455 section 7.4.1 / IANA registry: 1013 "Try Again Later".
STORE_UNAVAILABLE_CLOSE = 1013

Handler = Callable[[dict], Awaitable[dict]]


class ChargerOffline(Exception):
    pass


class CommandRejected(Exception):
    """The charger answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str, details: dict | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code, self.description, self.details = code, description, details or {}


class CommandTimeout(Exception):
    pass


class InvalidCommand(Exception):
    """Our own payload broke the schema: never sent."""


class InvalidResponse(Exception):
    """The charger's CALLRESULT broke the schema."""


@dataclass(slots=True)
class LoggedFrame:
    at_s: float  # wall time (time.time())
    direction: str  # "in" | "out"
    text: str


class RpcConnection:
    def __init__(self, ws, charger_id: str, version: str, routes: dict[str, Handler],
                 known_actions: frozenset[str], *, max_frame_bytes: int, call_timeout_s: float,
                 validate_inline: bool = True, frame_log: deque | None = None,
                 quota: ChargerQuota | None = None) -> None:
        self.ws, self.charger_id, self.version = ws, charger_id, version
        self.routes, self.known_actions = routes, known_actions
        self.max_frame_bytes, self.call_timeout_s = max_frame_bytes, call_timeout_s
        self.validate_inline = validate_inline
        self.frame_log = frame_log if frame_log is not None else deque(maxlen=200)
        self._pending: dict[str, asyncio.Future] = {}
        self._call_lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self._id_prefix = f"{id(self) & 0xFFFFFF:x}-"
        self.last_message_s = time.monotonic()
        self.closed = False
        self.quota = quota

    async def serve(self) -> None:
        """Receive until the socket closes."""
        try:
            async for raw in self.ws:
                self.last_message_s = time.monotonic()
                if self.quota is not None:
                    wait_s = await self.quota.delay_s(len(raw))
                    if wait_s > 0 and await self._closes_within(wait_s):
                        break  # a held-back frame of a closed link is never answered
                await self._on_frame(raw)
        except ConnectionClosed:
            pass
        finally:
            # Calls still waiting for their turn fail now, not one call timeout each (a
            # shutdown with six queued commands used to take 6 x 30 s).
            self.closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ChargerOffline(self.charger_id))

    async def _closes_within(self, wait_s: float) -> bool:
        """Wait ``wait_s``, or less if the link closes meanwhile (True): a throttled link must
        not outlive its socket, nor hold up a shutdown, for the length of its delay."""
        try:
            await asyncio.wait_for(self.ws.wait_closed(), wait_s)
        except TimeoutError:
            return False
        return True

    async def _on_frame(self, raw: str | bytes) -> None:
        self._log("in", raw)
        try:
            frame = framing.parse(raw, self.max_frame_bytes, self.version)
        except FrameError as err:
            if err.answerable:
                await self._send_error(err)
            else:
                log.warning("%s: dropped malformed response frame: %s", self.charger_id,
                            err.description)
            return
        if isinstance(frame, Send):
            await self._on_send(frame)
            return
        if isinstance(frame, Call):
            await self._on_call(frame)
            return
        if isinstance(frame, CallResultError):
            log.warning("%s: CALLRESULTERROR %s for our answer to %s: %s", self.charger_id,
                        frame.code, frame.unique_id, frame.description)
            return
        future = self._pending.get(frame.unique_id)
        if future is None or future.done():
            log.warning("%s: %s for unknown or expired message id %r ignored", self.charger_id,
                        type(frame).__name__, frame.unique_id)
            return
        future.set_result(frame)

    async def _on_call(self, frame: Call) -> None:
        handler = self.routes.get(frame.action)
        if handler is None:
            known = frame.action in self.known_actions
            await self._send_error(FrameError(
                "not_supported" if known else "not_implemented",
                f"{frame.action} is {'not supported by this CSMS in this direction' if known else 'not a known action'}"
                f" (OCPP {self.version})", frame.unique_id))
            return
        try:
            await self._validate(CALL, frame.action, frame.payload, frame.unique_id)
            if self.quota is not None:  # many meter samples: stored later, none refused
                wait_s = await self.quota.samples_delay_s(frame.payload)
                if wait_s > 0 and await self._closes_within(wait_s):
                    return  # the charger keeps the message and sends it again
            response = await handler(frame.payload)
        except FrameError as err:
            if err.unique_id == framing.UNKNOWN_ID:  # raised deep in an adapter
                err.unique_id = frame.unique_id
            await self._send_error(err)
            return
        except StoreUnavailable:
            await self.close_unstored(frame.action)
            return
        except UnstorableValue as exc:
            await self._send_error(FrameError("property", f"a value cannot be stored: {exc}",
                                              frame.unique_id))
            return
        except Exception:  # our bug, not the charger's: log it, answer without details
            log.exception("%s: handler for %s failed", self.charger_id, frame.action)
            await self._send_error(FrameError("internal", "internal error", frame.unique_id))
            return
        await self._send(framing.call_result(frame.unique_id, response))

    async def _on_send(self, frame: Send) -> None:
        """2.1 SEND: handled like a CALL, but nothing goes back, not even an error."""
        handler = self.routes.get(frame.action)
        if handler is None:
            log.warning("%s: SEND %s ignored: not handled (OCPP %s)", self.charger_id,
                        frame.action, self.version)
            return
        try:
            await self._validate(CALL, frame.action, frame.payload, frame.unique_id)
            await handler(frame.payload)
        except FrameError as err:
            log.warning("%s: SEND %s dropped: %s", self.charger_id, frame.action,
                        err.description)
        except StoreUnavailable:
            await self.close_unstored(frame.action)
        except Exception:
            log.exception("%s: handler for SEND %s failed", self.charger_id, frame.action)

    async def close_unstored(self, action: str) -> None:
        """The store could not keep the charger's message: no CALLRESULT (it would be a false
        acknowledgement) and no CALLERROR (many chargers drop a message answered with one);
        close the link so the charger queues its transaction messages offline and re-sends
        them after reconnecting (1.6 section 4.7; 2.0.1 E12.FR.01). The store logs the outage;
        this is a per-charger detail."""
        log.info("%s: %s not stored (store unavailable); closing the link so the charger keeps "
                 "it", self.charger_id, action)
        await self.ws.close(STORE_UNAVAILABLE_CLOSE, "store unavailable; retry later")

    async def _validate(self, message_type: int, action: str, payload: dict,
                        unique_id: str) -> None:
        if self.validate_inline:
            schemas.validate(self.version, message_type, action, payload, unique_id)
        else:
            await asyncio.to_thread(schemas.validate, self.version, message_type, action,
                                    payload, unique_id)

    async def call(self, action: str, payload: dict, timeout_s: float | None = None) -> dict:
        """Send a CALL and return the CALLRESULT payload; raise on error, timeout or offline."""
        try:
            schemas.validate(self.version, CALL, action, payload, "-")
        except FrameError as err:
            raise InvalidCommand(err.description) from None
        async with self._call_lock:
            if self.closed:
                raise ChargerOffline(self.charger_id)
            unique_id = f"{self._id_prefix}{next(self._ids)}"
            future = asyncio.get_running_loop().create_future()
            self._pending[unique_id] = future
            try:
                await self._send(framing.call(unique_id, action, payload))
                if self.closed:
                    raise ChargerOffline(self.charger_id)
                reply = await asyncio.wait_for(future, timeout_s or self.call_timeout_s)
            except TimeoutError:
                raise CommandTimeout(f"no answer to {action} in "
                                     f"{timeout_s or self.call_timeout_s:.0f} s") from None
            except ConnectionClosed:
                raise ChargerOffline(self.charger_id) from None
            finally:
                self._pending.pop(unique_id, None)
                if future.done() and not future.cancelled():
                    future.exception()  # retrieved: serve() may have failed it as offline
        if isinstance(reply, CallError):
            log.warning("%s: %s answered CALLERROR %s: %s", self.charger_id, action, reply.code,
                        reply.description)
            raise CommandRejected(reply.code, reply.description, reply.details)
        assert isinstance(reply, CallResult)
        try:
            schemas.validate(self.version, CALLRESULT, action, reply.payload, reply.unique_id)
        except FrameError as err:
            log.warning("%s: invalid %s response: %s", self.charger_id, action, err.description)
            raise InvalidResponse(err.description) from None
        return reply.payload

    async def _send_error(self, err: FrameError) -> None:
        log.warning("%s: CALLERROR %s to message %s: %s", self.charger_id,
                    framing.ERROR_CODES[self.version][err.kind], err.unique_id, err.description)
        await self._send(framing.call_error(self.version, err.unique_id, err.kind,
                                            err.description))

    async def _send(self, text: str) -> None:
        self._log("out", text)
        try:
            await self.ws.send(text)
        except ConnectionClosed:
            pass

    def _log(self, direction: str, raw: Any) -> None:
        text = raw if isinstance(raw, str) else f"<binary {len(raw)} bytes>"
        if "AuthorizationKey" in text or "BasicAuthPassword" in text:
            text = _redact(text)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s %s", self.charger_id, direction, text[:2000])
        self.frame_log.append(LoggedFrame(time.time(), direction, text[:2000]))


def _redact(text: str) -> str:
    """A frame that sets a Basic-auth password, with the password replaced (2.0.1 A01.FR.09:
    never logged; the frame log is shown in the console too)."""
    try:
        frame = json.loads(text)
        if isinstance(frame, list) and len(frame) == 4 and frame[0] == CALL \
                and isinstance(frame[3], dict):
            return json.dumps([*frame[:3], redact_password(str(frame[2]), frame[3])])
        if isinstance(frame, list) and len(frame) == 3 and frame[0] == CALLRESULT \
                and isinstance(frame[2], dict) and "BasicAuthPassword" not in text:
            keys = frame[2].get("configurationKey") or []  # a 1.6 GetConfiguration answer
            frame[2]["configurationKey"] = [
                {**k, "value": "***"} if isinstance(k, dict) and k.get("key") == "AuthorizationKey"
                else k for k in keys]
            return json.dumps(frame)
    except ValueError:
        pass
    return "<frame withheld: it may carry a password>"
