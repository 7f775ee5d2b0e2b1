"""Scenario JSON (docs/scenario.md) to a ``csms.charging.Problem``.

Times are ISO 8601 with an offset; internally aware UTC. A session may draw power only in the
periods lying entirely inside [arrival, departure). The tariff becomes two arrays (price per
period, peak band mask) here, so the charging engine never sees a tariff object.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from csms.charging import Problem, availability
from csms.sites.phases import PHASE_NAMES, phase_limits_kw, phase_weights

log = logging.getLogger(__name__)


def parse_time(text: str) -> datetime:
    """ISO 8601 with offset -> aware UTC datetime (a naive time is rejected)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} needs a UTC offset")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Session:
    id: str
    arrival: datetime
    departure: datetime
    energy_kwh: float
    max_kw: float = 7.0
    min_kw: float = 0.0
    phases: int = 1
    grid_phases: str | None = None    # the site phases its current flows on ("L2", "L1L2L3")
    v2g: bool = False
    discharge_max_kw: float = 0.0
    energy_floor_kwh: float = 0.0     # V2G: energy the battery may give beyond what it receives


@dataclass(frozen=True)
class Scenario:
    name: str
    start: datetime
    period_s: int
    periods: int
    capacity_kw: float | list[float]
    sessions: list[Session]
    base_load_kw: list[float] | None = None
    pv_kw: list[float] | None = None
    frequency_hz: list[float] | None = None
    tariff: str | dict = "onee-default"
    phase_limit_kw: float | None = None   # most one phase of the connection carries
    extra: dict = field(default_factory=dict)


def _series(value, periods: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value, float)
    if arr.ndim == 0:
        return np.full(periods, float(arr))
    if arr.shape != (periods,):
        raise ValueError(f"site.{name} must have {periods} values, got {arr.size}")
    return arr


def _grid_phases(value) -> str | None:
    if value is None:
        return None
    text = str(value).upper()
    if not re.fullmatch(r"(L[123]){1,3}", text):
        raise ValueError(f"grid_phases {value!r}: the site phases as L1, L2, L3 (e.g. 'L2', "
                         "'L1L2L3')")
    return text


def scenario_from_dict(data: dict) -> Scenario:
    site = data.get("site", {})
    sessions = []
    for n, s in enumerate(data.get("sessions", [])):
        v2g = bool(s.get("v2g", False))
        sessions.append(Session(
            id=str(s.get("id", n)), arrival=parse_time(s["arrival"]),
            departure=parse_time(s["departure"]), energy_kwh=float(s["energy_kwh"]),
            max_kw=float(s.get("max_kw", 7.0)), min_kw=float(s.get("min_kw", 0.0)),
            phases=int(s.get("phases", 1)), grid_phases=_grid_phases(s.get("grid_phases")), v2g=v2g,
            discharge_max_kw=float(s.get("discharge_max_kw", 0.0)) if v2g else 0.0,
            energy_floor_kwh=float(s.get("energy_floor_kwh", 0.0)) if v2g else 0.0))
    return Scenario(
        name=str(data.get("name", "scenario")), start=parse_time(data["start"]),
        period_s=int(data.get("period_s", 900)), periods=int(data.get("periods", 96)),
        capacity_kw=site.get("capacity_kw", 150.0), sessions=sessions,
        base_load_kw=site.get("base_load_kw"), pv_kw=site.get("pv_kw"),
        frequency_hz=site.get("frequency_hz"), tariff=site.get("tariff", "onee-default"),
        phase_limit_kw=None if site.get("phase_limit_kw") is None
        else float(site["phase_limit_kw"]))


def load_scenario(path: str | Path) -> Scenario:
    return scenario_from_dict(json.loads(Path(path).read_text()))


def tariff_arrays(tariff: str | dict, start: datetime, period_s: int,
                  periods: int) -> tuple[np.ndarray, np.ndarray]:
    """(price MAD/kWh (T,), peak band mask (T,)) of a tariff name or object."""
    from csms.tariff import load_tariff

    t = load_tariff(tariff)
    return (np.asarray(t.prices_mad_per_kwh(start, period_s, periods), float),
            np.asarray(t.peak_mask(start, period_s, periods), bool))


def to_problem(sc: Scenario) -> Problem:
    """The scenario as arrays: sessions N x periods T."""
    t = sc.periods
    arrival_s = np.array([(s.arrival - sc.start).total_seconds() for s in sc.sessions], float)
    departure_s = np.array([(s.departure - sc.start).total_seconds() for s in sc.sessions],
                           float)
    price, peak = tariff_arrays(sc.tariff, sc.start, sc.period_s, t)
    base = _series(sc.base_load_kw, t, "base_load_kw")
    pv = _series(sc.pv_kw, t, "pv_kw")
    matrix, limits = _phase_rows(sc, base, pv)
    return Problem(
        period_s=float(sc.period_s),
        available=availability(arrival_s, departure_s, t, sc.period_s).reshape(-1, t),
        energy_kwh=np.array([s.energy_kwh for s in sc.sessions], float),
        max_kw=np.array([s.max_kw for s in sc.sessions], float),
        min_kw=np.array([s.min_kw for s in sc.sessions], float),
        discharge_max_kw=np.array([s.discharge_max_kw for s in sc.sessions], float),
        phases=np.array([s.phases for s in sc.sessions], int),
        energy_floor_kwh=np.array([s.energy_floor_kwh for s in sc.sessions], float),
        capacity_kw=_series(sc.capacity_kw, t, "capacity_kw"),
        base_load_kw=base, pv_kw=pv,
        frequency_hz=_series(sc.frequency_hz, t, "frequency_hz"),
        price_mad_per_kwh=price, peak_mask=peak,
        constraint_matrix=matrix, constraint_limits_kw=limits,
        constraint_names=PHASE_NAMES if matrix is not None else (),
        session_ids=tuple(s.id for s in sc.sessions))


def _phase_rows(sc: Scenario, base: np.ndarray | None, pv: np.ndarray | None
                ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """With ``site.phase_limit_kw``: (3 x N, 3 x T) rows keeping each phase of the connection
    under it, as the CSMS does (``csms.sites.phases``): a session loads the phases named in its
    ``grid_phases`` evenly (balanced when not given), base load and PV a third on each."""
    if sc.phase_limit_kw is None:
        return None, None
    t = sc.periods
    # phase_weights(None) is the balanced share.
    matrix = np.column_stack([phase_weights(s.grid_phases) for s in sc.sessions]) \
        if sc.sessions else np.zeros((3, 0))
    zero = np.zeros(t)
    limits = phase_limits_kw(sc.phase_limit_kw, zero if base is None else base,
                             zero if pv is None else pv, np.zeros(3))
    return matrix, limits
