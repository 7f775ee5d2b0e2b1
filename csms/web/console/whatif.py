"""What-if: every policy on one day's sessions of the site (oracle mode, csms.evaluate)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from csms.charging import ChargerLimits, to_charger_limits
from csms.domain.charger_facts import default_rating_w
from csms.domain.model import Policy
from csms.evaluate.run import evaluate
from csms.evaluate.scenario import Scenario
from csms.evaluate.scenario import Session as EvSession
from csms.store.tables import ChargerRow, SessionRow
from csms.web.console.site import PERIOD_S, day_series

log = logging.getLogger(__name__)
MAX_SESSIONS = 300  # keeps a what-if run within a few seconds on this hardware


@dataclass
class WhatIf:
    results: dict  # policy -> KPIs (csms.evaluate.metrics)
    import_kw: dict  # policy -> (T,) site import
    limits: list  # rows (session id, charger id, current_a, power_w, why) at ``period``
    # current_a / power_w: exactly the limit the loop sends in A per phase or in W
    # (csms.domain.electrical; DC chargers are limited in W, their A is the grid-side current)
    period: int | None
    sessions: int


def scenario_for_day(session: Session, site, day_start: datetime, periods: int, now: datetime
                     ) -> tuple[Scenario, dict, set]:
    """The day's sessions as a scenario; returns it, session id -> charger id and the ids of
    the sessions on DC chargers."""
    day_end = day_start + timedelta(seconds=PERIOD_S * periods)
    rows = session.execute(
        select(SessionRow.id, SessionRow.charger_id, SessionRow.started_at,
               SessionRow.stopped_at, SessionRow.energy_wh, ChargerRow.max_power_w,
               ChargerRow.charger_type)
        .join(ChargerRow, ChargerRow.id == SessionRow.charger_id, isouter=True)
        .where(SessionRow.started_at >= day_start, SessionRow.started_at < day_end,
               SessionRow.energy_wh > 0)
        .order_by(SessionRow.started_at).limit(MAX_SESSIONS)).all()
    sessions, owners, dc = [], {}, set()
    for sid, cid, started, stopped, wh, max_w, ctype in rows:
        max_kw = (max_w or default_rating_w(ctype)) / 1000.0
        departure = min(stopped or day_end, day_end)
        hours = (departure - started).total_seconds() / 3600.0
        if hours * 3600 < 2 * PERIOD_S:
            continue  # shorter than two periods: no 15-min schedule can shape it
        energy_kwh = min(wh / 1000.0, 0.95 * max_kw * (hours - PERIOD_S / 3600.0))
        sessions.append(EvSession(id=str(sid), arrival=started, departure=departure,
                                  energy_kwh=energy_kwh, max_kw=max_kw,
                                  phases=3 if max_kw > 7.4 else 1))
        owners[str(sid)] = cid
        if (ctype or "").upper() == "DC":
            dc.add(str(sid))
    base, pv = day_series(site, day_start, periods)
    tariff = site.tariff if set(site.tariff or {}) - {"name"} else \
        (site.tariff or {}).get("name", "onee-default")
    sc = Scenario(name=f"{site.name} {day_start.date()}", start=day_start, period_s=PERIOD_S,
                  periods=periods, capacity_kw=float(site.capacity_kw), sessions=sessions,
                  base_load_kw=list(base), pv_kw=list(pv), tariff=tariff)
    return sc, owners, dc


def displayed_limits(power_kw: np.ndarray, phases: np.ndarray, dc: np.ndarray
                     ) -> ChargerLimits:
    """The limits shown for planned powers (N,) kW on ``phases`` AC phases (``dc``: a DC
    charger, limited in W): the loop's own conversion (csms.domain.electrical)."""
    return to_charger_limits(power_kw, np.where(np.asarray(dc, bool), 0,
                                                np.asarray(phases, int)))


def run(session: Session, site, day_start: datetime, periods: int, now: datetime) -> WhatIf | None:
    sc, owners, dc = scenario_for_day(session, site, day_start, periods, now)
    if not sc.sessions:
        return None
    report = evaluate(sc, oracle=True, with_sessions=False)
    problem, schedules = report["_problem"], report["_schedules"]
    imports = {name: problem.site_import_kw(s.power_kw) for name, s in schedules.items()}
    k = int((now - day_start).total_seconds() // PERIOD_S)
    limits = []
    policy = site.policy if site.policy in schedules else Policy.LOAD_BALANCING
    if 0 <= k < periods and policy in schedules:
        sched = schedules[policy]
        present = problem.available[:, k]
        lim = displayed_limits(sched.power_kw[:, k], problem.phases,
                               np.array([sid in dc for sid in problem.session_ids], bool))
        for i in np.nonzero(present)[0]:
            sid = problem.session_ids[i]
            limits.append((sid, owners[sid], float(lim.current_a[i]), float(lim.power_w[i]),
                           str(sched.why[i, k])))
    return WhatIf(report["results"], imports, limits, k if 0 <= k < periods else None,
                  len(sc.sessions))


def day_count(session: Session, day_start: datetime, periods: int) -> int:
    day_end = day_start + timedelta(seconds=PERIOD_S * periods)
    return session.execute(select(sa.func.count()).select_from(SessionRow).where(
        SessionRow.started_at >= day_start, SessionRow.started_at < day_end)).scalar_one()
