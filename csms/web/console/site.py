"""The site the console shows, and its period labels.

Without any SiteRow the console uses an unsaved default site (150 kW, ONEE default tariff, no PV
or base load), so a fresh install still shows costs. Tariff, grid connection, local day and the
base-load and PV series are the application layer's (``csms.sites.models``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlmodel import Session, select

from csms.sites import models
from csms.sites.models import connection_of, tariff_of
from csms.store.tables import SiteRow

PERIOD_S = 900

__all__ = ["PERIOD_S", "connection_of", "current_site", "day_bounds", "day_series",
           "period_labels", "tariff_of"]


def current_site(session: Session, site_id: int | None = None) -> SiteRow:
    if site_id is not None:
        row = session.get(SiteRow, site_id)
        if row is not None:
            return row
    row = session.exec(select(SiteRow).order_by(SiteRow.id).limit(1)).first()
    return row or SiteRow(id=None, name="default", created_at=datetime.fromtimestamp(0))


def day_bounds(site: SiteRow, now: datetime) -> tuple[datetime, datetime, int]:
    """(UTC start of the local day, its end, number of 15-min periods: 92/96/100 on DST days)."""
    return models.day_bounds(site, now, PERIOD_S)


def day_series(site: SiteRow, day_start: datetime, periods: int) -> tuple[np.ndarray, np.ndarray]:
    """(base load kW (T,), PV kW (T,)) of the local day starting at ``day_start``."""
    return models.base_and_pv_kw(site, day_start, PERIOD_S, periods)


def period_labels(day_start: datetime, periods: int, tz) -> list[str]:
    return [(day_start + timedelta(seconds=PERIOD_S * k)).astimezone(tz).strftime("%H:%M")
            for k in range(periods)]
