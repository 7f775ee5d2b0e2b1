"""/api/v1/vehicles: the fleet's vehicle registry (csms.fleet.registry), and
/api/v1/vehicle-models: the model catalogue the registry copies facts from."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from sqlalchemy.exc import IntegrityError

from csms import clock
from csms.fleet import catalogue, registry
from csms.fleet.status import charging_now
from csms.store.tables import VehicleRow
from csms.web.bounds import Id, Limit, Offset
from csms.web.deps import DB, Operator, Viewer
from csms.web.schemas import (
    FleetEntryIn,
    VehicleCatalogueOut,
    VehicleImportOut,
    VehicleIn,
    VehicleModelOut,
    VehicleOut,
    VehicleUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["vehicles"])


def _get(session, vehicle_id: int) -> VehicleRow:
    row = session.get(VehicleRow, vehicle_id)
    if row is None:
        raise HTTPException(404, f"vehicle {vehicle_id} not found")
    return row


def _out(session, rows: list[VehicleRow]) -> list[VehicleOut]:
    now = charging_now(session, rows)
    return [VehicleOut(**r.model_dump(),
                       session_id=now[r.id].session.id if r.id in now else None,
                       soc_pct=now[r.id].soc_pct if r.id in now else None) for r in rows]


def _write(session, change) -> VehicleRow:
    """Run a registry change and commit; its errors as HTTP 422 / 409."""
    try:
        row = change()
        session.commit()
    except registry.VehicleConflict as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    except registry.VehicleError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    except IntegrityError:  # a concurrent request took the same name, token or EV id
        session.rollback()
        raise HTTPException(409, "another vehicle has this name, id token or ev_id") from None
    return row


@router.get("/vehicles", response_model=list[VehicleOut], dependencies=[Viewer])
def list_vehicles(session: DB, limit: Limit = 1000, offset: Offset = 0):
    return _out(session, registry.list_vehicles(session, limit, offset))


@router.post("/vehicles", response_model=VehicleOut, status_code=201, dependencies=[Operator])
def create_vehicle(body: VehicleIn, session: DB):
    row = _write(session, lambda: registry.create_vehicle(session, body.model_dump(),
                                                          clock.now()))
    return _out(session, [row])[0]


@router.post("/vehicles/seed", response_model=list[VehicleOut], status_code=201,
             dependencies=[Operator])
def seed_vehicles(session: DB):
    """One vehicle per catalogue model not registered under its name yet (idempotent)."""
    added = _write(session, lambda: registry.seed_catalogue(session, clock.now()))
    return _out(session, added)


@router.post("/vehicles/import", response_model=VehicleImportOut, dependencies=[Operator])
def import_vehicles(body: list[FleetEntryIn], session: DB):
    """Register a fleet: each entry's vehicle from its catalogue model, linked to its id token
    (added, Accepted, when missing); found again by token or name, so importing twice changes
    nothing. All or nothing: 422 / 409 naming the entry."""
    entries = [e.model_dump(exclude_none=True) for e in body]
    result = _write(session, lambda: registry.import_fleet(session, entries, clock.now()))
    return VehicleImportOut(created=len(result.created), updated=len(result.updated),
                            unchanged=len(result.unchanged),
                            id_tokens_created=result.id_tokens_created,
                            vehicles=_out(session, result.vehicles))


@router.get("/vehicles/{vehicle_id}", response_model=VehicleOut, dependencies=[Viewer])
def get_vehicle(vehicle_id: Id, session: DB):
    return _out(session, [_get(session, vehicle_id)])[0]


@router.patch("/vehicles/{vehicle_id}", response_model=VehicleOut, dependencies=[Operator])
def update_vehicle(vehicle_id: Id, body: VehicleUpdate, session: DB):
    row = _get(session, vehicle_id)
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    _write(session, lambda: registry.update_vehicle(session, row, changes))
    return _out(session, [row])[0]


@router.delete("/vehicles/{vehicle_id}", status_code=204, dependencies=[Operator])
def delete_vehicle(vehicle_id: Id, session: DB):
    session.delete(_get(session, vehicle_id))
    session.commit()
    return Response(status_code=204)


@router.get("/vehicle-models", response_model=VehicleCatalogueOut, dependencies=[Viewer])
def vehicle_models():
    return VehicleCatalogueOut(
        citation=catalogue.citation(), licence=catalogue.licence(),
        models=[VehicleModelOut(**vars(m)) for m in catalogue.models()])
