"""Sending limits to chargers: probe, fail-safe, changed limits only, read-back.

Everything goes through the command outbox (``source="control"``), so operators see every call.
Order matters for the site limit: all decreases are confirmed before any increase is sent,
so the sum of the limits never passes through a state above the cap.

Transaction limits are leased: a TxProfile's schedule lasts ``lease_s`` from when it was sent
and the loop renews it at half-life. If the CSMS or the network dies, every charger falls back
to its fail-safe TxDefaultProfile (the charger's share of the site limit) within one lease.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from csms import clock
from csms.control import state as st
from csms.control.planner import Plan
from csms.domain.commands import CommandError
from csms.ocpp import profiles as pf
from csms.sites.snapshot import ChargerInfo, SiteSnapshot

log = logging.getLogger(__name__)

START_MARGIN_S = 30.0  # a charger clock a little behind ours still sees the profile started
RACE_S = 10.0  # simulated s after a rejection before asking whether the transaction had ended


@dataclass(frozen=True)
class Change:
    charger_id: str
    evse_id: int
    session_id: int
    transaction_ref: str
    unit: str
    value: float
    applied_w: float
    phases: int
    previous_w: float | None
    renewal: bool


class Actuator:
    def __init__(self, commands, worker) -> None:
        self.commands, self.worker = commands, worker
        self._tasks: set[asyncio.Task] = set()  # read-backs: drained on stop
        # why a limit was rejected or read back different: cancelled on stop
        self._late_logs: set[asyncio.Task] = set()

    async def send(self, charger_id: str, action: str, payload: dict):
        """The command row once answered, or None if it could not be sent."""
        try:
            return await self.commands.submit(charger_id, action, payload, source="control",
                                              wait=True)
        except CommandError as exc:
            log.warning("%s: control could not send %s: %s", charger_id, action, exc)
            return None

    # -- probing -------------------------------------------------------------------------------
    async def probe(self, charger_id: str, protocol: str) -> pf.Capabilities:
        action, payload = pf.probe_request(protocol)
        row = await self.send(charger_id, action, payload)
        response = row.response if row is not None and row.state == "accepted" else {}
        caps = pf.parse_probe(protocol, response or {})
        await self.worker.run(st.save_capabilities, charger_id, caps, clock.now())
        log.info("%s: smart charging: units %s, stack level <= %d, %d periods, %d profiles%s",
                 charger_id, ",".join(caps.rate_units), caps.max_stack_level, caps.max_periods,
                 caps.max_profiles, "" if caps.probed else " (defaults: probe unanswered)")
        return caps

    # -- fail-safe -----------------------------------------------------------------------------
    async def ensure_failsafe(self, charger: ChargerInfo, power_w: float, states: dict) -> None:
        """Install (or update) the TxDefaultProfile at the per-EVSE share, if it changed."""
        caps = charger.caps
        unit = pf.choose_unit(caps, charger.ac)
        value = pf.to_limit(power_w, unit, charger.phases)
        old = states.get((charger.id, 0))
        if old is not None and old.accepted and old.limit_value == value \
                and old.limit_unit == unit:
            return
        profile = pf.LimitProfile(pf.TX_DEFAULT, 0, ((0, power_w),), charger.phases)
        action, payload = pf.set_profile_request(profile, caps)
        row = await self.send(charger.id, action, payload)
        accepted = row is not None and row.state == "accepted"
        if not accepted:
            log.warning("%s: fail-safe profile not installed (%s)", charger.id,
                        row.state if row is not None else "not sent")
        await self.worker.run(st.upsert_state, charger.id, 0, {
            "purpose": "tx_default", "profile_id": pf.FAILSAFE_PROFILE_ID, "limit_value": value,
            "limit_unit": unit, "limit_w": pf.limit_power_w(value, unit, charger.phases),
            "number_phases": charger.phases or None, "sent_at": clock.now(),
            "accepted": accepted, "why": "failsafe"}, clock.now())

    # -- transaction limits --------------------------------------------------------------------
    def changes(self, snap: SiteSnapshot, plan: Plan, states: dict, lease_s: float
                ) -> list[Change]:
        chargers = {c.id: c for c in snap.chargers}
        out = []
        for s, power_w in zip(plan.sessions, plan.power_w, strict=True):
            caps = chargers[s.charger_id].caps
            phases = s.phases if s.ac else 0
            unit = pf.choose_unit(caps, s.ac)
            # Negative (discharge) only on 2.1; 1.6 and 2.0.1 are clipped to 0 (curtailed).
            value = pf.signed_limit(float(power_w), unit, phases, caps.protocol)
            old = states.get((s.charger_id, s.evse_id))
            same = (old is not None and old.session_id == s.session_id and old.accepted
                    and old.limit_value == value and old.limit_unit == unit
                    and old.number_phases == (phases or None))
            fresh = (old is not None and old.lease_until is not None
                     and (old.lease_until - snap.now).total_seconds() > lease_s / 2)
            if same and fresh:
                continue
            previous = old.limit_w if old is not None and old.session_id == s.session_id \
                and old.accepted else None
            out.append(Change(s.charger_id, s.evse_id, s.session_id, s.transaction_ref, unit,
                              value, pf.limit_power_w(value, unit, phases), phases, previous,
                              renewal=same))
        return out

    async def apply(self, snap: SiteSnapshot, plan: Plan, states: dict, lease_s: float,
                    readback: bool = True) -> list[Change]:
        """Send the limits that changed: decreases first, then increases."""
        changes = self.changes(snap, plan, states, lease_s)
        chargers = {c.id: c for c in snap.chargers}
        # A new session (no previous limit) may be drawing its fail-safe default: treat as
        # an increase only after every decrease is in force.
        down = [c for c in changes if c.previous_w is not None and c.applied_w <= c.previous_w]
        up = [c for c in changes if c not in down]
        # The chargers' answers gate the increases; recording them does not (it is queued in
        # order and awaited once at the end).
        writes: list = []
        for group in (down, up):
            writes += await asyncio.gather(*(self._send_limit(
                c, chargers[c.charger_id], snap.now, lease_s, readback) for c in group))
        await asyncio.gather(*writes)
        return changes

    async def _send_limit(self, c: Change, charger: ChargerInfo, now: datetime, lease_s: float,
                          readback: bool) -> asyncio.Future:
        """Send one limit; returns the (queued) write of its state."""
        start = now - timedelta(seconds=START_MARGIN_S)
        profile = pf.LimitProfile(pf.TX, c.evse_id, ((0, c.applied_w),), c.phases, start=start,
                                  duration_s=int(lease_s + START_MARGIN_S),
                                  transaction_id=c.transaction_ref)
        action, payload = pf.set_profile_request(profile, charger.caps)
        row = await self.send(c.charger_id, action, payload)
        accepted = row is not None and row.state == "accepted"
        sent_at = clock.now()
        fields = {"session_id": c.session_id, "transaction_ref": c.transaction_ref,
                  "purpose": "tx", "profile_id": pf.profile_id(pf.TX, c.evse_id),
                  "limit_value": c.value, "limit_unit": c.unit, "limit_w": c.applied_w,
                  "number_phases": c.phases or None, "accepted": accepted}
        if accepted:
            # The schedule ends lease_s after ``now`` (its reference), whenever it arrived.
            fields["lease_until"] = now + timedelta(seconds=lease_s)
            if not c.renewal:
                fields["sent_at"] = sent_at
                fields["readback_ok"] = None
        else:
            self._background(self._not_accepted(c, row), self._late_logs)
        write = self.worker.run(st.upsert_state, c.charger_id, c.evse_id, fields, sent_at)
        if accepted and readback and not c.renewal:
            self._background(self._readback(c, charger))
        return write

    def _background(self, coro, tasks: set | None = None) -> None:
        tasks = self._tasks if tasks is None else tasks
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _not_accepted(self, c: Change, row) -> None:
        """Log why a limit did not land. A transaction that ended between the snapshot and the
        call is a race the next run settles (the charger answers TxNotFound): not a warning."""
        ended = await self._ended_meanwhile(c)
        reason = ""
        if row is not None and isinstance(row.response, dict):
            info = row.response.get("statusInfo") or row.response.get("status_info") or {}
            reason = info.get("reasonCode") or info.get("reason_code") or ""
        state = row.state if row is not None else "not sent"
        if ended:
            log.info("%s: EVSE %d limit not installed: the transaction ended meanwhile (%s)",
                     c.charger_id, c.evse_id, state)
            return
        log.warning("%s: EVSE %d limit %.1f %s not accepted (%s%s)", c.charger_id, c.evse_id,
                    c.value, c.unit, state, f": {reason}" if reason else "")

    async def _readback(self, c: Change, charger: ChargerInfo) -> None:
        """GetCompositeSchedule: does the charger's own composite agree with our limit?"""
        action, payload = pf.composite_request(charger.caps, c.evse_id, 60, charger.ac)
        row = await self.send(c.charger_id, action, payload)
        if row is None or row.state != "accepted":
            return
        got_w = pf.composite_first_limit_w(row.response or {}, c.phases or 3)
        ok = got_w is not None and got_w <= c.applied_w + max(1.0, 0.01 * abs(c.applied_w))
        if not ok:
            self._background(self._readback_mismatch(c, got_w), self._late_logs)
        await self.worker.run(st.upsert_state, c.charger_id, c.evse_id,
                              {"readback_ok": ok}, clock.now())

    async def _readback_mismatch(self, c: Change, got_w: float | None) -> None:
        """A TxProfile lives as long as its transaction: read just after the transaction
        ended, the composite is the EVSE's rating. That is a race, not a charger that lost
        our limit."""
        if await self._ended_meanwhile(c):
            log.info("%s: EVSE %d composite schedule read after the transaction ended "
                     "(allows %s W)", c.charger_id, c.evse_id, got_w)
            return
        log.warning("%s: EVSE %d composite schedule allows %s W, we set %.0f W",
                    c.charger_id, c.evse_id, got_w, c.applied_w)

    async def _ended_meanwhile(self, c: Change) -> bool:
        """Had the limit's transaction ended, RACE_S simulated s from now? (Its end may still
        be on its way, or in the writer's next commit.)"""
        await asyncio.sleep(clock.current().wall_seconds(RACE_S))
        return not await self.worker.read(st.session_active, c.session_id)

    async def drain(self) -> None:
        for task in list(self._late_logs):
            task.cancel()
        await asyncio.gather(*self._late_logs, return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
