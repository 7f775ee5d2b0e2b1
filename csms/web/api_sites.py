"""/api/v1/sites: sites CRUD (capacity and policy change live), charger membership, the load
series, the state now, KPIs and the per-charger smart-charging state."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from csms import clock
from csms.sites import live, service
from csms.sites.kpis import site_kpis
from csms.sites.limits_now import limits_now
from csms.sites.load import site_load
from csms.store.tables import SiteRow
from csms.web.bounds import Id, check_window
from csms.web.deps import DB, Admin, Operator, Viewer
from csms.web.writes import write

SITE_ERRORS = ((service.SiteError, 422, None),)

router = APIRouter(prefix="/api/v1/sites", tags=["sites"])


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=80)
    latitude: float | None = None
    longitude: float | None = None
    voltage_level: str | None = None
    capacity_kw: float | None = None
    transformer_kva: float | None = None
    short_circuit_mva: float | None = None
    tariff: dict | None = None
    pv_kwp: float | None = None
    base_load_profile: str | None = None
    base_load_peak_kw: float | None = None
    policy: str | None = None
    policy_params: dict | None = None
    control_period_s: int | None = None
    economics: dict | None = Field(None, description="ROI inputs (csms.sites.service."
                                   "check_economics); an absent key is the default")


class ChargerAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phase_wiring: str | None = None
    max_power_w: float | None = Field(None, gt=0, description="rating of each EVSE, W")
    charger_type: str | None = None


def _out(row: SiteRow, charger_ids: list[str]) -> dict:
    return {**row.model_dump(), "chargers": charger_ids}


def _get(session, site_id: int) -> SiteRow:
    row = session.get(SiteRow, site_id)
    if row is None:
        raise HTTPException(404, f"site {site_id} not found")
    return row


def _wake(request: Request, site_id: int) -> None:
    control = getattr(request.app.state.services, "control", None)
    if control is not None:
        control.trigger_site(site_id)


@router.get("", dependencies=[Viewer])
def list_sites(session: DB):
    from sqlmodel import select

    rows = session.exec(select(SiteRow).order_by(SiteRow.id)).all()
    return [_out(r, [c.id for c in service.site_chargers(session, r.id)]) for r in rows]


@router.post("", status_code=201, dependencies=[Admin])
async def create_site(request: Request, body: SiteIn):
    if not body.name:
        raise HTTPException(422, "name is required")

    def create(session, fields: dict, now: datetime) -> dict:
        return _out(service.create_site(session, fields, now), [])

    return await write(request, create, body.model_dump(exclude_none=True), clock.now(),
                       refusals=SITE_ERRORS)


@router.get("/{site_id}", dependencies=[Viewer])
def get_site(site_id: Id, session: DB):
    row = _get(session, site_id)
    return _out(row, [c.id for c in service.site_chargers(session, site_id)])


@router.patch("/{site_id}", dependencies=[Operator])
async def update_site(request: Request, site_id: Id, body: SiteIn):
    """Change capacity, policy or anything else; the control loop re-plans at once."""

    def update(session, fields: dict) -> dict:
        _get(session, site_id)
        row = service.update_site(session, site_id, fields)
        return _out(row, [c.id for c in service.site_chargers(session, site_id)])

    out = await write(request, update, body.model_dump(exclude_unset=True),
                      refusals=SITE_ERRORS)
    _wake(request, site_id)
    return out


@router.delete("/{site_id}", status_code=204, dependencies=[Admin])
async def delete_site(request: Request, site_id: Id):
    if not await write(request, service.delete_site, site_id):
        raise HTTPException(404, f"site {site_id} not found")


@router.put("/{site_id}/chargers/{charger_id}", dependencies=[Admin])
async def assign_charger(request: Request, site_id: Id, charger_id: str, body: ChargerAssign):
    """Put a charger in the site (registering it if unknown) with its electrical facts."""

    def assign(session, now: datetime):
        _get(session, site_id)
        return service.assign_charger(session, site_id, charger_id, now, body.phase_wiring,
                                      body.max_power_w, body.charger_type)

    row = await write(request, assign, clock.now(), refusals=SITE_ERRORS)
    _wake(request, site_id)
    return {"charger_id": row.id, "site_id": row.site_id, "phase_wiring": row.phase_wiring,
            "max_power_w": row.max_power_w, "charger_type": row.charger_type}


@router.get("/{site_id}/load", dependencies=[Viewer])
def load(site_id: Id, session: DB, start: datetime | None = Query(None, alias="from"),
         end: datetime | None = Query(None, alias="to"), step_s: int = Query(60, ge=10, le=86_400)):
    """JSON arrays ``timestamps``, ``ev_kw``, ``ev_kw_per_phase``, ``base_kw``, ``pv_kw``,
    ``import_kw``, ``limit_kw``: each value is the mean over its step (default: the last 24 h)."""
    _get(session, site_id)
    end = clock.utc(end) if end is not None else clock.now()
    start = clock.utc(start) if start is not None else end - timedelta(days=1)
    check_window(start, end)
    if (end - start).total_seconds() / step_s > 20_000:
        raise HTTPException(422, "too many steps: raise step_s or shorten the window")
    return site_load(session, site_id, start, end, step_s).as_json()


@router.get("/{site_id}/payback", dependencies=[Viewer])
def site_payback(site_id: Id, session: DB):
    """Months to recover the capex from the site's ROI inputs and its last 30 days' energy
    (``months`` null: never, the monthly margin is not positive), with every term of the sum."""
    from csms.sites.economics import site_payback as compute

    result = compute(session, _get(session, site_id), clock.now())
    if result is None:
        return {"site_id": site_id, "months": None, "reason": "the site has no chargers"}
    return result.as_json()


@router.get("/{site_id}/live", dependencies=[Viewer])
def site_live(site_id: Id, session: DB):
    """The site now, as the console's overview shows it: its chargers' counts, EV power from
    the live readings, base load and PV of its models, SOC bands, utilisation per charger
    class and the grid KPIs."""
    return live.site_now(session, _get(session, site_id), clock.now()).as_json()


@router.get("/{site_id}/limits", dependencies=[Viewer])
def site_limits(site_id: Id, session: DB):
    """The control loop's limit now for each session in progress on the site, as the
    smart-charging page shows it: the limit as power and as sent, the binding constraint, the
    EVSE's measured draw, and whether the charger accepted, reads back and obeys it."""
    _get(session, site_id)
    return [r.as_json() for r in limits_now(session, site_id)]


@router.get("/{site_id}/kpis", dependencies=[Viewer])
def kpis(site_id: Id, session: DB):
    _get(session, site_id)
    return site_kpis(session, site_id, clock.now())
