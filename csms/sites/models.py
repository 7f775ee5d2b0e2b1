"""A site's modelled facts, from its row: its tariff, its grid connection, its local day, and
its base-load and PV series. Pure functions of the row's fields (and the day), cached per
process; the control loop, the REST API and the console all read them here, so a PV curve or a
tariff is never computed two ways (the console once drew PV without the site's coordinates)."""

from __future__ import annotations

import functools
import json
from datetime import datetime

import numpy as np

from csms.grid.connection import GridConnection
from csms.tariff import Tariff, load_tariff
from csms.tariff.daily import local_day_bounds

DEFAULT_TARIFF_NAME = "onee-default"


def tariff_from_column(column: dict | None) -> Tariff:
    """The tariff a site's ``tariff`` column stands for: ``{"name": bundled}``, a whole tariff
    object, or nothing (the bundled default)."""
    return _tariff(json.dumps(column or {}, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _tariff(key: str) -> Tariff:
    data = json.loads(key)
    if not data or set(data) <= {"name"}:
        return load_tariff(data.get("name", DEFAULT_TARIFF_NAME))
    return load_tariff(data)


def tariff_of(site) -> Tariff:
    return tariff_from_column(site.tariff)


def connection_of(site) -> GridConnection:
    return GridConnection(voltage_level=site.voltage_level,
                          transformer_kva=site.transformer_kva,
                          short_circuit_mva=site.short_circuit_mva)


def day_bounds(site, now: datetime, step_s: int = 900) -> tuple[datetime, datetime, int]:
    """(UTC start of the site's local day, its end, number of steps: 92/96/100 periods of
    15 min on DST days)."""
    start, end = local_day_bounds(tariff_of(site), now)
    return start, end, int((end - start).total_seconds() // step_s)


def base_and_pv_kw(site, start: datetime, step_s: int, steps: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(base load kW (T,), PV kW (T,)) from ``start``, read-only arrays."""
    return _series(site.base_load_profile or "", float(site.base_load_peak_kw or 0.0),
                   float(site.pv_kwp or 0.0), site.latitude, site.longitude, start, step_s,
                   steps)


@functools.lru_cache(maxsize=128)
def _series(profile: str, peak_kw: float, kwp: float, latitude, longitude, start: datetime,
            step_s: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    from csms.grid.baseload import base_load_kw
    from csms.grid.solar import pv_kw_periods

    base = (np.asarray(base_load_kw(profile, peak_kw, start, step_s, steps), float)
            if profile and peak_kw > 0 else np.zeros(steps))
    pv = (np.asarray(pv_kw_periods(kwp, start, step_s, steps, latitude=latitude,
                                   longitude=longitude), float)
          if kwp > 0 else np.zeros(steps))
    base.setflags(write=False)
    pv.setflags(write=False)
    return base, pv
