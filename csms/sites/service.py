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
            "policy", "policy_params", "control_period_s", "economics")
VOLTAGE_LEVELS = ("LV", "MV", "HV")
BASE_LOAD_PROFILES = ("residential", "office", "commercial", "highway")
PHASE_WIRINGS = WIRINGS


class SiteError(ValueError):
    """An invalid site or assignment (HTTP 422)."""


# Every number a client may set: (lowest, highest, lowest excluded, None allowed). A value
# outside (a transformer of -1 kVA, a capacity of 0) once took the overview, grid, costs and KPIs
# down for everybody; NaN and infinities fail every bound.
NUMBER_BOUNDS: dict[str, tuple[float, float, bool, bool]] = {
    "latitude": (-90.0, 90.0, False, False),
    "longitude": (-180.0, 180.0, False, False),
    "capacity_kw": (0.0, 1e6, True, False),
    "transformer_kva": (0.0, 1e7, True, True),
    "short_circuit_mva": (0.0, 1e6, True, True),
    "pv_kwp": (0.0, 1e6, False, True),
    "base_load_peak_kw": (0.0, 1e6, False, True),
    "control_period_s": (5, 3600, False, False),
}


def check_number(name: str, value) -> None:
    """Raise SiteError unless ``value`` is allowed for the numeric field ``name``."""
    low, high, open_low, nullable = NUMBER_BOUNDS[name]
    if value is None:
        if nullable:
            return
        raise SiteError(f"{name} is required")
    _bounded(name, value, low, high, open_low)


# The control loop's parameters (``SiteRow.policy_params``): (unit, lowest, highest, lowest
# excluded, what applies when unset). Bounds keep the loop sane: a lease shorter than a minute
# makes every charger fall back to its fail-safe between renewals, a plan period under 60 s
# over a day-long stay is an LP too large to solve each period. A key not listed here is
# refused: the loop would ignore a misspelt one without a word.
POLICY_PARAMS: dict[str, tuple[str, float, float, bool, str]] = {
    "phase_limit_kw": ("kW", 0.0, 1e6, True, "capacity / 3"),
    "default_energy_kwh": ("kWh", 0.0, 1000.0, True, "20"),
    "default_dwell_s": ("s", 60.0, 7 * 86_400.0, False, "28800 (8 h)"),
    "min_change_w": ("W", 0.0, 1e6, False, "max(1000, 3 % of the limit)"),
    "lease_s": ("s", 60.0, 86_400.0, False, "30 control periods"),
    "plan_period_s": ("s", 60.0, 3600.0, False, "control period, coarsened to 96 periods"),
    # A new site has no history to forecast from; its operator knows roughly how busy it is.
    "expected_arrivals_per_day": ("cars", 0.0, 100_000.0, False,
                                  "the site's history (none: no forecast)"),
}

# ROI inputs per site (``SiteRow.economics``); an absent key takes the default of
# ``csms.economics.payback`` (defaults, not quotes). Per charger kind: capex and installation.
CHARGER_KINDS = ("ac7", "ac22", "dc50", "dc150")
ECONOMICS_PER_KIND: dict[str, tuple[str, float]] = {
    "charger_capex_mad": ("MAD", 1e8), "installation_mad": ("MAD", 1e8)}
ECONOMICS_NUMBERS: dict[str, tuple[str, float]] = {
    "maintenance_pct_of_hardware_per_year": ("%/year", 100.0),
    "software_mad_per_charger_month": ("MAD/month", 1e6),
    "selling_price_mad_per_kwh": ("MAD/kWh", 100.0),
    "grid_connection_capex_mad": ("MAD", 1e9),
    "fleet_size": ("vehicles", 1e6),
}


def _bounded(where: str, value, low: float, high: float, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SiteError(f"{where} must be a number, got {value!r}")
    ok = (low < value if open_low else low <= value) and value <= high
    if not ok:  # NaN compares false everywhere
        bound = f"> {low:g}" if open_low else f">= {low:g}"
        raise SiteError(f"{where} must be {bound} and <= {high:g}, got {value}")
    return value


def check_policy_params(params) -> None:
    if not isinstance(params, dict):
        raise SiteError("policy_params must be an object")
    for key, value in params.items():
        if key not in POLICY_PARAMS:
            raise SiteError(f"policy_params.{key} is not a parameter; known: "
                            f"{', '.join(POLICY_PARAMS)}")
        unit, low, high, open_low, _ = POLICY_PARAMS[key]
        _bounded(f"policy_params.{key} ({unit})", value, low, high, open_low)


def check_economics(economics) -> None:
    if not isinstance(economics, dict):
        raise SiteError("economics must be an object")
    for key, value in economics.items():
        if key in ECONOMICS_PER_KIND:
            if not isinstance(value, dict):
                raise SiteError(f"economics.{key} is an object charger kind -> MAD")
            for kind, mad in value.items():
                if kind not in CHARGER_KINDS:
                    raise SiteError(f"economics.{key}.{kind}: unknown charger kind; known: "
                                    f"{', '.join(CHARGER_KINDS)}")
                _bounded(f"economics.{key}.{kind} (MAD)", mad, 0.0, ECONOMICS_PER_KIND[key][1])
        elif key in ECONOMICS_NUMBERS:
            unit, high = ECONOMICS_NUMBERS[key]
            if key == "fleet_size":
                if value is None:
                    continue
                if not isinstance(value, int) or isinstance(value, bool):
                    raise SiteError(f"economics.fleet_size must be a whole number, got {value!r}")
            _bounded(f"economics.{key} ({unit})", value, 0.0, high)
        else:
            raise SiteError(f"economics.{key} is not an input; known: "
                            f"{', '.join([*ECONOMICS_PER_KIND, *ECONOMICS_NUMBERS])}")


def validate(fields: dict) -> dict:
    """Check the values a client may set; returns them unchanged."""
    if "policy" in fields and fields["policy"] not in POLICIES:
        raise SiteError(f"unknown policy {fields['policy']!r}; choose from {', '.join(POLICIES)}")
    for name in NUMBER_BOUNDS:
        if name in fields:
            check_number(name, fields[name])
    if "voltage_level" in fields and fields["voltage_level"] not in VOLTAGE_LEVELS:
        raise SiteError(f"voltage_level is one of {', '.join(VOLTAGE_LEVELS)}")
    profile = fields.get("base_load_profile")
    if profile is not None and profile not in BASE_LOAD_PROFILES:
        raise SiteError(f"base_load_profile is one of {', '.join(BASE_LOAD_PROFILES)}")
    if "policy_params" in fields:
        check_policy_params(fields["policy_params"])
    if "economics" in fields:
        check_economics(fields["economics"])
    if "tariff" in fields:
        if not isinstance(fields["tariff"], dict):
            raise SiteError("invalid tariff: expected an object")
        from csms.sites.models import tariff_from_column

        try:
            tariff_from_column(fields["tariff"])
        except Exception as exc:  # the tariff module raises several types for bad data
            raise SiteError(f"invalid tariff: {exc}") from None
    return fields


def repair_stored_numbers(session: Session) -> list[str]:
    """Numbers stored before validation that break every page: replaced by the defaults,
    logged once (at start). Returns what was repaired, as "site.field"."""
    repaired = []
    defaults = {name: SiteRow.model_fields[name].default for name in NUMBER_BOUNDS}
    for row in session.exec(select(SiteRow)).all():
        for name in NUMBER_BOUNDS:
            try:
                check_number(name, getattr(row, name))
            except SiteError as exc:
                log.warning("site %r: %s; replaced by the default %r", row.name, exc,
                            defaults[name])
                setattr(row, name, defaults[name])
                repaired.append(f"{row.name}.{name}")
    return repaired


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
