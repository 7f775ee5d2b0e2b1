"""Arrival profiles: when drivers arrive, how long they stay, how much energy they want.

Tables in ``simulators/data/arrivals.json`` (see its README for sources and licences):
office from ACN-Data, residential and commercial from ElaadNL, highway from a model. Shapes are
in local time (the site's time zone, Africa/Casablanca by default). Deterministic for a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import numpy as np

PROFILES = ("office", "residential", "commercial", "highway")
SITE_TZ = ZoneInfo("Africa/Casablanca")


@dataclass(frozen=True)
class Profile:
    """``*_share_pct`` shape (96,) per 15 min; ``*_quantiles`` shape (101,) at 0..100 %."""

    name: str
    weekday_share_pct: np.ndarray
    weekend_share_pct: np.ndarray
    sessions_per_charger_weekday: float
    sessions_per_charger_weekend: float
    dwell_h_quantiles: np.ndarray | None
    energy_kwh_quantiles: np.ndarray | None
    arrival_soc_pct_range: tuple[float, float] = (10.0, 35.0)
    target_soc_pct: float = 80.0


@dataclass(frozen=True)
class Arrival:
    at: datetime  # aware UTC
    dwell_s: float | None  # None: leaves when the charge reaches target (highway)
    energy_wh: float | None  # None: charge to target (highway)
    u_vehicle: float  # uniform draw for the fleet mix, so vehicles are seeded too
    arrival_soc_pct: float


@cache
def _tables() -> dict:
    return json.loads(resources.files("simulators.data").joinpath("arrivals.json").read_text())


@cache
def load_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {PROFILES}")
    t = _tables()[name]

    def arr(key: str) -> np.ndarray | None:
        return np.asarray(t[key], dtype=float) if key in t else None
    return Profile(name, arr("arrival_share_weekday_pct"), arr("arrival_share_weekend_pct"),
                   t["sessions_per_charger_per_day_weekday"],
                   t["sessions_per_charger_per_day_weekend"],
                   arr("dwell_h_quantiles"), arr("energy_kwh_quantiles"),
                   tuple(t.get("arrival_soc_pct_range", (10.0, 35.0))),
                   float(t.get("target_soc_pct", 80.0)))


def _quantile(table: np.ndarray, u: float) -> float:
    return float(np.interp(u * 100.0, np.arange(table.size), table))


def day_arrivals(profile: Profile, day: date, evses: int, rng: np.random.Generator,
                 tz: ZoneInfo = SITE_TZ, scale: float = 1.0) -> list[Arrival]:
    """Arrivals for one local calendar day at a site of ``evses`` EVSEs, sorted by time.

    ``scale`` multiplies the data's sessions per EVSE per day (a busier or quieter site).
    """
    weekend = day.weekday() >= 5
    share = profile.weekend_share_pct if weekend else profile.weekday_share_pct
    rate = profile.sessions_per_charger_weekend if weekend else profile.sessions_per_charger_weekday
    n = int(rng.poisson(rate * evses * scale))
    slots = rng.choice(share.size, size=n, p=share / share.sum())
    midnight = datetime.combine(day, time(0), tz)
    out = []
    for slot in slots:
        minute = float(slot) * 15.0 + rng.uniform(0.0, 15.0)
        at = (midnight + timedelta(minutes=minute)).astimezone(ZoneInfo("UTC"))
        lo, hi = profile.arrival_soc_pct_range
        soc = float(rng.uniform(lo, hi))
        u_vehicle = float(rng.uniform())
        if profile.dwell_h_quantiles is None:
            out.append(Arrival(at, None, None, u_vehicle, soc))
            continue
        dwell_h = _quantile(profile.dwell_h_quantiles, float(rng.uniform()))
        energy_kwh = _quantile(profile.energy_kwh_quantiles, float(rng.uniform()))
        out.append(Arrival(at, dwell_h * 3600.0, energy_kwh * 1000.0, u_vehicle, soc))
    out.sort(key=lambda a: a.at)
    return out
