"""What each registered vehicle is doing now: the active session charging it and that
session's latest SoC reading (for the REST API and the console alike)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session

from csms.fleet.identify import sessions_of_vehicles
from csms.sites.readings import latest_soc
from csms.store.tables import SessionRow, VehicleRow


@dataclass(frozen=True)
class Charging:
    session: SessionRow
    soc_pct: float | None  # None: the charger sends no SoC (most AC chargers)


def charging_now(session: Session, vehicles: Iterable[VehicleRow]) -> dict[int, Charging]:
    """Vehicle id -> its active session and SoC, for the vehicles charging now."""
    active = sessions_of_vehicles(session, vehicles)
    soc = latest_soc(session, [s.id for s in active.values()])
    return {vid: Charging(s, soc.get(s.id)) for vid, s in active.items()}
