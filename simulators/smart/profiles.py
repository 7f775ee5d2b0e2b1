"""Charging profiles as a charger keeps them: one neutral model for OCPP 1.6 and 2.0.1.

Parsing turns the library's snake_case payloads into frozen dataclasses; ``ProfileStore`` keeps
the installed profiles and enforces the install rules a real charger enforces (1.6 section
3.13 and 5.16; 2.0.1 use case K01): purposes per connector/EVSE, TxProfile needs its
transaction, stack-level limits, allowed rate units, replacement by id (and on 1.6 by
stack level + purpose), rejection of a duplicate stack level + purpose on 2.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Neutral purpose names.
MAX, TX_DEFAULT, TX, EXTERNAL = "max", "tx_default", "tx", "external"
_PURPOSE_IN = {
    "ChargePointMaxProfile": MAX, "ChargingStationMaxProfile": MAX, "TxDefaultProfile": TX_DEFAULT,
    "TxProfile": TX, "ChargingStationExternalConstraints": EXTERNAL,
}
PURPOSE_OUT = {
    "1.6": {MAX: "ChargePointMaxProfile", TX_DEFAULT: "TxDefaultProfile", TX: "TxProfile"},
    "2.0.1": {MAX: "ChargingStationMaxProfile", TX_DEFAULT: "TxDefaultProfile", TX: "TxProfile",
              EXTERNAL: "ChargingStationExternalConstraints"},
}


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Period:
    start_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True)
class Schedule:
    rate_unit: str  # "A" (per phase) or "W"
    periods: tuple[Period, ...]
    start: datetime | None = None
    duration_s: int | None = None
    min_rate: float | None = None


@dataclass(frozen=True)
class Profile:
    id: int
    evse_id: int  # 1.6 connectorId; 0 = the whole charger
    stack_level: int
    purpose: str  # MAX | TX_DEFAULT | TX | EXTERNAL
    kind: str  # "Absolute" | "Relative" | "Recurring"
    schedule: Schedule
    recurrency: str | None = None  # "Daily" | "Weekly"
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    installed_at: datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, hash=False)


def _schedule(s: dict) -> Schedule:
    periods = tuple(Period(int(p["start_period"]), float(p["limit"]), p.get("number_phases"))
                    for p in s["charging_schedule_period"])
    return Schedule(str(s["charging_rate_unit"]), periods, parse_time(s.get("start_schedule")),
                    s.get("duration"), s.get("min_charging_rate"))


def from_v16(connector_id: int, p: dict, now: datetime) -> Profile:
    """``p``: csChargingProfiles as the library hands it (snake_case keys)."""
    tx = p.get("transaction_id")
    return Profile(
        id=int(p["charging_profile_id"]), evse_id=connector_id, stack_level=int(p["stack_level"]),
        purpose=_PURPOSE_IN[p["charging_profile_purpose"]], kind=p["charging_profile_kind"],
        schedule=_schedule(p["charging_schedule"]), recurrency=p.get("recurrency_kind"),
        valid_from=parse_time(p.get("valid_from")), valid_to=parse_time(p.get("valid_to")),
        transaction_id=None if tx is None else str(tx), installed_at=now, raw=p)


def from_v201(evse_id: int, p: dict, now: datetime) -> Profile:
    """``p``: chargingProfile (snake_case). Only the first of up to 3 schedules is used
    (the others are ISO 15118 alternatives the EV would choose from)."""
    return Profile(
        id=int(p["id"]), evse_id=evse_id, stack_level=int(p["stack_level"]),
        purpose=_PURPOSE_IN[p["charging_profile_purpose"]], kind=p["charging_profile_kind"],
        schedule=_schedule(p["charging_schedule"][0]), recurrency=p.get("recurrency_kind"),
        valid_from=parse_time(p.get("valid_from")), valid_to=parse_time(p.get("valid_to")),
        transaction_id=p.get("transaction_id"), installed_at=now, raw=p)


@dataclass
class Rules:
    """What this charger supports (1.6 configuration keys / 2.0.1 SmartChargingCtrlr)."""

    version: str  # "1.6" | "2.0.1"
    allowed_units: tuple[str, ...] = ("A", "W")
    max_stack_level: int = 8
    max_profiles: int = 16
    max_periods: int = 24


class ProfileStore:
    """Installed profiles of one charger; ``install`` returns (accepted, reason)."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.profiles: list[Profile] = []

    def install(self, p: Profile, active_tx: dict[int, str]) -> tuple[bool, str]:
        """``active_tx``: EVSE/connector id -> id of its ongoing transaction."""
        r = self.rules
        if p.schedule.rate_unit not in r.allowed_units:
            return False, "UnsupportedRateUnit"
        if p.stack_level > r.max_stack_level or p.stack_level < 0:
            return False, "InvalidStackLevel"
        if len(p.schedule.periods) > r.max_periods or not p.schedule.periods:
            return False, "InvalidSchedule"
        if p.purpose == EXTERNAL:
            return False, "InvalidProfile"  # set by an external system, never by the CSMS
        if p.purpose == MAX and p.evse_id != 0:
            return False, "InvalidProfile"
        if p.kind == "Recurring" and (p.recurrency is None or p.schedule.start is None):
            return False, "InvalidSchedule"
        if p.purpose == TX:
            if p.evse_id == 0:
                return False, "InvalidProfile"
            tx = active_tx.get(p.evse_id)
            if tx is None:
                return False, "TxNotFound"
            if r.version == "2.0.1" and p.transaction_id != tx:
                return False, "TxNotFound"
            if p.transaction_id is not None and p.transaction_id != tx:
                return False, "TxNotFound"
            if p.transaction_id is None:  # 1.6: applies to the ongoing transaction
                p = _with_tx(p, tx)
        keep = [q for q in self.profiles if q.id != p.id]
        same_slot = [q for q in keep if q.evse_id == p.evse_id and q.purpose == p.purpose
                     and q.stack_level == p.stack_level
                     and (p.purpose != TX or q.transaction_id == p.transaction_id)]
        if same_slot:
            if r.version == "2.0.1" and any(_overlap(p, q) for q in same_slot):
                return False, "DuplicateProfile"
            keep = [q for q in keep if q not in same_slot]  # 1.6 replaces (section 3.13.2)
        if len(keep) >= r.max_profiles:
            return False, "TooManyProfiles"
        self.profiles = [*keep, p]
        return True, ""

    def clear(self, profile_id: int | None = None, evse_id: int | None = None,
              purpose: str | None = None, stack_level: int | None = None) -> int:
        """Remove matching profiles (all criteria that are given must match); returns count."""
        def match(q: Profile) -> bool:
            if profile_id is not None:
                return q.id == profile_id
            return ((evse_id is None or q.evse_id == evse_id)
                    and (purpose is None or q.purpose == purpose)
                    and (stack_level is None or q.stack_level == stack_level))
        before = len(self.profiles)
        self.profiles = [q for q in self.profiles if not match(q)]
        return before - len(self.profiles)

    def end_transaction(self, evse_id: int) -> None:
        """TxProfiles end with their transaction (1.6 3.13.2, 2.0.1 K01.FR.?)."""
        self.profiles = [q for q in self.profiles if not (q.purpose == TX and q.evse_id == evse_id)]

    def select(self, profile_ids: list[int] | None = None, evse_id: int | None = None,
               purpose: str | None = None, stack_level: int | None = None) -> list[Profile]:
        return [q for q in self.profiles
                if (not profile_ids or q.id in profile_ids)
                and (evse_id is None or q.evse_id == evse_id)
                and (purpose is None or q.purpose == purpose)
                and (stack_level is None or q.stack_level == stack_level)]


def _with_tx(p: Profile, tx: str) -> Profile:
    from dataclasses import replace

    return replace(p, transaction_id=tx)


def _overlap(a: Profile, b: Profile) -> bool:
    """Do the validity intervals [valid_from, valid_to) intersect (None = unbounded)?"""
    starts_before_b_ends = b.valid_to is None or a.valid_from is None or a.valid_from < b.valid_to
    b_starts_before_a_ends = a.valid_to is None or b.valid_from is None or b.valid_from < a.valid_to
    return starts_before_b_ends and b_starts_before_a_ends
