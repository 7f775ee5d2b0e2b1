"""Sending limits to chargers: probe, fail-safe, material changes only, read-back.

Everything goes through the command outbox (``source="control"``), so operators see every call.
Order matters for the site limit: all decreases are confirmed before any increase is sent,
so the sum of the limits never passes through a state above the cap.

Transaction limits are leased: a TxProfile's schedule lasts ``lease_s`` and the loop renews it
when a third of it is left. If the CSMS or the network dies, every charger falls back to its
fail-safe TxDefaultProfile (the charger's share of the site limit) within one lease.

Clocks: an Absolute profile is evaluated on the charger's clock (OCPP 1.6 section 3.13.2, 2.0.1
K01), which may be minutes or hours off ours. Each TxProfile starts ``START_MARGIN_S`` before the
charger's "now" as we estimate it (``csms.domain.clock_offset``: a lower bound, so the start is
never in the charger's future) and lasts the lease plus twice the margin. The read-back
(GetCompositeSchedule) tells the charger's exact "now" and whether our limit is in force; when
it is not, the limit is re-sent with the measured clock and the EVSE flagged.

A quiet loop: a limit is re-sent only when it moves by a material step (``min_change_w``,
default the larger of 1 kW and 3 % of the limit) or its lease needs renewing. Small decreases
that the site cannot afford to keep, and small increases that together would strand capacity,
are sent anyway.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from csms import clock
from csms.control import state as st
from csms.control.planner import Plan
from csms.domain import electrical
from csms.domain.charger_facts import MEASURED, REPORTED, ChargerFacts, merged
from csms.domain.commands import CommandError
from csms.domain.model import NO_SMART_CHARGING, CommandState, ProfilePurpose, Protocol
from csms.handlers.facts import learn
from csms.ocpp import profiles as pf
from csms.sites.snapshot import ChargerInfo, SiteSnapshot

log = logging.getLogger(__name__)

START_MARGIN_S = 60.0  # a TxProfile starts this long before the charger's "now" (estimated)
RACE_S = 10.0  # simulated s after a rejection before asking whether the transaction had ended
RENEW_FRACTION = 1.0 / 3.0  # renew a lease when this share of it is left
MIN_CHANGE_W = 1000.0  # default material step of a limit
MIN_CHANGE_FRACTION = 0.03  # ... or this share of the limit, whichever is larger
STRANDED_FRACTION = 0.01  # skipped increases may leave at most this share of the site unused
NEAR_BUDGET = 0.95  # above this share of the EVs' budget, small decreases are sent too
MAX_RESENDS = 3  # read-backs that differ before the loop stops re-sending the same limit
UNSUPPORTED = ("NotSupported", "NotImplemented")
UNSUPPORTED_WHY = NO_SMART_CHARGING  # EVSE 0's why: SetChargingProfile answered that
UNSUPPORTED_RETRY = timedelta(hours=1)


def _error_code(row) -> str | None:
    """The CALLERROR code of an answered command row, if it was one."""
    if row is None or not isinstance(row.response, dict):
        return None
    return row.response.get("errorCode")
# After a raised limit lands on a 1.6 charger, ask for a reading (TriggerMessage MeterValues,
# 1.6 section 5.17) this long after, so a car that takes less than offered is known within
# seconds rather than at its next sampled value (a meter interval: often 60 s or more) and its
# unused share goes to other cars. IEC 61851-1 gives an AC EV 5 s to follow a new offer; the
# rest is a DC car's ramp. A 1.6 triggered MeterValues names its transaction; 2.0.1's
# MeterValuesRequest does not, so a 2.0.1 car is learned from its sampled values (or its
# ISO 15118 needs).
READING_AFTER_S = 10.0


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
    resend: bool = False  # the read-back found another limit in force


def material_step_w(limit_w: float, params: dict) -> float:
    """How far a limit must move to be worth a SetChargingProfile."""
    if "min_change_w" in params:
        return float(params["min_change_w"])
    return max(MIN_CHANGE_W, MIN_CHANGE_FRACTION * abs(limit_w))


def raised(c: Change) -> bool:
    """A first limit for the session, or a higher one: the car may take less than offered."""
    return not c.renewal and not c.resend and c.applied_w > 0 \
        and (c.previous_w is None or c.applied_w > c.previous_w)


def _agrees(got: tuple[float, str] | None, got_w: float | None, c: Change) -> bool:
    """Does the composite's first period say what we set? In the unit we set when the charger
    answers in it (an A limit is per phase: the composite's ``numberPhases`` may be the
    charger's or the car's), else in W; within 1 % (0.1 A / 1 W at least)."""
    if got is not None and got[1] == c.unit:
        return abs(got[0] - c.value) <= max(0.1 if c.unit == "A" else 1.0, 0.01 * abs(c.value))
    return got_w is not None and abs(got_w - c.applied_w) <= max(1.0, 0.01 * abs(c.applied_w))


class Actuator:
    def __init__(self, commands, worker, clocks=None) -> None:
        self.commands, self.worker = commands, worker
        self.clocks = clocks  # csms.domain.clock_offset.ClockBook of the store's writer
        self._tasks: set[asyncio.Task] = set()  # read-backs: drained on stop
        # why a limit was rejected or read back different: cancelled on stop
        self._late_logs: set[asyncio.Task] = set()
        self._no_trigger: set[str] = set()  # chargers that cannot TriggerMessage MeterValues
        self._readings: set[asyncio.Task] = set()  # readings asked for later: cancelled on stop

    async def send(self, charger_id: str, action: str, payload: dict):
        """The command row once answered, or None if it could not be sent."""
        try:
            return await self.commands.submit(charger_id, action, payload, source="control",
                                              wait=True)
        except CommandError as exc:
            log.warning("%s: control could not send %s: %s", charger_id, action, exc)
            return None

    # -- probing -------------------------------------------------------------------------------
    async def probe(self, charger_id: str, protocol: str, evse_ids: list[int] | None = None,
                    first_contact: bool = False) -> pf.Capabilities:
        """What the charger accepts (units, stack levels) and what it is (AC/DC, rating,
        connector), stored; ``first_contact``: none of our profiles is installed yet, so a
        composite schedule is the EVSE's own limit."""
        evse_ids = evse_ids or [1]
        action, payload = pf.probe_request(protocol)
        row = await self.send(charger_id, action, payload)
        accepted = row is not None and row.state == CommandState.ACCEPTED
        response = (row.response or {}) if accepted else {}
        caps = pf.parse_probe(protocol, response)
        facts = pf.probe_facts(protocol, response)
        if protocol != Protocol.V16:
            action, payload = pf.device_model_request(evse_ids)
            row = await self.send(charger_id, action, payload)
            if row is not None and row.state == CommandState.ACCEPTED:
                facts = merged(facts, pf.device_model_facts(row.response or {}))
        await self.worker.run(st.save_capabilities, charger_id, caps, clock.now())
        if not facts.empty:
            await self.worker.run(learn, charger_id, facts, REPORTED)
        if first_contact and facts.max_power_w is None:
            await self._probe_rating(charger_id, caps, evse_ids[0], facts.kind)
        log.info("%s: smart charging: units %s, stack level <= %d, %d periods, %d profiles%s",
                 charger_id, ",".join(caps.rate_units), caps.max_stack_level, caps.max_periods,
                 caps.max_profiles, "" if caps.probed else " (defaults: probe unanswered)")
        return caps

    async def _probe_rating(self, charger_id: str, caps: pf.Capabilities, evse_id: int,
                            kind: str | None) -> None:
        """Before any profile of ours, an EVSE's composite schedule is its own limit (its
        rating, or a limit set locally): used only to raise a rating above the default, so a
        local limit never lowers it."""
        action, payload = pf.composite_request(caps, evse_id, 60, kind != "DC")
        row = await self.send(charger_id, action, payload)
        if row is None or row.state != CommandState.ACCEPTED:
            return
        rating_w = pf.composite_first_limit_w(row.response or {}, 3)
        if rating_w and rating_w > 0:
            await self.worker.run(learn, charger_id, ChargerFacts(max_power_w=rating_w),
                                  MEASURED)

    # -- fail-safe -----------------------------------------------------------------------------
    async def ensure_failsafe(self, charger: ChargerInfo, power_w: float, states: dict) -> None:
        """Install (or update) the TxDefaultProfile at the per-EVSE share, if it changed. It is
        Relative (no startSchedule): it applies from each transaction's start on the charger's
        own clock, whatever that clock says."""
        caps = charger.caps
        unit = pf.choose_unit(caps, charger.ac)
        value = electrical.to_limit(power_w, unit, charger.phases)
        old = states.get((charger.id, 0))
        if old is not None and old.accepted and old.limit_value == value \
                and old.limit_unit == unit:
            return
        if old is not None and old.why == UNSUPPORTED_WHY and old.sent_at is not None \
                and clock.now() - old.sent_at < UNSUPPORTED_RETRY:
            return  # no smart charging (architecture.md): asked again hourly, not every run
        profile = pf.LimitProfile(purpose=pf.TX_DEFAULT, evse_id=0, periods=((0, power_w),),
                                  phases=charger.phases)
        action, payload = pf.set_profile_request(profile, caps)
        row = await self.send(charger.id, action, payload)
        accepted = row is not None and row.state == CommandState.ACCEPTED
        why = "failsafe"
        if not accepted:
            log.warning("%s: fail-safe profile not installed (%s)", charger.id,
                        row.state if row is not None else "not sent")
            if _error_code(row) in UNSUPPORTED:
                why = UNSUPPORTED_WHY
        await self.worker.run(st.upsert_state, charger.id, 0, {
            "purpose": ProfilePurpose.TX_DEFAULT, "profile_id": pf.FAILSAFE_PROFILE_ID,
            "limit_value": value,
            "limit_unit": unit, "limit_w": electrical.limit_power_w(value, unit, charger.phases),
            "number_phases": charger.phases or None, "sent_at": clock.now(),
            "accepted": accepted, "why": why}, clock.now())

    # -- transaction limits --------------------------------------------------------------------
    def changes(self, snap: SiteSnapshot, plan: Plan, states: dict, lease_s: float
                ) -> list[Change]:
        """What to send: new sessions, material changes, leases to renew and limits the
        charger was found not to apply."""
        chargers = {c.id: c for c in snap.chargers}
        out, skipped = [], []
        for s, power_w in zip(plan.sessions, plan.power_w, strict=True):
            caps = chargers[s.charger_id].caps
            phases = s.phases if s.ac else 0
            unit = pf.choose_unit(caps, s.ac)
            # Negative (discharge) only on 2.1; 1.6 and 2.0.1 are clipped to 0 (curtailed).
            value = pf.signed_limit(float(power_w), unit, phases, caps.protocol)
            applied_w = electrical.limit_power_w(value, unit, phases)
            old = states.get((s.charger_id, s.evse_id))
            ours = old is not None and old.session_id == s.session_id and old.accepted
            same_shape = ours and old.limit_unit == unit \
                and old.number_phases == (phases or None)
            same = same_shape and old.limit_value == value
            fresh = ours and old.lease_until is not None and \
                (old.lease_until - snap.now).total_seconds() > lease_s * RENEW_FRACTION
            wrong = ours and old.readback_ok is False and \
                (old.readback_mismatches or 0) < MAX_RESENDS
            previous = old.limit_w if ours else None
            change = Change(s.charger_id, s.evse_id, s.session_id, s.transaction_ref, unit,
                            value, applied_w, phases, previous, renewal=same, resend=wrong)
            if wrong or not fresh or not same_shape:
                out.append(change)
            elif not same:
                step_w = material_step_w(previous or 0.0, snap.policy_params)
                if abs(applied_w - (previous or 0.0)) >= step_w - 1e-6 \
                        or (applied_w == 0.0) != (previous == 0.0):
                    out.append(change)
                else:
                    skipped.append(change)
        return out + self._must_send(snap, plan, skipped, out)

    @staticmethod
    def _must_send(snap: SiteSnapshot, plan: Plan, skipped: list[Change],
                   sending: list[Change]) -> list[Change]:
        """Of the small changes skipped: every decrease when keeping the old limits would put
        the site over its EV budget, and the largest increases when together they would leave
        more than ``STRANDED_FRACTION`` of the site unused."""
        if not skipped:
            return []
        kept_w = sum(c.previous_w or 0.0 for c in skipped)
        wanted_w = sum(c.applied_w for c in skipped)
        planned_w = sum(max(0.0, c.applied_w) for c in sending) + sum(
            max(0.0, float(p)) for s, p in zip(plan.sessions, plan.power_w, strict=True)
            if not any(c.session_id == s.session_id for c in sending + skipped))
        out = []
        # Near the budget every decrease goes out: the phases' rows are tighter than the
        # site's, and a kept limit above the plan is capacity another car was given.
        if planned_w + kept_w > NEAR_BUDGET * plan.ev_budget_w:
            out += [c for c in skipped if c.applied_w < (c.previous_w or 0.0)]
        stranded_w = wanted_w - kept_w + sum(
            (c.previous_w or 0.0) - c.applied_w for c in out)
        allowance_w = STRANDED_FRACTION * snap.capacity_kw * 1000.0
        for c in sorted((c for c in skipped if c.applied_w > (c.previous_w or 0.0)),
                        key=lambda c: c.applied_w - (c.previous_w or 0.0), reverse=True):
            if stranded_w <= allowance_w:
                break
            out.append(c)
            stranded_w -= c.applied_w - (c.previous_w or 0.0)
        return out

    async def apply(self, snap: SiteSnapshot, plan: Plan, states: dict, lease_s: float,
                    readback: bool = True) -> list[Change]:
        """Send the limits that changed: decreases first, then increases."""
        changes = self.changes(snap, plan, states, lease_s)
        if changes:
            log.debug("site %s: %d new, %d changed, %d renewed, %d re-sent", snap.name,
                      sum(c.previous_w is None for c in changes),
                      sum(c.previous_w is not None and not c.renewal and not c.resend
                          for c in changes),
                      sum(c.renewal and not c.resend for c in changes),
                      sum(c.resend for c in changes))
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

    def _profile(self, c: Change, charger_now: datetime, lease_s: float) -> pf.LimitProfile:
        start = charger_now - timedelta(seconds=START_MARGIN_S)
        return pf.LimitProfile(purpose=pf.TX, evse_id=c.evse_id, periods=((0, c.applied_w),),
                               phases=c.phases, start=start,
                               duration_s=int(lease_s + 2 * START_MARGIN_S),
                               transaction_id=c.transaction_ref)

    async def _send_limit(self, c: Change, charger: ChargerInfo, now: datetime, lease_s: float,
                          readback: bool, offset_s: float | None = None) -> asyncio.Future:
        """Send one limit, on the charger's clock; returns the (queued) write of its state."""
        offset_s = charger.clock_offset_s if offset_s is None else offset_s
        profile = self._profile(c, now + timedelta(seconds=offset_s), lease_s)
        action, payload = pf.set_profile_request(profile, charger.caps)
        row = await self.send(c.charger_id, action, payload)
        accepted = row is not None and row.state == CommandState.ACCEPTED
        sent_at = clock.now()
        fields = {"session_id": c.session_id, "transaction_ref": c.transaction_ref,
                  "purpose": ProfilePurpose.TX, "profile_id": pf.profile_id(pf.TX, c.evse_id),
                  "limit_value": c.value, "limit_unit": c.unit, "limit_w": c.applied_w,
                  "number_phases": c.phases or None, "accepted": accepted}
        if accepted:
            # Our bookkeeping of the lease, on our clock: it ends lease_s after ``now``.
            fields["lease_until"] = now + timedelta(seconds=lease_s)
            if not c.renewal or c.resend:
                fields["sent_at"] = sent_at
                fields["readback_ok"] = None
            if not c.renewal and not c.resend:
                fields["readback_mismatches"] = 0
        else:
            self._background(self._not_accepted(c, row), self._late_logs)
        write = self.worker.run(st.upsert_state, c.charger_id, c.evse_id, fields, sent_at)
        if accepted and readback and (not c.renewal or c.resend):
            self._background(self._readback(c, charger, lease_s))
        if accepted and raised(c) and charger.caps.protocol == Protocol.V16 \
                and c.charger_id not in self._no_trigger:
            self._background(self._reading_after(c), self._readings)
        return write

    async def _reading_after(self, c: Change) -> None:
        """``READING_AFTER_S`` after a raised limit: what does the car take under it? Not
        asked when a newer limit or another session replaced it meanwhile."""
        await asyncio.sleep(clock.current().wall_seconds(READING_AFTER_S))
        state = await self.worker.read(st.get_state, c.charger_id, c.evse_id)
        if state is None or state.session_id != c.session_id or state.limit_w != c.applied_w:
            return
        row = await self.send(c.charger_id, "TriggerMessage", {
            "requestedMessage": "MeterValues", "connectorId": c.evse_id})
        if row is not None and row.state in (CommandState.REJECTED, CommandState.ERROR):
            # NotImplemented / Rejected, or a CALLERROR: this charger is not asked again.
            log.info("%s: TriggerMessage MeterValues refused (%s): its cars are learned from "
                     "their sampled values", c.charger_id, row.state)
            self._no_trigger.add(c.charger_id)

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

    # -- read-back -----------------------------------------------------------------------------
    async def _readback(self, c: Change, charger: ChargerInfo, lease_s: float = 0.0) -> None:
        """GetCompositeSchedule: is our limit what the charger applies now? Its answer also
        carries the charger's "now" (``scheduleStart``), the best sample of its clock.

        Agrees (within 1 % or 1 W): confirmed. A charger that cannot answer (NotSupported /
        NotImplemented) is remembered and judged on the clock estimate alone. Differs: the
        limit is re-sent at once on the clock just measured; if the composite then still shows
        the same lower value and it is not the fail-safe, the EVSE cannot do more (a local or
        hardware limit): that cap is kept and the limit counts as in force. Otherwise the EVSE
        is flagged and its readings teach nothing."""
        action, payload = pf.composite_request(charger.caps, c.evse_id, 60, charger.ac)
        row = await self.send(c.charger_id, action, payload)
        if row is None:
            return
        if row.state != CommandState.ACCEPTED:
            if _error_code(row) in UNSUPPORTED:
                await self.worker.run(st.composite_unsupported, c.charger_id)
            return
        received = clock.now()
        charger_now = pf.composite_start(row.response or {})
        offset_s = None
        if charger_now is not None and self.clocks is not None:
            offset_s = (charger_now - received).total_seconds()
            await self.worker.run(st.clock_sample, self.clocks, c.charger_id, charger_now,
                                  received)
        got_w = pf.composite_first_limit_w(row.response or {}, c.phases or 3)
        if _agrees(pf.composite_first_limit(row.response or {}), got_w, c):
            fields = {"readback_ok": True}
            state = await self.worker.read(st.get_state, c.charger_id, c.evse_id)
            cap_w = state.readback_cap_w if state is not None else None
            if cap_w is not None and c.applied_w > cap_w + max(1.0, 0.01 * cap_w):
                fields["readback_cap_w"] = None  # it applies more than its cap: gone
            # (A limit at the cap agreeing says nothing against it: forgotten so, an 11-kW
            # EVSE was offered 20.4 kW, capped, offered 20.4 kW again... every few minutes.)
            await self.worker.run(st.upsert_state, c.charger_id, c.evse_id, fields,
                                  clock.now())
            return
        await self._mismatch(c, charger, got_w, offset_s, lease_s)

    async def _mismatch(self, c: Change, charger: ChargerInfo, got_w: float | None,
                        offset_s: float | None, lease_s: float) -> None:
        if await self._ended_meanwhile(c):
            log.info("%s: EVSE %d composite schedule read after the transaction ended "
                     "(allows %s W)", c.charger_id, c.evse_id, got_w)
            return
        state = await self.worker.read(st.get_state, c.charger_id, c.evse_id)
        if state is None or state.session_id != c.session_id or state.limit_w != c.applied_w:
            return  # a newer limit went out meanwhile: its own read-back judges it
        failsafe = await self.worker.read(st.get_state, c.charger_id, 0)
        failsafe_w = failsafe.limit_w if failsafe is not None else None
        mismatches = (state.readback_mismatches or 0) + 1
        below = got_w is not None and got_w < c.applied_w
        if below and mismatches >= 2 and state.readback_got_w is not None \
                and abs(got_w - state.readback_got_w) <= max(1.0, 0.01 * got_w) \
                and (failsafe_w is None or abs(got_w - failsafe_w) > max(1.0, 0.01 * got_w)):
            # The same lower value again, on a clock just measured: the EVSE's own cap.
            log.info("%s: EVSE %d applies at most %.0f W (we set %.0f W): kept as its cap",
                     c.charger_id, c.evse_id, got_w, c.applied_w)
            await self.worker.run(st.upsert_state, c.charger_id, c.evse_id, {
                "readback_ok": True, "readback_cap_w": got_w, "readback_got_w": got_w,
                "readback_mismatches": mismatches}, clock.now())
            return
        log.warning("%s: EVSE %d composite schedule allows %s W, we set %.0f W (clock offset "
                    "%s s): %s", c.charger_id, c.evse_id, got_w, c.applied_w,
                    "unknown" if offset_s is None else f"{offset_s:.0f}",
                    "re-sent" if mismatches < MAX_RESENDS else "flagged, not re-sent again")
        await self.worker.run(st.flag_readback, c.charger_id, c.evse_id, c.applied_w, got_w,
                              offset_s, mismatches, clock.now())
        if mismatches < MAX_RESENDS:
            again = replace(c, resend=True, renewal=False)
            write = await self._send_limit(again, charger, clock.now(), lease_s, True,
                                           offset_s)
            await write

    async def _ended_meanwhile(self, c: Change) -> bool:
        """Had the limit's transaction ended, RACE_S simulated s from now? (Its end may still
        be on its way, or in the writer's next commit.)"""
        await asyncio.sleep(clock.current().wall_seconds(RACE_S))
        return not await self.worker.read(st.session_active, c.session_id)

    async def drain(self) -> None:
        for task in [*self._late_logs, *self._readings]:
            task.cancel()
        await asyncio.gather(*self._late_logs, *self._readings, return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
