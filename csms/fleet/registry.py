"""The vehicle registry: the operator's vehicles, their charging facts and their links to an id
token and to an EV identity (functions of a store session; the caller commits).

A vehicle created from a catalogue model copies the model's facts (``csms.fleet.catalogue``);
any fact given explicitly wins, so a Kangoo with the optional 22 kW charger is the Kangoo model
with ``ac_max_w`` 22000. ``seed_catalogue`` registers one vehicle per catalogue model (named
after it) once: ``csms vehicles seed`` or the console's button, never implicitly, so a registry
the operator emptied stays empty. ``import_fleet`` registers a list of vehicles with their id
tokens (``csms vehicles import``, ``POST /api/v1/vehicles/import``; a simulated site writes one
with ``csms-sim --fleet N --fleet-file PATH``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from csms.domain.electrical import (
    AC_MAX_W,
    AC_MAX_W_PER_PHASE,
    MAX_AC_CURRENT_A,
    VOLTAGE_V,
)
from csms.fleet import catalogue
from csms.store.tables import IdTokenRow, VehicleRow

FACTS = ("battery_wh", "ac_phases", "ac_max_w", "dc_max_w", "v2g")
EDITABLE = ("name", "model", *FACTS, "id_token", "ev_id")
MAX_BATTERY_WH = 1_000_000.0  # a heavy truck's pack is well under 1 MWh
MAX_DC_W = 1_000_000.0  # the Megawatt Charging System's range
NAME_MAX = 80
EV_ID_MAX = 64
TOKEN_MAX = 36


class VehicleError(ValueError):
    """Invalid vehicle data (HTTP 422)."""


class VehicleConflict(ValueError):
    """A name, id token or EV identity another vehicle already has (HTTP 409)."""


def normalise_ev_id(value: str) -> str:
    """One spelling of an EV identity: a MAC address (EVCCID) comes as ``00:1a:2b:..``,
    ``00-1A-2B-..`` or ``001A2B..``, and an eMAID with or without its ``-`` separators
    (ISO 15118-2 Annex H), depending on the charger."""
    return "".join(ch for ch in value.strip().upper() if ch not in ":-. ")


def _number(name: str, value, low: float, high: float, low_open: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VehicleError(f"{name} must be a number")
    ok = (low < value if low_open else low <= value) and value <= high
    if not ok:  # NaN and infinities fail here too
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        raise VehicleError(f"{name} must be {bound} and <= {high:g}, got {value}")
    return float(value)


def _facts_of_model(name: str) -> dict:
    model = catalogue.model_named(name)
    if model is None:
        known = ", ".join(m.name for m in catalogue.models())
        raise VehicleError(f"unknown model {name!r}; the catalogue has: {known}")
    return {"model": model.name, **{k: getattr(model, k) for k in FACTS}}


def _check(fields: dict) -> dict:
    """The checked and normalised values of ``fields`` (a whole vehicle's or a change's)."""
    out = dict(fields)
    if "name" in out:
        name = (out["name"] or "").strip()
        if not 0 < len(name) <= NAME_MAX:
            raise VehicleError(f"name has 1-{NAME_MAX} characters")
        out["name"] = name
    if "battery_wh" in out:
        out["battery_wh"] = _number("battery_wh", out["battery_wh"], 0.0, MAX_BATTERY_WH)
    if "ac_phases" in out:
        phases = out["ac_phases"]
        if isinstance(phases, bool) or phases not in (1, 2, 3):
            raise VehicleError(f"ac_phases is 1, 2 or 3, got {phases}")
        out["ac_phases"] = int(phases)
    if "ac_max_w" in out:
        out["ac_max_w"] = _number("ac_max_w", out["ac_max_w"], 0.0, AC_MAX_W)
    if "dc_max_w" in out:
        out["dc_max_w"] = _number("dc_max_w", out["dc_max_w"], 0.0, MAX_DC_W, low_open=False)
    if "v2g" in out and not isinstance(out["v2g"], bool):
        raise VehicleError("v2g is true or false")
    if out.get("id_token") is not None:
        token = out["id_token"].strip()
        if not 0 < len(token) <= TOKEN_MAX:
            raise VehicleError(f"id_token has 1-{TOKEN_MAX} characters")
        out["id_token"] = token
    if out.get("ev_id") is not None:
        ev_id = normalise_ev_id(out["ev_id"])
        if not 0 < len(ev_id) <= EV_ID_MAX:
            raise VehicleError(f"ev_id has 1-{EV_ID_MAX} characters (separators removed)")
        out["ev_id"] = ev_id
    return out


def _check_whole(row: VehicleRow) -> None:
    """Rules between fields, on the vehicle as it will be stored."""
    limit_w = AC_MAX_W_PER_PHASE * row.ac_phases
    if row.ac_max_w > limit_w:
        raise VehicleError(f"ac_max_w {row.ac_max_w:g} W is more than {row.ac_phases} phase(s) "
                           f"carry ({limit_w:g} W: {MAX_AC_CURRENT_A:g} A per phase at "
                           f"{VOLTAGE_V:g} V)")


def _check_unique(session: Session, row: VehicleRow) -> None:
    for column, label in ((VehicleRow.name, "name"), (VehicleRow.id_token, "id_token"),
                          (VehicleRow.ev_id, "ev_id")):
        value = getattr(row, label)
        if value is None:
            continue
        other = session.exec(select(VehicleRow).where(column == value,
                                                      VehicleRow.id != row.id)).first()
        if other is not None:
            raise VehicleConflict(f"vehicle {other.id} ({other.name!r}) already has {label} "
                                  f"{value!r}")
    if row.id_token is not None and session.get(IdTokenRow, row.id_token) is None:
        raise VehicleError(f"unknown id token {row.id_token!r}; add it to the authorization "
                           "list (/api/v1/id-tokens) first")


def create_vehicle(session: Session, fields: dict, now: datetime) -> VehicleRow:
    """A new vehicle from ``fields`` (``name``; ``model`` and/or the facts)."""
    fields = {k: v for k, v in fields.items() if k in EDITABLE and v is not None}
    base = _facts_of_model(fields["model"]) if fields.get("model") else {}
    values = _check({**base, **fields})
    missing = [k for k in ("name", "battery_wh", "ac_max_w") if k not in values]
    if missing:
        raise VehicleError(f"{', '.join(missing)} required (or a catalogue model)")
    row = VehicleRow(**values, created_at=now)
    _check_whole(row)
    _check_unique(session, row)
    session.add(row)
    session.flush()
    return row


def update_vehicle(session: Session, row: VehicleRow, fields: dict) -> VehicleRow:
    """Change the given fields; a new ``model`` brings its facts, except those given too. A
    null ``id_token`` / ``ev_id`` / ``model`` clears the link; other fields cannot be null."""
    fields = {k: v for k, v in fields.items() if k in EDITABLE}
    for key, value in fields.items():
        if value is None and key not in ("id_token", "ev_id", "model"):
            raise VehicleError(f"{key} cannot be null")
    base = _facts_of_model(fields["model"]) if fields.get("model") else {}
    values = _check({**base, **fields})
    before = {k: getattr(row, k) for k in values}
    for key, value in values.items():
        setattr(row, key, value)
    try:
        with session.no_autoflush:  # check before the changed row is written
            _check_whole(row)
            _check_unique(session, row)
    except ValueError:
        for key, value in before.items():  # leave the session's object as it was
            setattr(row, key, value)
        raise
    session.add(row)
    session.flush()
    return row


def list_vehicles(session: Session, limit: int = 1000, offset: int = 0) -> list[VehicleRow]:
    return list(session.exec(select(VehicleRow).order_by(VehicleRow.id)
                             .offset(offset).limit(limit)).all())


def seed_catalogue(session: Session, now: datetime) -> list[VehicleRow]:
    """One vehicle per catalogue model, named after it, for the models not registered under
    that name yet (running it twice adds nothing). Returns the vehicles added."""
    existing = set(session.exec(select(VehicleRow.name)).all())
    added = []
    for model in catalogue.models():
        if model.name not in existing:
            added.append(create_vehicle(session, {"name": model.name, "model": model.name},
                                        now))
    return added


@dataclass
class ImportResult:
    created: list[VehicleRow] = field(default_factory=list)
    updated: list[VehicleRow] = field(default_factory=list)
    unchanged: list[VehicleRow] = field(default_factory=list)
    id_tokens_created: list[str] = field(default_factory=list)

    @property
    def vehicles(self) -> list[VehicleRow]:
        return sorted([*self.created, *self.updated, *self.unchanged], key=lambda v: v.id)


def _import_entries(entries) -> list[dict]:
    """The checked entries of an import: ``id_token`` and a catalogue ``model`` each, ``name``
    optional (default ``<id_token> <model>``); errors name the entry."""
    if not isinstance(entries, list):
        raise VehicleError("a fleet file is a JSON list of {id_token, model, name} objects")
    out, seen = [], {}
    for i, entry in enumerate(entries, 1):
        label = f"entry {i}"
        if not isinstance(entry, dict):
            raise VehicleError(f"{label}: not an object")
        token = entry.get("id_token")
        if not isinstance(token, str) or not token.strip():
            raise VehicleError(f"{label}: id_token (a string) is required")
        label = f"entry {i} ({token.strip()})"
        extra = sorted(set(entry) - {"id_token", "model", "name"})
        if extra:
            raise VehicleError(f"{label}: unknown field(s) {', '.join(extra)}")
        model = entry.get("model")
        if not isinstance(model, str):
            raise VehicleError(f"{label}: model (a catalogue model name) is required")
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise VehicleError(f"{label}: name must be a string")
        try:
            model = _facts_of_model(model)["model"]  # the catalogue's spelling
            values = _check({"id_token": token, "name": name or f"{token.strip()} {model}",
                             "model": model})
        except VehicleError as exc:
            raise VehicleError(f"{label}: {exc}") from None
        for key in ("id_token", "name"):
            if (values[key], key) in seen:
                raise VehicleError(f"{label}: {key} {values[key]!r} is also in "
                                   f"{seen[values[key], key]}")
            seen[values[key], key] = label
        out.append({**values, "label": label})
    return out


def import_fleet(session: Session, entries, now: datetime) -> ImportResult:
    """Register each entry's vehicle, with the facts of its catalogue model, linked to its id
    token; the token is added to the authorization list (Accepted) when it is not there (a
    token already there keeps its status). A vehicle is found by its id token, else by its
    name: an existing one gets the entry's name and model (and that model's facts, only when
    the model changes, so facts the operator corrected stay), nothing else. Idempotent.
    All or nothing: on a ``VehicleError`` / ``VehicleConflict`` (naming the entry) the
    caller rolls back."""
    result = ImportResult()
    for e in _import_entries(entries):
        label = e.pop("label")
        try:
            if session.get(IdTokenRow, e["id_token"]) is None:
                session.add(IdTokenRow(id_token=e["id_token"], status="Accepted",
                                       description=f"vehicle {e['name']}"[:255],
                                       created_at=now))
                session.flush()
                result.id_tokens_created.append(e["id_token"])
            row = session.exec(select(VehicleRow).where(
                VehicleRow.id_token == e["id_token"])).first() or session.exec(
                select(VehicleRow).where(VehicleRow.name == e["name"])).first()
            if row is None:
                result.created.append(create_vehicle(session, e, now))
                continue
            changes = {k: v for k, v in e.items() if getattr(row, k) != v}
            if not changes:
                result.unchanged.append(row)
                continue
            result.updated.append(update_vehicle(session, row, changes))
        except VehicleConflict as exc:
            raise VehicleConflict(f"{label}: {exc}") from None
        except VehicleError as exc:
            raise VehicleError(f"{label}: {exc}") from None
    return result
