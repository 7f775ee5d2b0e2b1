"""/api/v1/vehicles: the fleet's vehicle registry (csms.fleet.registry), and
/api/v1/vehicle-models: the model catalogue the registry copies facts from."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
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
from csms.web.writes import write

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


# A registry change's errors as HTTP 409 / 422 (IntegrityError: a concurrent request took
# the same name, token or EV id).
VEHICLE_ERRORS = ((registry.VehicleConflict, 409, None), (registry.VehicleError, 422, None),
                  (IntegrityError, 409, "another vehicle has this name, id token or ev_id"))


async def _write(request: Request, change, *args) -> list[VehicleOut]:
    """Run ``change(session, *args)`` in the store's writer; the vehicles it returns as
    VehicleOut, read once committed (a read has no place in the writer's batch)."""
    result = await write(request, change, *args, refusals=VEHICLE_ERRORS)
    return await _read_out(request, result if isinstance(result, list) else [result])


async def _read_out(request: Request, rows: list[VehicleRow]) -> list[VehicleOut]:
    return await request.app.state.services.worker.read(_out, rows)


@router.get("/vehicles", response_model=list[VehicleOut], dependencies=[Viewer])
def list_vehicles(session: DB, limit: Limit = 1000, offset: Offset = 0):
    return _out(session, registry.list_vehicles(session, limit, offset))


@router.post("/vehicles", response_model=VehicleOut, status_code=201, dependencies=[Operator])
async def create_vehicle(request: Request, body: VehicleIn):
    return (await _write(request, registry.create_vehicle, body.model_dump(), clock.now()))[0]


@router.post("/vehicles/seed", response_model=list[VehicleOut], status_code=201,
             dependencies=[Operator])
async def seed_vehicles(request: Request):
    """One vehicle per catalogue model not registered under its name yet (idempotent)."""
    return await _write(request, registry.seed_catalogue, clock.now())


@router.post("/vehicles/import", response_model=VehicleImportOut, dependencies=[Operator])
async def import_vehicles(request: Request, body: list[FleetEntryIn]):
    """Register a fleet: each entry's vehicle from its catalogue model, linked to its id token
    (added, Accepted, when missing); found again by token or name, so importing twice changes
    nothing. All or nothing: 422 / 409 naming the entry."""
    entries = [e.model_dump(exclude_none=True) for e in body]
    result = await write(request, registry.import_fleet, entries, clock.now(),
                         refusals=VEHICLE_ERRORS)
    return VehicleImportOut(created=len(result.created), updated=len(result.updated),
                            unchanged=len(result.unchanged),
                            id_tokens_created=result.id_tokens_created,
                            vehicles=await _read_out(request, result.vehicles))


@router.get("/vehicles/{vehicle_id}", response_model=VehicleOut, dependencies=[Viewer])
def get_vehicle(vehicle_id: Id, session: DB):
    return _out(session, [_get(session, vehicle_id)])[0]


@router.patch("/vehicles/{vehicle_id}", response_model=VehicleOut, dependencies=[Operator])
async def update_vehicle(request: Request, vehicle_id: Id, body: VehicleUpdate):
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    return (await _write(request, lambda session: registry.update_vehicle(
        session, _get(session, vehicle_id), changes)))[0]


@router.delete("/vehicles/{vehicle_id}", status_code=204, dependencies=[Operator])
async def delete_vehicle(request: Request, vehicle_id: Id):
    await write(request, lambda session: session.delete(_get(session, vehicle_id)))
    return Response(status_code=204)


@router.get("/vehicle-models", response_model=VehicleCatalogueOut, dependencies=[Viewer])
def vehicle_models():
    return VehicleCatalogueOut(
        citation=catalogue.citation(), licence=catalogue.licence(),
        models=[VehicleModelOut(**vars(m)) for m in catalogue.models()])
