"""Pure: does a charger obey its limit, and what does the EV really take?

A reading counts only if it was taken after the limit was confirmed (plus a grace for the
charger to ramp down). Above ``limit * (1 + tol) + slack`` is a violation; two in a row flag
the EVSE as not obeying (one reading can straddle a change).

Well below the limit, the EV (not the charger) is the bottleneck: its draw plus a little
headroom becomes its maximum, so the capacity goes to cars that can use it. The maximum is
forgotten when the car draws clearly more than it did (past the middle of the headroom) under
an offer at least that high: it can take more. A car drawing all of a smaller offer (0 W when
the site is full) or drawing at its own maximum (the learned value minus the headroom) keeps
it; forgetting it there re-offered an 11 kW car 22 kW every other run.

A car that draws nothing under an offer it could use (full, or paused by itself) is judged at
once when the charger reports SuspendedEV, else a meter interval after the offer (a car waking
up takes seconds; a limit that changes every run must not postpone it forever); its maximum
then lies below its minimum power, so it gets 0, and the loop offers it its minimum power again
once that maximum is ``ZERO_TTL_S`` old (``expired``): taken in full, the maximum is forgotten. A car that draws a little (tapering below 6 A) keeps at least
its minimum power: it needs the 6 A offer to go on charging.
A reading after the limit's lease ended says nothing (the charger fell back to its default),
and neither does one while the limit is not known to be in force: until the charger's composite
schedule showed it (read-back), or, for a charger that cannot answer GetCompositeSchedule, from
when it accepted the limit (the profile starts before its "now" on its own clock). A car is
never taught a maximum from a period in which it was offered something else.

An AC limit in A is per phase: a one-phase car under a three-phase limit of 16 A may draw
16 A x 230 V, a third of the limit's three-phase watts. It is judged against what it was
offered on its own phases (``offered_w``), else it would look like a car that wants less.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from csms.control import state as st
from csms.control.planner import min_power_w
from csms.domain.electrical import limit_power_w
from csms.sites.snapshot import SiteSnapshot

log = logging.getLogger(__name__)

OVER_TOLERANCE = 0.05
OVER_SLACK_W = 250.0
VIOLATIONS_TO_FLAG = 2
UNDER_FRACTION = 0.85  # draw below this share of the limit: the EV limits itself
UNDER_SLACK_W = 300.0
# ... or this many W below it, whichever is nearer: on a 100 kW DC limit 15 % is 15 kW of the
# site left unused while a tapering car takes less and less.
UNDER_GAP_MAX_W = 2000.0
LEARN_HEADROOM = 1.02  # above metering noise (~1 %) and the 0.1 A rounding of the offer
LEARN_HEADROOM_W = 150.0  # capacity offered above the EV's draw is capacity lost
LEARN_HEADROOM_MAX_W = 500.0
GRACE_S = 5.0
DRAWING_W = 100.0  # below this the EV draws nothing
ZERO_GRACE_S = 60.0  # one meter interval before "draws nothing" counts
ZERO_TTL_S = 1800.0  # a car that drew nothing is offered power again after this
SUSPENDED_EV = "SuspendedEV"  # 1.6 ChargePointStatus / 2.0.1 ChargingStateEnumType


@dataclass(frozen=True)
class Verdict:
    violations: int
    obeying: bool
    ev_max_w: float | None  # None: nothing learned
    learned_now: bool = False  # this reading set or lowered ev_max_w


def judge(limit_w: float | None, sent_at: datetime | None, measured_w: float | None,
          measured_at: datetime | None, violations: int, obeying: bool, ev_max_w: float | None,
          min_w: float, grace_s: float = GRACE_S, lease_until: datetime | None = None,
          ev_state: str | None = None) -> Verdict | None:
    """Verdict on one reading, or None when the reading says nothing about the limit."""
    if limit_w is None or sent_at is None or measured_w is None or measured_at is None:
        return None
    if measured_at < sent_at + timedelta(seconds=grace_s):
        return None
    if over_limit_w(limit_w, measured_w):
        count = violations + 1
        return Verdict(count, obeying and count < VIOLATIONS_TO_FLAG, ev_max_w)
    learned = ev_max_w
    if lease_until is not None and measured_at >= lease_until:
        return Verdict(0, obeying, learned)  # the limit had lapsed: the reading says nothing
    if ev_max_w is not None and measured_w >= forget_above_w(ev_max_w) \
            and limit_w >= forget_above_w(ev_max_w):
        return Verdict(0, obeying, None)  # it takes more than it did: offer it all again
    if limit_w >= max(min_w, 1.0) and measured_w < under_w(limit_w):
        if measured_w < DRAWING_W:
            # The charger saying SuspendedEV (offered, not taken) settles it at once.
            if ev_state != SUSPENDED_EV and \
                    measured_at < sent_at + timedelta(seconds=max(grace_s, ZERO_GRACE_S)):
                return Verdict(0, obeying, learned)
            guess = measured_w + LEARN_HEADROOM_W  # below the minimum: it gets 0
        else:
            guess = max(learned_max_w(measured_w), min_w)
        if ev_max_w is None or guess < ev_max_w:
            return Verdict(0, obeying, guess, learned_now=True)
    return Verdict(0, obeying, learned)


def over_limit_w(limit_w: float, measured_w: float) -> bool:
    """Does a draw exceed a limit beyond metering noise and the charger's rounding? The one
    rule for the loop's verdicts and the console's alerts."""
    return measured_w > limit_w * (1 + OVER_TOLERANCE) + OVER_SLACK_W


def under_w(limit_w: float) -> float:
    """Below this draw the EV, not the limit, sets what it takes."""
    gap_w = min(limit_w * (1.0 - UNDER_FRACTION), UNDER_GAP_MAX_W) + UNDER_SLACK_W
    return limit_w - gap_w


def learned_max_w(draw_w: float) -> float:
    """The maximum learned from a draw: the draw plus a headroom above metering noise and the
    offer's rounding (2 %, at most ``LEARN_HEADROOM_MAX_W``) plus ``LEARN_HEADROOM_W``. The
    cap matters on DC: 2 % of a 90 kW taper is 1.8 kW of the site offered and never taken."""
    return draw_w + min(draw_w * (LEARN_HEADROOM - 1.0), LEARN_HEADROOM_MAX_W) \
        + LEARN_HEADROOM_W


def forget_above_w(ev_max_w: float) -> float:
    """Past the middle of the headroom the learned maximum added to the draw."""
    proportional_w = (ev_max_w - LEARN_HEADROOM_W) / LEARN_HEADROOM
    capped_w = ev_max_w - LEARN_HEADROOM_W - LEARN_HEADROOM_MAX_W
    draw_w = max(0.0, max(proportional_w, capped_w))  # the inverse of learned_max_w
    return (draw_w + ev_max_w) / 2.0


def expired(ev_max_w: float | None, learned_at: datetime | None, min_w: float,
            now: datetime) -> bool:
    """A maximum below the EV's minimum power (it drew nothing) is tried again after a while:
    a car that paused by itself may want to charge again."""
    if ev_max_w is None or ev_max_w >= max(min_w, DRAWING_W + LEARN_HEADROOM_W):
        return False
    return learned_at is None or (now - learned_at).total_seconds() >= ZERO_TTL_S


def offered_w(limit_value: float | None, unit: str | None, limit_w: float | None,
              ev_phases: int) -> float | None:
    """What a limit lets an EV drawing on ``ev_phases`` AC phases take (0: DC, the limit's W)."""
    if limit_value is not None and unit == "A" and ev_phases > 0:
        return limit_power_w(max(0.0, limit_value), unit, ev_phases)
    return limit_w


# -- a site's run: every steered session against its limit ------------------------------------
def in_force(row, composite: bool, readback: bool = True) -> bool:
    """Is the limit in ``row`` (a SmartChargingStateRow) known to be what the charger applies?"""
    if row is None or not row.accepted:
        return False
    if row.readback_ok is not None:
        return bool(row.readback_ok)
    return not (composite and readback)  # a read-back is still to come


def verify_site(snap: SiteSnapshot, states: dict, now: datetime, readback: bool = True
                ) -> tuple[list[tuple[str, int, dict]], list[tuple[str, int, float, float]], bool]:
    """Compare each steered session's latest reading with its limit; learn and flag.
    Returns the state updates, the newly flagged EVSEs (charger, EVSE, limit W, measured W),
    and whether an EV's learned maximum or an EVSE's obedience changed."""
    updates, flags, changed = [], [], False
    composite = {c.id: c.caps.composite for c in snap.chargers}
    for s in snap.sessions:
        row = states.get((s.charger_id, s.evse_id))
        if row is None or row.session_id != s.session_id:
            continue
        if not row.accepted:
            fields = refused(s, row)
            if fields is not None:
                changed = changed or fields.get("obeying", row.obeying) != row.obeying
                updates.append((s.charger_id, s.evse_id, fields))
                if row.obeying and not fields.get("obeying", True):
                    log.warning("%s: EVSE %d refused a limit of %.0f W and draws %.0f W: "
                                "planned around as uncontrolled load", s.charger_id,
                                s.evse_id, row.limit_w or 0.0, s.measured_w)
                    flags.append((s.charger_id, s.evse_id, row.limit_w or 0.0, s.measured_w))
            continue
        if not in_force(row, composite.get(s.charger_id, True), readback):
            updates.append((s.charger_id, s.evse_id,
                            {"measured_w": s.measured_w, "measured_at": s.measured_at}))
            continue
        min_w = min_power_w(s)
        fields = {"measured_w": s.measured_w, "measured_at": s.measured_at}
        ev_max_w = row.ev_max_w
        if expired(ev_max_w, row.ev_max_at, min_w, now):
            # It drew nothing a while ago: offer it its minimum again (all of it taken, the
            # maximum is forgotten; nothing taken, it is learned again).
            ev_max_w = min_w if min_w > 0 else None
            fields.update(ev_max_w=ev_max_w, ev_max_at=now)
            changed = True
        # A discharge set-point (negative) allows no charging: obeying means drawing <= 0.
        limit_w = offered_w(row.limit_value, row.limit_unit, row.limit_w,
                            s.phases if s.ac else 0)
        limit_w = None if limit_w is None else max(0.0, limit_w)
        verdict = judge(limit_w, row.sent_at, s.measured_w, s.measured_at, row.violations,
                        row.obeying, ev_max_w, min_w, lease_until=row.lease_until,
                        ev_state=s.ev_state)
        if verdict is not None:
            fields.update(violations=verdict.violations, obeying=verdict.obeying,
                          ev_max_w=verdict.ev_max_w)
            if verdict.learned_now:
                fields["ev_max_at"] = now
            changed = changed or verdict.ev_max_w != ev_max_w \
                or verdict.obeying != row.obeying
            if row.obeying and not verdict.obeying:
                fields["flagged_at"] = now
                log.warning("%s: EVSE %d accepted a limit of %.0f W but draws %.0f W: flagged "
                            "as not obeying", s.charger_id, s.evse_id, row.limit_w,
                            s.measured_w)
                flags.append((s.charger_id, s.evse_id, row.limit_w, s.measured_w))
        updates.append((s.charger_id, s.evse_id, fields))
    return updates, flags, changed


def refused(s, row) -> dict | None:
    """A limit the charger did not accept (Rejected, CALLERROR NotSupported...) holds nothing:
    a car drawing past it on consecutive readings is planned around as uncontrolled load (at
    its EVSE's rating, or more if it draws more), as a charger that ignores its limits is
    (never learned from: nothing was in force)."""
    if s.measured_w is None or s.measured_at is None or row.limit_w is None:
        return None
    if row.measured_at is not None and s.measured_at <= row.measured_at:
        return None  # the same reading again
    fields = {"measured_w": s.measured_w, "measured_at": s.measured_at}
    if over_limit_w(max(0.0, row.limit_w), s.measured_w):
        count = row.violations + 1
        fields.update(violations=count, obeying=row.obeying and count < VIOLATIONS_TO_FLAG)
    else:
        fields["violations"] = 0
    return fields


def store_verdicts(session, updates: list, flags: list, now: datetime) -> None:
    """Store what ``verify_site`` found (runs in the store worker)."""
    for charger_id, evse_id, limit_w, measured_w in flags:
        st.flag_disobedience(session, charger_id, evse_id, limit_w, measured_w, now)
    for charger_id, evse_id, fields in updates:
        st.upsert_state(session, charger_id, evse_id, fields, now)
