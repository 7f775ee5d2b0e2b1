"""The command outbox: every CSMS-to-charger call is stored with its state and the answer.

States: queued -> sent -> accepted | rejected | error | timeout; ``offline`` when the charger is
not connected. A restart ends what the previous process left open (`end_interrupted`): ``sent``
becomes ``unknown`` (the charger may or may not have applied it: the operator decides whether to
send it again; the control loop re-sends its limits on its own) and ``queued`` becomes
``cancelled`` (never sent). The API returns the queued record at once (202); the call runs in the background.
A caller that waits for the answer (the control loop) skips ``queued``: the call goes out while
its row is stored as sent.
"""

from __future__ import annotations

import asyncio
import logging

from csms import clock
from csms.domain.commands import CommandError, CommandForbidden
from csms.domain.model import CommandState
from csms.ocpp import schemas
from csms.ocpp.commands import (
    SUCCESS_STATUSES,
    OcppCall,
    is_security_setting,
    redact_password,
    translate,
)
from csms.ocpp.framing import CALL, FrameError
from csms.ocpp.rpc import (
    ChargerOffline,
    CommandRejected,
    CommandTimeout,
    InvalidCommand,
    InvalidResponse,
)
from csms.store.tables import CommandRow

log = logging.getLogger(__name__)


CONTROL = "control"  # the smart-charging loop's own traffic (source of its command rows)


def recent(session, charger_id: str, *, control: bool | None = None, limit: int = 20
           ) -> list[CommandRow]:
    """A charger's newest commands: all, only the control loop's (``control=True``) or only
    everyone else's - the operators' commands stay visible next to the loop's many limits."""
    from sqlmodel import select

    query = select(CommandRow).where(CommandRow.charger_id == charger_id)
    if control is True:
        query = query.where(CommandRow.source == CONTROL)
    elif control is False:
        query = query.where(CommandRow.source != CONTROL)
    return list(session.exec(query.order_by(CommandRow.id.desc()).limit(limit)).all())


def end_interrupted(session) -> dict[str, int]:
    """At start-up: close the commands a crashed or killed process left ``sent``/``queued``."""
    from sqlalchemy import update

    now = clock.now()
    counts = {}
    for before, after, why in (
            (CommandState.SENT, CommandState.UNKNOWN,
             "the CSMS restarted before the charger's answer arrived"),
            (CommandState.QUEUED, CommandState.CANCELLED,
             "the CSMS restarted before the command was sent")):
        result = session.execute(update(CommandRow).where(CommandRow.state == before).values(
            state=after, error=why, completed_at=now))
        counts[after] = result.rowcount or 0
    return counts


def _insert(session, row: CommandRow) -> CommandRow:
    session.add(row)
    session.flush()
    return row


def _update(session, command_id: int, fields: dict) -> CommandRow:
    row = session.get(CommandRow, command_id)
    for key, value in fields.items():
        setattr(row, key, value)
    return row


class CommandService:
    def __init__(self, worker, gateway) -> None:
        self.worker, self.gateway = worker, gateway
        self._tasks: set[asyncio.Task] = set()

    async def submit(self, charger_id: str, action: str, params: dict | None = None,
                     source: str = "api", wait: bool = False, role: str = "admin"
                     ) -> CommandRow:
        """Record and send a command. Raises CommandError for one that cannot be sent as asked,
        CommandForbidden when ``role`` (the caller's) may not send it: security settings
        (profile, certificates, network profile) are the admin's.

        With ``wait`` the call completes before returning (the control loop uses this)."""
        params = params or {}
        if role != "admin" and is_security_setting(action, params):
            raise CommandForbidden(f"{action} changes the charger's security settings: it "
                                   "needs the admin role")
        protocol = self.gateway.protocol(charger_id)
        now = clock.now()
        if protocol is None:
            row = await self.worker.run(_insert, CommandRow(
                charger_id=charger_id, action=action, payload=redact_password(action, params),
                state=CommandState.OFFLINE,
                source=source, created_at=now, completed_at=now,
                error="charger is not connected"))
            return row
        call = translate(protocol, action, params)
        try:
            schemas.validate(protocol, CALL, call.action, call.payload, "-")
        except FrameError as err:
            raise CommandError(f"invalid {call.action} for OCPP {protocol}: "
                               f"{err.description}") from None
        if wait:
            # The control loop's limits are latency-bound (a new car waits at its fail-safe
            # until they land): the call goes out while its record is written, as sent.
            recorded = self.worker.run(_insert, CommandRow(
                charger_id=charger_id, action=call.action,
                payload=redact_password(call.action, call.payload), state=CommandState.SENT,
                source=source, created_at=now, sent_at=now))
            return await self._send(charger_id, call, recorded)
        row = await self.worker.run(_insert, CommandRow(
            charger_id=charger_id, action=call.action,
            payload=redact_password(call.action, call.payload),
            state=CommandState.QUEUED,
            source=source, created_at=now))
        task = asyncio.create_task(self._send_queued(row.id, charger_id, call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return row

    async def _send_queued(self, command_id: int, charger_id: str, call: OcppCall
                           ) -> CommandRow:
        recorded = self.worker.run(_update, command_id, {"state": CommandState.SENT,
                                                          "sent_at": clock.now()})
        await recorded
        return await self._send(charger_id, call, recorded)

    async def _send(self, charger_id: str, call: OcppCall, recorded: asyncio.Future
                    ) -> CommandRow:
        """Make the call; ``recorded`` is the write of its row as sent (awaited before the
        answer is stored, so the two writes keep their order)."""
        fields: dict = {}
        try:
            response = await self.gateway.call(charger_id, call.action, call.payload)
            status = response.get("status")
            accepted = status is None or status in SUCCESS_STATUSES
            fields = {"state": CommandState.ACCEPTED if accepted else CommandState.REJECTED,
                      "response": response}
        except ChargerOffline:
            fields = {"state": CommandState.OFFLINE,
                      "error": "charger disconnected before answering"}
        except CommandTimeout as exc:
            fields = {"state": CommandState.TIMEOUT, "error": str(exc)}
        except CommandRejected as exc:
            fields = {"state": CommandState.ERROR, "error": str(exc),
                      "response": {"errorCode": exc.code, "errorDescription": exc.description,
                                   "errorDetails": exc.details}}
        except (InvalidCommand, InvalidResponse) as exc:
            fields = {"state": CommandState.ERROR, "error": str(exc)}
        row = await recorded
        log.info("%s: command %d %s -> %s", charger_id, row.id, call.action, fields["state"])
        fields["completed_at"] = clock.now()
        return await self.worker.run(_update, row.id, fields)

    async def drain(self) -> None:
        """Wait for background sends (used at shutdown and in tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
