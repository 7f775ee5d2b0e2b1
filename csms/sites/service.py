"""Site CRUD and charger membership (functions of a store session; the caller commits)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, select

from csms.charging import POLICIES
from csms.domain.charger_facts import OPERATOR, WIRINGS
from csms.store.tables import ChargerRow, SiteRow

log = logging.getLogger(__name__)

DEFAULT_SITE_NAME = "default"
EDITABLE = ("name", "latitude", "longitude", "voltage_level", "capacity_kw", "transformer_kva",
            "short_circuit_mva", "tariff", "pv_kwp", "base_load_profile", "base_load_peak_kw",
            "policy", "policy_params", "control_period_s")
VOLTAGE_LEVELS = ("LV", "MV", "HV")
BASE_LOAD_PROFILES = ("residential", "office", "commercial", "highway")
PHASE_WIRINGS = WIRINGS


class SiteError(ValueError):
    """An invalid site or assignment (HTTP 422)."""


def validate(fields: dict) -> dict:
    """Check the values a client may set; returns them unchanged."""
    if "policy" in fields and fields["policy"] not in POLICIES:
        raise SiteError(f"unknown policy {fields['policy']!r}; choose from {', '.join(POLICIES)}")
    if "capacity_kw" in fields and not fields["capacity_kw"] > 0:
        raise SiteError("capacity_kw must be > 0")
    if "control_period_s" in fields and not 5 <= fields["control_period_s"] <= 3600:
        raise SiteError("control_period_s must be within 5..3600 s")
    if "voltage_level" in fields and fields["voltage_level"] not in VOLTAGE_LEVELS:
        raise SiteError(f"voltage_level is one of {', '.join(VOLTAGE_LEVELS)}")
    profile = fields.get("base_load_profile")
    if profile is not None and profile not in BASE_LOAD_PROFILES:
        raise SiteError(f"base_load_profile is one of {', '.join(BASE_LOAD_PROFILES)}")
    for name in ("pv_kwp", "base_load_peak_kw"):
        if name in fields and fields[name] is not None and fields[name] < 0:
            raise SiteError(f"{name} must be >= 0")
    if "tariff" in fields:
        from csms.control.planner import tariff_source
        from csms.tariff import load_tariff

        try:
            load_tariff(tariff_source(fields["tariff"]))
        except Exception as exc:  # the tariff module raises several types for bad data
            raise SiteError(f"invalid tariff: {exc}") from None
    return fields


def create_site(session: Session, fields: dict, now: datetime) -> SiteRow:
    fields = validate({k: v for k, v in fields.items() if k in EDITABLE and v is not None})
    if session.exec(select(SiteRow.id).where(SiteRow.name == fields.get("name"))).first():
        raise SiteError(f"a site named {fields.get('name')!r} exists")
    row = SiteRow(**fields, created_at=now)
    session.add(row)
    session.flush()
    return row


def update_site(session: Session, site_id: int, fields: dict) -> SiteRow | None:
    row = session.get(SiteRow, site_id)
    if row is None:
        return None
    fields = validate({k: v for k, v in fields.items() if k in EDITABLE})
    if "name" in fields and fields["name"] != row.name and session.exec(
            select(SiteRow.id).where(SiteRow.name == fields["name"])).first():
        raise SiteError(f"a site named {fields['name']!r} exists")
    for key, value in fields.items():
        setattr(row, key, value)
    session.flush()
    return row


def delete_site(session: Session, site_id: int) -> bool:
    row = session.get(SiteRow, site_id)
    if row is None:
        return False
    for charger in session.exec(select(ChargerRow).where(ChargerRow.site_id == site_id)).all():
        charger.site_id = None
    session.delete(row)
    return True


def assign_charger(session: Session, site_id: int | None, charger_id: str, now: datetime,
                   phase_wiring: str | None = None, max_power_w: float | None = None,
                   charger_type: str | None = None) -> ChargerRow:
    """Put a charger (registered now if unknown) in a site, with its electrical facts."""
    if site_id is not None and session.get(SiteRow, site_id) is None:
        raise SiteError(f"no site {site_id}")
    if phase_wiring is not None and phase_wiring not in PHASE_WIRINGS:
        raise SiteError(f"phase_wiring is one of {', '.join(PHASE_WIRINGS)}")
    if charger_type is not None and charger_type not in ("AC", "DC"):
        raise SiteError("charger_type is AC or DC")
    row = session.get(ChargerRow, charger_id)
    if row is None:
        row = ChargerRow(id=charger_id, registered_at=now)
        session.add(row)
    row.site_id = site_id
    if phase_wiring is not None:
        row.phase_wiring, row.phase_wiring_source = phase_wiring, OPERATOR
    set_electrical(row, max_power_w=max_power_w, charger_type=charger_type, clear=False)
    session.flush()
    return row


def set_electrical(row: ChargerRow, *, max_power_w: float | None, charger_type: str | None,
                   clear: bool = True) -> None:
    """The operator's word on what a charger is: never overwritten by what the CSMS learns
    from the charger (``csms.handlers.facts``). ``clear``: None forgets the operator's value
    and lets the learned one apply again."""
    if charger_type is not None and charger_type.upper() not in ("AC", "DC"):
        raise SiteError("charger_type is AC or DC")
    if max_power_w is not None and not max_power_w > 0:
        raise SiteError("max_power_w must be > 0")
    if charger_type is not None:
        row.charger_type, row.charger_type_source = charger_type.upper(), OPERATOR
    elif clear and row.charger_type_source == OPERATOR:
        row.charger_type, row.charger_type_source = None, None
    if max_power_w is not None:
        row.max_power_w, row.max_power_source = float(max_power_w), OPERATOR
    elif clear and row.max_power_source == OPERATOR:
        row.max_power_w, row.max_power_source = None, None


def default_site_id(session: Session, now: datetime) -> int:
    """The site lab mode puts unknown chargers in (created on first use)."""
    row = session.exec(select(SiteRow).where(SiteRow.name == DEFAULT_SITE_NAME)).first()
    if row is None:
        row = SiteRow(name=DEFAULT_SITE_NAME, created_at=now)
        session.add(row)
        session.flush()
        log.info("created site %r for chargers registered in open mode", DEFAULT_SITE_NAME)
    return row.id


def site_chargers(session: Session, site_id: int) -> list[ChargerRow]:
    return list(session.exec(select(ChargerRow).where(ChargerRow.site_id == site_id)
                             .order_by(ChargerRow.id)).all())
