"""Past days from the session rows: each session's energy spread evenly over its duration.

Used for monthly band costs, the cost trend and daily energy history (console and API). Meter samples are not
read here (a month of 1-minute samples is too many rows for a page); the spread is exact for
energy per day and an approximation of the timing within a session (stated on the pages).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from csms.store.tables import ChargerRow, SessionRow

PERIOD_S = 900


def spread_kw(intervals: list[tuple[float, float, float]], start_s: float, periods: int,
              period_s: float = PERIOD_S) -> np.ndarray:
    """(T,) mean kW per period of sessions given as (start_s, end_s, energy_wh), each drawing
    energy / duration evenly (one shorter than a second puts its energy in its period)."""
    out = np.zeros(periods)
    edges = start_s + np.arange(periods + 1) * period_s
    for a, b, wh in intervals:
        if wh <= 0:
            continue
        if b - a < 1.0:  # under a second: all of it in its period (no infinite kW)
            k = int((a - start_s) // period_s)
            if 0 <= k < periods:
                out[k] += wh / 1000.0 / (period_s / 3600.0)
            continue
        kw = wh / 1000.0 / ((b - a) / 3600.0)
        i0 = max(0, int((a - start_s) // period_s))
        i1 = min(periods, int(np.ceil((b - start_s) / period_s)))
        if i1 <= i0:
            continue
        overlap = np.clip(np.minimum(edges[i0 + 1:i1 + 1], b) - np.maximum(edges[i0:i1], a), 0, None)
        out[i0:i1] += kw * overlap / period_s
    return out


def session_intervals(session: Session, since: datetime, until: datetime, now: datetime,
                      site_id: int | None = None) -> list[tuple[float, float, float]]:
    """(start s, end s, Wh) of the sessions overlapping [since, until); of one site's chargers
    when ``site_id`` is given."""
    query = (select(SessionRow.started_at, SessionRow.stopped_at, SessionRow.energy_wh)
             .where(SessionRow.started_at < until,
                    sa.or_(SessionRow.stopped_at.is_(None), SessionRow.stopped_at >= since)))
    if site_id is not None:
        query = query.where(SessionRow.charger_id.in_(
            select(ChargerRow.id).where(ChargerRow.site_id == site_id)))
    rows = session.execute(query).all()
    out = []
    for started, stopped, wh in rows:
        if started is None or not wh:
            continue
        end = stopped or now
        out.append((started.timestamp(), max(end, started).timestamp(), float(wh)))
    return out


def days_kw(session: Session, first_day: datetime, days: int, now: datetime,
            site_id: int | None = None) -> np.ndarray:
    """(days * 96,) EV kW per 15-min from ``first_day`` (a UTC instant of a local midnight)."""
    until = first_day + timedelta(days=days)
    return spread_kw(session_intervals(session, first_day, until, now, site_id),
                     first_day.timestamp(), days * 96)
