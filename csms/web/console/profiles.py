"""Charging profiles the chargers accepted, read back from the command outbox.

The outbox records every SetChargingProfile with the charger's answer, so the profiles a charger
holds are the accepted ones since its last accepted ClearChargingProfile (or reboot, which the
console cannot see: it then shows what was last installed). Limits are in W for display; an
ampere limit is converted as the loop reads it (``csms.domain.electrical.limit_power_w``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from csms.domain.electrical import limit_power_w
from csms.domain.model import CommandState
from csms.store.tables import CommandRow


@dataclass(frozen=True)
class Period:
    start: datetime
    limit_w: float


def _schedules(payload: dict) -> list[dict]:
    profile = payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}
    sched = profile.get("chargingSchedule")
    if isinstance(sched, list):
        return sched
    return [sched] if isinstance(sched, dict) else []


def periods(payload: dict, sent_at: datetime) -> list[Period]:
    """Periods of a SetChargingProfile payload (1.6 or 2.0.1) as absolute times and watts."""
    out = []
    for sched in _schedules(payload):
        start = sched.get("startSchedule")
        t0 = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else sent_at
        unit = sched.get("chargingRateUnit", "A")
        for p in sched.get("chargingSchedulePeriod", []):
            limit = float(p.get("limit", 0.0))
            watts = limit_power_w(limit, unit, int(p.get("numberPhases") or 0))
            out.append(Period(t0 + timedelta(seconds=int(p.get("startPeriod", 0))), watts))
    return sorted(out, key=lambda p: p.start)


def limit_at(ps: list[Period], now: datetime) -> float | None:
    current = None
    for p in ps:
        if p.start <= now:
            current = p.limit_w
    return current


def installed(session: Session, charger_id: str, limit: int = 20) -> list[CommandRow]:
    """Accepted SetChargingProfile commands since the last accepted clear, newest first."""
    rows = session.exec(select(CommandRow).where(
        CommandRow.charger_id == charger_id, CommandRow.state == CommandState.ACCEPTED,
        CommandRow.action.in_(("SetChargingProfile", "ClearChargingProfile")))
        .order_by(CommandRow.id.desc()).limit(limit)).all()
    out = []
    for row in rows:
        if row.action == "ClearChargingProfile":
            break
        out.append(row)
    return out


