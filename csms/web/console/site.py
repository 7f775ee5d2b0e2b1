"""The site the console shows: its row, tariff, grid connection and modelled day series.

Without any SiteRow the console uses an unsaved default site (150 kW, ONEE default tariff, no PV
or base load), so a fresh install still shows costs. Day series (base load, PV, frequency) are
pure functions of the site's fields and the day, cached per process.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta

import numpy as np
from sqlmodel import Session, select

from csms.grid.connection import GridConnection
from csms.store.tables import SiteRow
from csms.tariff import Tariff, load_tariff
from csms.tariff.daily import local_day_bounds

PERIOD_S = 900


def current_site(session: Session, site_id: int | None = None) -> SiteRow:
    if site_id is not None:
        row = session.get(SiteRow, site_id)
        if row is not None:
            return row
    row = session.exec(select(SiteRow).order_by(SiteRow.id).limit(1)).first()
    return row or SiteRow(id=None, name="default", created_at=datetime.fromtimestamp(0))


def tariff_of(site: SiteRow) -> Tariff:
    return _tariff(json.dumps(site.tariff or {}, sort_keys=True))


@functools.lru_cache(maxsize=32)
def _tariff(key: str) -> Tariff:
    data = json.loads(key)
    if not data or set(data) <= {"name"}:
        return load_tariff(data.get("name", "onee-default"))
    return load_tariff(data)


def connection_of(site: SiteRow) -> GridConnection:
    return GridConnection(voltage_level=site.voltage_level,
                          transformer_kva=site.transformer_kva,
                          short_circuit_mva=site.short_circuit_mva)


def day_bounds(site: SiteRow, now: datetime) -> tuple[datetime, datetime, int]:
    """(UTC start of the local day, its end, number of 15-min periods: 92/96/100 on DST days)."""
    start, end = local_day_bounds(tariff_of(site), now)
    return start, end, int((end - start).total_seconds() // PERIOD_S)


def day_series(site: SiteRow, day_start: datetime, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """(base load kW (T,), PV kW (T,)) of the local day starting at ``day_start``."""
    return _series(site.base_load_profile or "", float(site.base_load_peak_kw or 0.0),
                   float(site.pv_kwp or 0.0), day_start, periods)


@functools.lru_cache(maxsize=64)
def _series(profile: str, peak_kw: float, kwp: float, day_start: datetime, periods: int):
    base = np.zeros(periods)
    if profile and peak_kw > 0:
        from csms.grid.baseload import base_load_kw

        base = base_load_kw(profile, peak_kw, day_start, PERIOD_S, periods)
    pv = np.zeros(periods)
    if kwp > 0:
        from csms.grid.solar import pv_kw_periods

        pv = np.asarray(pv_kw_periods(kwp, day_start, PERIOD_S, periods), float)
    base.setflags(write=False)
    pv.setflags(write=False)
    return base, pv


def period_labels(day_start: datetime, periods: int, tz) -> list[str]:
    return [(day_start + timedelta(seconds=PERIOD_S * k)).astimezone(tz).strftime("%H:%M")
            for k in range(periods)]
