"""Today's EV energy per 15-min period from the energy registers, its cost, a projection, and
the savings against uncontrolled charging of the same sessions.

Energy per period: each register sample adds (register - the session's previous register) to
the period of its timestamp; the first sample of a session started today counts from its
meter_start. Completed periods are cached per process (``TodayLoad``), so a request only reads
the samples of the current period: the overview stays fast with a day of 1-minute samples from
1,000 chargers. A sample replayed later with a timestamp in an already completed period is not
added to the cache (the sessions page, which reads the session rows, stays exact).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from csms.domain.charger_facts import default_rating_w
from csms.domain.model import ENERGY_REGISTER as REGISTER
from csms.store.tables import ChargerRow, MeterSampleRow, SessionRow


def accumulate(rows, baselines: dict, day_start_s: float, period_s: float,
               energy_wh: np.ndarray, last_wh: dict, by_session: dict) -> None:
    """Add register deltas to ``energy_wh`` (T,) in place.

    rows: (session_id, timestamp_s, register_wh) sorted by time. baselines: session_id ->
    register at its start (None: the first sample seen is the baseline). last_wh: session_id ->
    last register seen (updated). by_session: session_id -> Wh added today (updated)."""
    t = energy_wh.shape[0]
    for sid, ts_s, wh in rows:
        prev = last_wh.get(sid, baselines.get(sid))
        last_wh[sid] = wh if prev is None else max(prev, wh)
        if prev is None or wh <= prev:
            continue  # a first sample, or a non-monotonic register: nothing delivered
        k = int((ts_s - day_start_s) // period_s)
        if 0 <= k < t:
            energy_wh[k] += wh - prev
            by_session[sid] = by_session.get(sid, 0.0) + wh - prev


@dataclass
class _Day:
    start: datetime
    periods: int
    done_k: int  # periods [0, done_k) are complete and cached
    energy_wh: np.ndarray
    last_wh: dict
    by_session: dict


class TodayLoad:
    """Per-process cache of completed periods of today's EV energy series."""

    def __init__(self, period_s: int = 900) -> None:
        self.period_s = period_s
        self._day: _Day | None = None
        self._lock = threading.Lock()

    def energy_wh(self, session: Session, day_start: datetime, periods: int, now: datetime
                  ) -> tuple[np.ndarray, dict]:
        """((T,) Wh per period of the local day up to ``now``, session_id -> Wh today)."""
        with self._lock:
            day = self._day
            if day is None or day.start != day_start or day.periods != periods:
                day = self._day = _Day(day_start, periods, 0, np.zeros(periods), {}, {})
            k_now = min(periods, int((now - day_start).total_seconds() // self.period_s))
            t0 = day_start.timestamp()
            since = datetime.fromtimestamp(t0 + day.done_k * self.period_s, day_start.tzinfo)
            rows = _register_rows(session, since, now)
            baselines = _baselines(session, {r[0] for r in rows} - set(day.last_wh), day_start)
            boundary_s = t0 + k_now * self.period_s
            complete = [r for r in rows if r[1] < boundary_s]
            accumulate(complete, baselines, t0, self.period_s, day.energy_wh, day.last_wh,
                       day.by_session)
            day.done_k = max(day.done_k, k_now)
            energy, by_session = day.energy_wh.copy(), dict(day.by_session)
            accumulate([r for r in rows if r[1] >= boundary_s], baselines, t0, self.period_s,
                       energy, dict(day.last_wh), by_session)
            return energy, by_session


def _register_rows(session: Session, since: datetime, now: datetime) -> list[tuple]:
    m = MeterSampleRow
    query = (select(m.session_id, m.timestamp, m.value, m.unit)
             .where(m.charger_id.in_(select(ChargerRow.id)),  # index probe per charger
                    m.timestamp >= since, m.measurand == REGISTER, m.session_id.is_not(None),
                    sa.or_(m.phase.is_(None), m.phase == ""))
             .order_by(m.timestamp, m.id))
    return [(sid, ts.timestamp(), value * 1000.0 if unit == "kWh" else value)
            for sid, ts, value, unit in session.execute(query)]


def _baselines(session: Session, session_ids: set, day_start: datetime) -> dict:
    if not session_ids:
        return {}
    rows = session.execute(select(SessionRow.id, SessionRow.started_at, SessionRow.meter_start_wh)
                           .where(SessionRow.id.in_(session_ids)))
    return {sid: (wh if started is not None and started >= day_start else None)
            for sid, started, wh in rows}


@dataclass(frozen=True)
class TodaySessions:
    """Sessions that delivered energy today: start offset (s from day start), energy, max kW."""

    start_s: np.ndarray  # (N,)
    energy_wh: np.ndarray  # (N,)
    max_kw: np.ndarray  # (N,)


def today_sessions(session: Session, day_start: datetime, by_session: dict) -> TodaySessions:
    """The sessions that delivered energy today (``by_session``: id -> Wh today)."""
    rows = session.execute(
        select(SessionRow.id, SessionRow.started_at, ChargerRow.max_power_w,
               ChargerRow.charger_type)
        .join(ChargerRow, ChargerRow.id == SessionRow.charger_id, isouter=True)
        .where(SessionRow.id.in_(list(by_session)))).all() if by_session else []
    t0 = day_start.timestamp()
    start = [max(0.0, (s.timestamp() - t0)) if s else 0.0 for _, s, *_ in rows]
    energy = [by_session[sid] for sid, *_ in rows]
    max_kw = [(w or default_rating_w(ct)) / 1000.0 for *_, w, ct in rows]
    return TodaySessions(np.array(start, float), np.array(energy, float), np.array(max_kw, float))


def uncontrolled_wh(s: TodaySessions, period_s: float, periods: int) -> np.ndarray:
    """(T,) Wh if each session had charged at its max power from its start until its energy
    was delivered (the baseline for savings)."""
    edges = np.arange(periods + 1) * period_s  # (T+1,)
    ok = (s.energy_wh > 0) & (s.max_kw > 0)
    start, kw = s.start_s[ok, None], s.max_kw[ok, None]  # (N, 1)
    end = start + s.energy_wh[ok, None] / (kw * 1000.0) * 3600.0
    overlap_s = np.clip(np.minimum(edges[None, 1:], end) - np.maximum(edges[None, :-1], start),
                        0, None)  # (N, T)
    return (overlap_s / 3600.0 * kw * 1000.0).sum(axis=0)


@dataclass(frozen=True)
class CostToday:
    energy_kwh: float
    cost_mad: float
    projected_mad: float
    uncontrolled_mad: float

    @property
    def savings_mad(self) -> float:
        return self.uncontrolled_mad - self.cost_mad


def cost_today(energy_wh: np.ndarray, uncontrolled: np.ndarray, prices: np.ndarray,
               elapsed_periods: float) -> CostToday:
    """Cost of the EV energy per period (T,) at period prices (T,) MAD/kWh; the projection
    holds the mean energy per period so far for the rest of the day (persistence)."""
    kwh = energy_wh / 1000.0
    cost = float(np.sum(kwh * prices))
    projected = cost
    if elapsed_periods > 0:
        k = int(elapsed_periods)
        mean_kwh = float(kwh.sum()) / elapsed_periods
        rest = prices[k + 1:].sum() + (prices[k] * (k + 1 - elapsed_periods) if k < len(prices)
                                       else 0.0)
        projected = cost + mean_kwh * float(rest)
    return CostToday(float(kwh.sum()), cost, projected, float(np.sum(uncontrolled / 1000 * prices)))
