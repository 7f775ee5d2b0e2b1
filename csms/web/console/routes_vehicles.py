"""/vehicles: the fleet's vehicle registry (csms.fleet): the vehicles, what each is charging
now, and forms to add one (from a catalogue model or by its facts), link it to an id token or
an EV identity, delete it, or add the catalogue's models.

Everyone logged in can read; operators and admins change (the REST API's rule). The page only
formats what csms.fleet returns; figures are typed in kW / kWh and stored in W / Wh."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from csms import clock
from csms.fleet import catalogue, registry
from csms.fleet.status import charging_now
from csms.store.tables import IdTokenRow, VehicleRow
from csms.web.bounds import Id
from csms.web.console import auth
from csms.web.console.i18n import translate
from csms.web.console.render import DB, CurrentUser, lang_of, page
from csms.web.writes import write

log = logging.getLogger(__name__)
router = APIRouter()
PAGE_SIZE = 100
MAX_PAGE = 10_000


def _view(request, session, user, page_no: int = 1, message=None, error=None,
          status_code: int = 200):
    rows = registry.list_vehicles(session, PAGE_SIZE + 1, (page_no - 1) * PAGE_SIZE)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    tokens = session.exec(select(IdTokenRow.id_token).order_by(IdTokenRow.id_token)
                          .limit(500)).all()
    return page(request, "vehicles.html", user, "vehicles", blocks=("table",), rows=rows,
                charging=charging_now(session, rows), models=catalogue.models(),
                citation=catalogue.citation(), tokens=tokens, page_no=page_no, more=more,
                message=message, error=error, status_code=status_code)


@router.get("/vehicles")
def vehicles_page(request: Request, session: DB, user: CurrentUser,
                  page_no: int = Query(1, alias="page", ge=1, le=MAX_PAGE)):
    return _view(request, session, user, page_no)


def _watts(form: dict, key: str, scale: float = 1000.0) -> float | None:
    """A kW / kWh field as W / Wh; blank: None (the model's figure)."""
    text = (form.get(key) or "").strip()
    if not text:
        return None
    try:
        return float(text) * scale
    except ValueError:
        raise registry.VehicleError(f"{key}: {text!r} is not a number") from None


def _fields(form: dict) -> dict:
    phases = (form.get("ac_phases") or "").strip()
    return {"name": form.get("name", ""), "model": form.get("model") or None,
            "battery_wh": _watts(form, "battery_kwh"), "ac_max_w": _watts(form, "ac_kw"),
            "ac_phases": int(phases) if phases.isdigit() else (phases or None),
            "dc_max_w": _watts(form, "dc_kw"),
            # An unticked box is absent from the form; with a model, absent keeps its flag.
            "v2g": True if form.get("v2g") else (None if form.get("model") else False),
            "id_token": (form.get("id_token") or "").strip() or None,
            "ev_id": (form.get("ev_id") or "").strip() or None}


# A registry change's refusals, shown on the page (422).
REFUSALS = ((registry.VehicleError, 422, None), (registry.VehicleConflict, 422, None),
            (IntegrityError, 422, "another vehicle has this name, id token or EV identity"))


async def _change(request: Request, session, user, change, done: str):
    """Run a registry change ``change(db, form)`` from a console form in the store's writer:
    the page with a message, or the reason."""
    auth.require_role(user, "operator")
    lang = lang_of(request, user)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        result = await write(request, change, form, refusals=REFUSALS)
    except HTTPException as exc:
        return _view(request, session, user, error=exc.detail, status_code=422)
    session.expire_all()  # the page shows what the writer committed
    log.info("console user %s changed the vehicle registry", user.username)
    return _view(request, session, user, message=translate(lang, done, result))


@router.post("/vehicles", dependencies=[Depends(auth.check_csrf)])
async def add_vehicle(request: Request, session: DB, user: CurrentUser):
    now = clock.now()
    return await _change(request, session, user, lambda db, form: registry.create_vehicle(
        db, _fields(form), now), "saved")


@router.post("/vehicles/seed", dependencies=[Depends(auth.check_csrf)])
async def seed_vehicles(request: Request, session: DB, user: CurrentUser):
    now = clock.now()
    return await _change(request, session, user, lambda db, form: len(registry.seed_catalogue(
        db, now)), "vehicle_seeded")


def _existing(session, vehicle_id: int) -> VehicleRow:
    row = session.get(VehicleRow, vehicle_id)
    if row is None:
        raise registry.VehicleError(f"vehicle {vehicle_id} not found")
    return row


@router.post("/vehicles/{vehicle_id}/link", dependencies=[Depends(auth.check_csrf)])
async def link_vehicle(request: Request, vehicle_id: Id, session: DB, user: CurrentUser):
    def link(db, form):
        fields = {k: (form.get(k) or "").strip() or None for k in ("id_token", "ev_id")}
        return registry.update_vehicle(db, _existing(db, vehicle_id), fields)
    return await _change(request, session, user, link, "saved")


@router.post("/vehicles/{vehicle_id}/delete", dependencies=[Depends(auth.check_csrf)])
async def delete_vehicle(request: Request, vehicle_id: Id, session: DB, user: CurrentUser):
    return await _change(request, session, user, lambda db, form: db.delete(
        _existing(db, vehicle_id)), "vehicle_deleted")
