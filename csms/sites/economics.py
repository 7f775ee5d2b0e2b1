"""A site's payback from its stored ROI inputs (``SiteRow.economics``) and its measured energy.

One function for the console's /costs page and ``GET /api/v1/sites/{id}/payback``: the pages
only format what :func:`site_payback` returns.

Measured basis: the last ``WINDOW_DAYS`` days of the site's sessions (each session's energy
spread evenly over its duration, as the console's history does), priced with the site's tariff
over exactly the time each session drew, scaled to a month. A site with a shorter history is
measured over what it has (at least a day): a new site's first day is not read as a month. Chargers are counted
by the payback model's kinds from their rating (``charger_kinds``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from csms.domain.charger_facts import default_rating_w
from csms.economics import Payback, PaybackInputs, payback
from csms.economics.payback import (
    CHARGER_CAPEX_MAD,
    INSTALLATION_MAD,
    MAINTENANCE_PCT_OF_HARDWARE_PER_YEAR,
    SELLING_PRICE_MAD_PER_KWH,
    SOFTWARE_MAD_PER_CHARGER_MONTH,
)
from csms.economics.savings import DAYS_PER_MONTH
from csms.sites.models import tariff_of
from csms.sites.service import CHARGER_KINDS
from csms.store.tables import ChargerRow, SessionRow, SiteRow
from csms.tariff import Tariff

WINDOW_DAYS = 30

DEFAULTS: dict = {
    "charger_capex_mad": dict(CHARGER_CAPEX_MAD),
    "installation_mad": dict(INSTALLATION_MAD),
    "maintenance_pct_of_hardware_per_year": MAINTENANCE_PCT_OF_HARDWARE_PER_YEAR,
    "software_mad_per_charger_month": SOFTWARE_MAD_PER_CHARGER_MONTH,
    "selling_price_mad_per_kwh": SELLING_PRICE_MAD_PER_KWH,
    "grid_connection_capex_mad": 0.0,
    "fleet_size": None,
}


def effective_inputs(stored: dict | None) -> dict:
    """The stored inputs over the defaults (per charger kind too: one kind may be set alone)."""
    stored = stored or {}
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
    for key, value in stored.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


def charger_kinds(session: Session, site_id: int | None = None) -> dict[str, int]:
    """Charger counts by the payback model's kinds (ac7, ac22, dc50, dc150); ``site_id`` None:
    every charger (a CSMS with no site stored yet)."""
    out = dict.fromkeys(CHARGER_KINDS, 0)
    query = (select(ChargerRow.charger_type, ChargerRow.max_power_w, sa.func.count())
             .group_by(ChargerRow.charger_type, ChargerRow.max_power_w))
    if site_id is not None:
        query = query.where(ChargerRow.site_id == site_id)
    for ctype, max_w, n in session.execute(query):
        # A charger of unknown rating counts as the default EVSE the loop assumes (22 kW AC).
        w = max_w or default_rating_w(ctype)
        if (ctype or "").upper() == "DC":
            out["dc150" if w >= 100_000 else "dc50"] += n
        else:
            out["ac22" if w > 11_000 else "ac7"] += n
    return out


def measured_energy(session: Session, site_id: int | None, tariff: Tariff, since: datetime,
                    until: datetime) -> tuple[float, float]:
    """(kWh, MAD) the site's sessions drew in [since, until): each session's energy spread
    evenly over it, priced at the tariff's mean price over the part inside the window."""
    query = (select(SessionRow.started_at, SessionRow.stopped_at, SessionRow.energy_wh)
             .where(SessionRow.started_at < until, SessionRow.energy_wh > 0,
                    sa.or_(SessionRow.stopped_at.is_(None), SessionRow.stopped_at >= since)))
    if site_id is not None:
        query = query.join(ChargerRow, ChargerRow.id == SessionRow.charger_id).where(
            ChargerRow.site_id == site_id)
    t0, t1 = since.timestamp(), until.timestamp()
    starts, ends, kwh = [], [], []
    for started, stopped, wh in session.execute(query):
        a, b = started.timestamp(), max((stopped or until), started).timestamp()
        if b - a < 1.0:  # under a second: all of it at its instant (no division by ~0)
            if t0 <= a < t1:
                starts.append(a)
                ends.append(a + 1.0)
                kwh.append(wh / 1000.0)
            continue
        lo, hi = max(a, t0), min(b, t1)
        if hi > lo:
            starts.append(lo)
            ends.append(hi)
            kwh.append(wh / 1000.0 * (hi - lo) / (b - a))
    if not kwh:
        return 0.0, 0.0
    prices = tariff.mean_over("price", since, until + timedelta(seconds=1),
                              np.asarray(starts), np.asarray(ends))
    energy = np.asarray(kwh)
    return float(energy.sum()), float((energy * prices).sum())


@dataclass(frozen=True)
class SitePayback:
    """What the payback of a site rests on, and the result (``months`` None: never)."""

    site_id: int | None
    inputs: dict  # the effective ROI inputs
    chargers: dict[str, int]
    window_days: float  # the measured span (at most WINDOW_DAYS, at least 1), scaled to a month
    energy_kwh_per_month: float
    energy_cost_mad_per_month: float
    energy_cost_mad_per_kwh: float
    result: Payback
    months: float | None
    capex_mad_per_vehicle: float | None
    margin_mad_per_vehicle_month: float | None

    def as_json(self) -> dict:
        out = asdict(self)
        out["result"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                         for k, v in asdict(self.result).items()}
        out["formula"] = ("months = capex_mad / margin_mad_per_month; margin = energy_kwh_per_month "
                          "* selling_price_mad_per_kwh - energy cost - opex; opex = hardware * "
                          "maintenance % / 12 + software per charger * chargers; never (null) "
                          "when the margin is not positive")
        return out


def site_payback(session: Session, site: SiteRow, now: datetime) -> SitePayback | None:
    """The site's payback from its ROI inputs and the last 30 days; None without chargers."""
    counts = charger_kinds(session, site.id)
    if not sum(counts.values()):
        return None
    inputs = effective_inputs(site.economics)
    tariff = tariff_of(site)  # csms.sites.models: the one reading of a site's tariff column
    window_days = _history_days(session, site, now)
    kwh, cost = measured_energy(session, site.id, tariff, now - timedelta(days=window_days), now)
    per_month = DAYS_PER_MONTH / window_days
    kwh, cost = kwh * per_month, cost * per_month
    result = payback(PaybackInputs(
        chargers=counts, energy_sold_kwh_per_month=kwh,
        energy_cost_mad_per_kwh=cost / kwh if kwh > 0 else 0.0,
        selling_price_mad_per_kwh=float(inputs["selling_price_mad_per_kwh"]),
        grid_connection_capex_mad=float(inputs["grid_connection_capex_mad"]),
        charger_capex_mad={k: float(v) for k, v in inputs["charger_capex_mad"].items()},
        installation_mad={k: float(v) for k, v in inputs["installation_mad"].items()},
        maintenance_pct_of_hardware_per_year=float(inputs["maintenance_pct_of_hardware_per_year"]),
        software_mad_per_charger_month=float(inputs["software_mad_per_charger_month"])))
    fleet = inputs.get("fleet_size")
    return SitePayback(
        site_id=site.id, inputs=inputs, chargers=counts, window_days=window_days,
        energy_kwh_per_month=kwh, energy_cost_mad_per_month=cost,
        energy_cost_mad_per_kwh=cost / kwh if kwh > 0 else 0.0, result=result,
        months=result.months if math.isfinite(result.months) else None,
        capex_mad_per_vehicle=result.capex_mad / fleet if fleet else None,
        margin_mad_per_vehicle_month=result.margin_mad_per_month / fleet if fleet else None)


def _history_days(session: Session, site: SiteRow, now: datetime) -> float:
    """Days of history behind the measured figures: from the site's creation or its first
    session, whichever is earlier, at most ``WINDOW_DAYS``, at least one."""
    first = session.execute(select(sa.func.min(SessionRow.started_at)).join(
        ChargerRow, ChargerRow.id == SessionRow.charger_id).where(
        ChargerRow.site_id == site.id)).scalar()
    starts = [t for t in (first, site.created_at) if t is not None]
    if not starts:
        return float(WINDOW_DAYS)
    since = min(starts)  # aware: UTCDateTime columns (and MIN of one) read back as UTC
    return min(float(WINDOW_DAYS), max(1.0, (now - since).total_seconds() / 86_400.0))


def estimated_session_costs(tariff: Tariff, rows, now: datetime) -> dict[int, float]:
    """Session id -> MAD of its energy, spread evenly over the session and priced at the
    tariff's mean price over it (the sessions list's estimate; a session's own page prices its
    register readings exactly). Sessions without energy or a start are left out."""
    kept = [r for r in rows if r.started_at is not None and (r.energy_wh or 0) > 0]
    if not kept:
        return {}
    starts = np.array([r.started_at.timestamp() for r in kept])
    ends = np.array([max((r.stopped_at or now).timestamp(), s + 1.0)
                     for r, s in zip(kept, starts, strict=True)])
    prices = tariff.mean_over("price", datetime.fromtimestamp(starts.min(), UTC),
                              datetime.fromtimestamp(ends.max() + 1.0, UTC), starts, ends)
    return {r.id: r.energy_wh / 1000.0 * float(p) for r, p in zip(kept, prices, strict=True)}
