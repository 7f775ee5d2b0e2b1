"""Composite schedule: the limit a charger obeys, merged from its installed profiles.

Pure functions of (profiles, time). Rules (1.6 section 3.13.4-3.13.5, 2.0.1 K08):
- within one purpose the active profile with the highest stack level wins; when its schedule
  has no period at t (ended, not yet started, outside validity) the next stack level applies;
- a TxProfile overrides the TxDefaultProfile; on 1.6 a TxDefaultProfile on the connector wins
  over one on connector 0 at the same stack level;
- the result is the minimum of (max profile, tx limit, external constraints, hardware rating),
  each converted to the requested unit with its own numberPhases at 230 V per phase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulators.smart.profiles import EXTERNAL, MAX, TX, TX_DEFAULT, Period, Profile

PHASE_VOLTAGE_V = 230.0
_RECURRENCE_S = {"Daily": 86_400, "Weekly": 7 * 86_400}


@dataclass(frozen=True)
class Limit:
    value: float
    unit: str  # "A" | "W"
    number_phases: int


def schedule_start(p: Profile, t: datetime, tx_start: datetime | None) -> datetime | None:
    """Start of the schedule instance that covers ``t`` (None when the profile has none)."""
    s = p.schedule
    if p.kind == "Relative":
        return tx_start
    if p.kind == "Recurring":
        if s.start is None or p.recurrency not in _RECURRENCE_S:
            return None
        period_s = _RECURRENCE_S[p.recurrency]
        k = math.floor((t - s.start).total_seconds() / period_s)
        return s.start + timedelta(seconds=k * period_s)
    return s.start or p.valid_from or p.installed_at


def period_at(p: Profile, t: datetime, tx_start: datetime | None) -> Period | None:
    """The period of ``p`` in force at ``t``, or None when ``p`` says nothing at ``t``."""
    if p.valid_from is not None and t < p.valid_from:
        return None
    if p.valid_to is not None and t >= p.valid_to:
        return None
    start = schedule_start(p, t, tx_start)
    if start is None:
        return None
    offset_s = (t - start).total_seconds()
    if offset_s < 0:
        return None
    duration_s = p.schedule.duration_s
    if p.kind == "Recurring":
        cap_s = _RECURRENCE_S[p.recurrency]
        duration_s = min(duration_s, cap_s) if duration_s else cap_s
    if duration_s is not None and duration_s > 0 and offset_s >= duration_s:
        return None
    current = None
    for period in p.schedule.periods:
        if period.start_s <= offset_s:
            current = period
        else:
            break
    return current


def convert(value: float, unit: str, phases: int, to_unit: str) -> float:
    """A per phase <-> W at 230 V on ``phases`` phases."""
    if unit == to_unit:
        return value
    if unit == "A":
        return value * PHASE_VOLTAGE_V * phases
    return value / (PHASE_VOLTAGE_V * phases)


def _winner(candidates: list[Profile], t: datetime, tx_start: datetime | None,
            evse_id: int) -> tuple[Profile, Period] | None:
    # Highest stack level first; at equal level the EVSE-specific profile beats connector 0.
    ranked = sorted(candidates, key=lambda q: (q.stack_level, q.evse_id == evse_id), reverse=True)
    for q in ranked:
        period = period_at(q, t, tx_start)
        if period is not None:
            return q, period
    return None


def limit_at(profiles: list[Profile], t: datetime, evse_id: int, unit: str,
             hardware: Limit | None = None, tx_start: datetime | None = None,
             tx_id: str | None = None, default_phases: int = 3) -> Limit | None:
    """Composite limit at ``t`` for ``evse_id`` (0 = the whole charger) in ``unit``.

    None when no profile and no hardware limit constrains the EVSE.
    """
    parts: list[tuple[float, int]] = []

    def add(found: tuple[Profile, Period] | None) -> None:
        if found is None:
            return
        q, period = found
        phases = period.number_phases or default_phases
        parts.append((convert(period.limit, q.schedule.rate_unit, phases, unit), phases))

    add(_winner([q for q in profiles if q.purpose == MAX], t, tx_start, 0))
    add(_winner([q for q in profiles if q.purpose == EXTERNAL and q.evse_id in (0, evse_id)],
                t, tx_start, evse_id))
    if evse_id != 0:
        tx = [q for q in profiles if q.purpose == TX and q.evse_id == evse_id
              and (tx_id is None or q.transaction_id in (None, tx_id))]
        found = _winner(tx, t, tx_start, evse_id) if tx_start is not None or tx_id else None
        if found is None:
            found = _winner([q for q in profiles if q.purpose == TX_DEFAULT
                             and q.evse_id in (0, evse_id)], t, tx_start, evse_id)
        add(found)
    if hardware is not None:
        parts.append((convert(hardware.value, hardware.unit, hardware.number_phases, unit),
                       hardware.number_phases))
    if not parts:
        return None
    value, phases = min(parts, key=lambda vp: vp[0])
    return Limit(value, unit, phases)


def _breakpoints(p: Profile, lo: datetime, hi: datetime, tx_start: datetime | None) -> set:
    """Instants in [lo, hi) where ``p``'s contribution may change."""
    out = {x for x in (p.valid_from, p.valid_to) if x is not None and lo <= x < hi}
    starts = []
    if p.kind == "Recurring" and p.schedule.start is not None and p.recurrency in _RECURRENCE_S:
        period_s = _RECURRENCE_S[p.recurrency]
        first = schedule_start(p, lo, tx_start)
        while first is not None and first < hi:
            starts.append(first)
            first = first + timedelta(seconds=period_s)
    else:
        s = schedule_start(p, lo, tx_start)
        if s is not None:
            starts.append(s)
    for s in starts:
        offsets = [per.start_s for per in p.schedule.periods]
        if p.schedule.duration_s:
            offsets.append(p.schedule.duration_s)
        for off in offsets:
            x = s + timedelta(seconds=off)
            if lo <= x < hi:
                out.add(x)
    return out


def composite_schedule(profiles: list[Profile], start: datetime, duration_s: int, evse_id: int,
                       unit: str, hardware: Limit | None = None,
                       tx_start: datetime | None = None, tx_id: str | None = None,
                       default_phases: int = 3) -> list[tuple[int, float, int]]:
    """Periods ``(start offset s, limit, number_phases)`` covering [start, start + duration).

    Consecutive equal periods are merged; a gap with no limit at all is left out.
    """
    end = start + timedelta(seconds=duration_s)
    points = {start}
    for p in profiles:
        points |= _breakpoints(p, start, end, tx_start)
    out: list[tuple[int, float, int]] = []
    for t in sorted(points):
        lim = limit_at(profiles, t, evse_id, unit, hardware, tx_start, tx_id, default_phases)
        if lim is None:
            continue
        value = round(lim.value, 1)
        if out and out[-1][1] == value and out[-1][2] == lim.number_phases:
            continue
        out.append((int(round((t - start).total_seconds())), value, lim.number_phases))
    return out
