"""A site's state now, from the store: fleet counts, the latest readings per EVSE, charger
classes, SOC bands, and the site's power and grid KPIs against its limit. The overview and
``GET /api/v1/sites/{id}/live`` both show ``site_now``; ``site_id`` None counts every charger
(a fresh install has no site yet).

Queries stay index-friendly at 1,000 chargers: counts are SQL aggregates, and live readings read
only samples received in the last ``LIVE_WINDOW_S`` through the (charger_id, received_at)
index: the ``charger_id IN (SELECT id FROM chargers)`` form makes SQLite probe that index once
per charger (a plain join scanned the whole samples table: 88 ms against 31 ms at 1,000
chargers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from csms.domain.charger_facts import charger_class
from csms.grid.model import grid_kpis
from csms.sites.models import base_and_pv_kw, connection_of, day_bounds
from csms.store.tables import ChargerRow, ConnectorRow, MeterSampleRow, SessionRow, SiteRow

LIVE_WINDOW_S = 600  # a reading received longer ago than this is not "live"
LIVE_MEASURANDS = ("Power.Active.Import", "Current.Import", "SoC")
CHARGING_STATUSES = ("Charging",)  # 1.6 status; 2.0.1 says it in the session's charging_state
PERIOD_S = 900  # the base-load and PV series' step
NOW_MEASURANDS = ("Power.Active.Import", "SoC")


@dataclass
class Counts:
    chargers: int = 0
    connected: int = 0
    charging: int = 0
    faulted: int = 0
    active_sessions: int = 0


@dataclass
class Reading:
    """Latest live values of one EVSE (None = not reported recently)."""

    power_w: float | None = None
    current_a: float | None = None  # highest phase
    soc_pct: float | None = None
    currents_a: dict = field(default_factory=dict)  # phase -> A


def site_chargers(site_id: int | None):
    """The ids of the site's chargers, as a subquery (every charger when ``site_id`` is None)."""
    query = select(ChargerRow.id)
    return query if site_id is None else query.where(ChargerRow.site_id == site_id)


def counts(session: Session, site_id: int | None = None) -> Counts:
    ids = site_chargers(site_id)
    total, connected = session.execute(select(
        sa.func.count(), sa.func.count().filter(ChargerRow.connected == True)  # noqa: E712
    ).select_from(ChargerRow).where(ChargerRow.id.in_(ids))).one()
    faulted = session.execute(select(sa.func.count(sa.distinct(ConnectorRow.charger_id)))
                              .where(ConnectorRow.status == "Faulted",
                                     ConnectorRow.charger_id.in_(ids))).scalar_one()
    charging_16 = select(ConnectorRow.charger_id).where(
        ConnectorRow.status.in_(CHARGING_STATUSES), ConnectorRow.evse_id > 0,
        ConnectorRow.charger_id.in_(ids))
    charging_201 = select(SessionRow.charger_id).where(
        SessionRow.active == True, SessionRow.charging_state == "Charging",  # noqa: E712
        SessionRow.charger_id.in_(ids))
    both = sa.union(charging_16, charging_201).subquery()
    charging = session.execute(select(sa.func.count()).select_from(both)).scalar_one()
    active = session.execute(select(sa.func.count()).select_from(SessionRow)
                             .where(SessionRow.active == True,  # noqa: E712
                                    SessionRow.charger_id.in_(ids))).scalar_one()
    return Counts(total, connected or 0, charging, faulted, active)


def live_readings(session: Session, now: datetime, charger_id: str | None = None,
                  measurands: tuple[str, ...] = LIVE_MEASURANDS, site_id: int | None = None
                  ) -> dict[tuple[str, int], Reading]:
    """(charger_id, evse_id) -> Reading from samples received in the last ``LIVE_WINDOW_S``
    (our clock: a charger's own timestamps may be minutes off).

    Rows come ordered as received, so the last one per key wins; no timestamp is selected (its
    conversion to an aware datetime was a third of this function's time at 1,000 chargers)."""
    m = MeterSampleRow
    query = (select(m.charger_id, m.evse_id, m.measurand, m.value, m.phase)
             .where(m.charger_id.in_(site_chargers(site_id)) if charger_id is None
                    else m.charger_id == charger_id,
                    m.received_at >= now - timedelta(seconds=LIVE_WINDOW_S),
                    m.measurand.in_(measurands))
             .order_by(m.id))
    out: dict[tuple[str, int], Reading] = {}
    phase_power: dict[tuple[str, int], dict] = {}
    for cid, evse, measurand, value, phase in session.execute(query):
        r = out.setdefault((cid, evse), Reading())
        if measurand == "Power.Active.Import":
            if phase in (None, "", "N"):
                r.power_w = value  # W: units are normalised at the OCPP edge
            else:
                phase_power.setdefault((cid, evse), {})[phase] = value
        elif measurand == "Current.Import":
            r.currents_a[phase or "L1"] = value
            r.current_a = max(r.currents_a.values())
        elif measurand == "SoC":
            r.soc_pct = value
    for key, phases in phase_power.items():
        if out[key].power_w is None:  # only per-phase power reported: the total is their sum
            out[key].power_w = sum(phases.values())
    return out


def utilisation(session: Session, site_id: int | None = None) -> dict[str, tuple[int, int]]:
    """class -> (connectors charging or occupied by an active session, connectors)."""
    rows = session.execute(
        select(ChargerRow.charger_type, ChargerRow.max_power_w, ConnectorRow.status,
               sa.func.count())
        .join(ChargerRow, ChargerRow.id == ConnectorRow.charger_id)
        .where(ConnectorRow.evse_id > 0, ConnectorRow.charger_id.in_(site_chargers(site_id)))
        .group_by(ChargerRow.charger_type, ChargerRow.max_power_w, ConnectorRow.status))
    out = {"ac": [0, 0], "dc_fast": [0, 0], "dc_ultra": [0, 0]}
    for ctype, max_w, status, n in rows:
        entry = out[charger_class(ctype, max_w)]
        entry[1] += n
        if status in ("Charging", "Occupied", "SuspendedEV", "SuspendedEVSE"):
            entry[0] += n
    return {k: (v[0], v[1]) for k, v in out.items()}


SOC_BANDS = ("optimal", "good", "critical")


def soc_bands(socs: list[float]) -> dict[str, int]:
    """Counts of SOC values in the brief's bands: optimal > 70 %, good 50-70 %, critical < 50 %.
    Measured: the SOC the EVs report (1.6/2.0.1 MeterValues ``SoC``), never estimated here."""
    out = dict.fromkeys(SOC_BANDS, 0)
    for s in socs:
        out["optimal" if s > 70 else "good" if s >= 50 else "critical"] += 1
    return out


@dataclass(kw_only=True)
class SiteNow:
    """A site's state now: measured (EV power, SOC as reported, counts) and modelled (the
    base load and PV of the site's models at this quarter hour, the grid KPIs from them)."""

    site_id: int | None
    site_name: str
    counts: Counts
    ev_kw: float
    base_kw: float
    pv_kw: float
    site_kw: float  # base + EV - PV
    limit_kw: float
    soc_bands: dict
    avg_soc_pct: float | None
    soc_reported: int  # cars that reported their SOC in the live window
    utilisation: dict
    grid_now: dict  # kpi -> (value, limit, ok)

    @property
    def load_pct(self) -> float:
        return 100.0 * self.site_kw / self.limit_kw if self.limit_kw > 0 else 0.0

    def as_json(self) -> dict:
        out = asdict(self)
        out["load_pct"] = self.load_pct
        out["utilisation"] = {k: {"busy": b, "total": n} for k, (b, n) in self.utilisation.items()}
        out["grid_now"] = {k: {"value": v, "limit": lim, "ok": ok}
                           for k, (v, lim, ok) in self.grid_now.items()}
        return out


def grid_now(site: SiteRow, base_kw: float, ev_kw: float, pv_kw: float) -> dict:
    """kpi -> (value, limit, within it) of the site's grid connection at these powers (the EV
    load spread evenly on the three phases)."""
    k = grid_kpis(connection_of(site), np.array([base_kw]), np.full((1, 3), ev_kw / 3.0),
                  np.array([pv_kw]))
    th = k.thresholds
    voltage = float(k.voltage_deviation_pct[0])
    thd = float(k.voltage_thd_pct[0])
    pf = float(k.power_factor[0])
    unbalance = float(k.voltage_unbalance_pct[0])
    transformer = float(k.transformer_loading_pct[0])
    return {
        "voltage": (voltage, th.voltage_deviation_max_pct,
                    abs(voltage) <= th.voltage_deviation_max_pct),
        "thd": (thd, k.voltage_thd_limit_pct, thd <= k.voltage_thd_limit_pct),
        "pf": (pf, th.power_factor_min, pf >= th.power_factor_min),
        "unbalance": (unbalance, th.voltage_unbalance_max_pct,
                      unbalance <= th.voltage_unbalance_max_pct),
        "transformer": (transformer, th.transformer_loading_max_pct,
                        transformer <= th.transformer_loading_max_pct),
    }


def site_now(session: Session, site: SiteRow, now: datetime,
             readings: dict[tuple[str, int], Reading] | None = None) -> SiteNow:
    """``readings``: the site's live readings when the caller already has them."""
    if readings is None:
        readings = live_readings(session, now, measurands=NOW_MEASURANDS, site_id=site.id)
    ev_kw = sum(r.power_w or 0.0 for r in readings.values()) / 1000.0
    day_start, _, periods = day_bounds(site, now, PERIOD_S)
    base, pv = base_and_pv_kw(site, day_start, PERIOD_S, periods)
    k = min(int((now - day_start).total_seconds() // PERIOD_S), periods - 1)
    base_kw, pv_kw = float(base[k]), float(pv[k])
    socs = [r.soc_pct for r in readings.values() if r.soc_pct is not None]
    return SiteNow(site_id=site.id, site_name=site.name, counts=counts(session, site.id),
                   ev_kw=ev_kw, base_kw=base_kw, pv_kw=pv_kw, site_kw=base_kw + ev_kw - pv_kw,
                   limit_kw=float(site.capacity_kw), soc_bands=soc_bands(socs),
                   avg_soc_pct=float(np.mean(socs)) if socs else None,
                   soc_reported=len(socs), utilisation=utilisation(session, site.id),
                   grid_now=grid_now(site, base_kw, ev_kw, pv_kw))
