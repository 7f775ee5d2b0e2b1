"""Basic-auth password rotation on a connected charger (OCPP 2.0.1 A01, test case TC_073; 1.6
security whitepaper section 4.1 "Update Charge Point Password").

The new password is kept as a salted hash next to the current one; both are accepted until the
charger confirms (answers Accepted, or logs in with the new password), then only the new one.
A rejection drops the new one. The outbox records the call with the password replaced by ***;
the password itself is never logged or stored in clear.
"""

from __future__ import annotations

import asyncio
import logging

from csms import clock, security
from csms.domain import events as ev
from csms.domain.model import CommandState
from csms.ocpp.commands import password_call, password_outcome, redact_password
from csms.ocpp.rpc import ChargerOffline, CommandRejected, CommandTimeout, InvalidResponse
from csms.store.tables import ChargerRow, CommandRow

log = logging.getLogger(__name__)
SOURCE = "password"


class NotConnected(Exception):
    pass


def _set_pending(session, charger_id: str, pending_hash: str | None, now) -> bool:
    row = session.get(ChargerRow, charger_id)
    if row is None:
        return False
    row.password_pending_hash = pending_hash
    row.password_pending_at = now if pending_hash else None
    return True


def _insert(session, row: CommandRow) -> CommandRow:
    session.add(row)
    session.flush()
    return row


def _finish(session, command_id: int, fields: dict) -> CommandRow:
    row = session.get(CommandRow, command_id)
    for key, value in fields.items():
        setattr(row, key, value)
    return row


class PasswordRotation:
    def __init__(self, worker, gateway, dispatch) -> None:
        self.worker, self.gateway, self.dispatch = worker, gateway, dispatch
        self._tasks: set[asyncio.Task] = set()

    async def rotate(self, charger_id: str, password: str | None = None) -> CommandRow:
        """Send a new password; returns the outbox record (state ``sent``) at once.
        Raises ValueError for a bad password, NotConnected when the charger is offline."""
        password = password or security.generate_charger_password()
        security.validate_charger_password(password)
        protocol = self.gateway.protocol(charger_id)
        if protocol is None:
            raise NotConnected(charger_id)
        now = clock.now()
        await self.worker.run(_set_pending, charger_id, security.hash_password(password), now)
        call = password_call(protocol, password)
        row = await self.worker.run(_insert, CommandRow(
            charger_id=charger_id, action=call.action,
            payload=redact_password(call.action, call.payload), state=CommandState.SENT,
            source=SOURCE, created_at=now, sent_at=now))
        task = asyncio.create_task(self._send(charger_id, protocol, call, row.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return row

    async def record_offline(self, charger_id: str, action: str, payload: dict) -> CommandRow:
        """A password change asked of an offline charger: recorded (redacted), not sent."""
        now = clock.now()
        return await self.worker.run(_insert, CommandRow(
            charger_id=charger_id, action=action, payload=redact_password(action, payload),
            state=CommandState.OFFLINE, source=SOURCE, created_at=now, completed_at=now,
            error="charger is not connected"))

    async def _send(self, charger_id: str, protocol: str, call, command_id: int) -> None:
        outcome, fields = "unknown", {}
        try:
            response = await self.gateway.call(charger_id, call.action, call.payload)
            outcome = password_outcome(protocol, response)
            fields = {"state": CommandState.REJECTED if outcome == "rejected"
                      else CommandState.ACCEPTED,
                      "response": response}
        except ChargerOffline:
            fields = {"state": CommandState.OFFLINE,
                      "error": "charger disconnected before answering"}
        except CommandTimeout as exc:
            fields = {"state": CommandState.TIMEOUT, "error": str(exc)}
        except CommandRejected as exc:
            outcome = "rejected"
            fields = {"state": CommandState.ERROR, "error": str(exc)}
        except InvalidResponse as exc:
            fields = {"state": CommandState.ERROR, "error": str(exc)}
        fields["completed_at"] = clock.now()
        await self.worker.run(_finish, command_id, fields)
        if outcome == "accepted":
            await self.dispatch(ev.PasswordConfirmed(charger_id, clock.now()))
        elif outcome == "rejected":
            await self.worker.run(_set_pending, charger_id, None, clock.now())
            log.warning("%s: the charger refused the new Basic-auth password; the old one "
                        "stays", charger_id)
        else:
            # RebootRequired, no answer: both stay valid until it logs in with the new one.
            log.info("%s: password change %s; old and new passwords accepted until the "
                     "charger logs in with the new one", charger_id, outcome)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
