"""A site's past sessions from an ACN-Data CSV, for the demand forecast of an online what-if.

The history of a day is the ``days`` days before it, read from the same file as the day itself
(the site's own history), wall-clock times moved to the site's time zone as in ``acn``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from csms.charging.forecast import DemandForecast, History, fit_forecast
from csms.charging.prior import elaad_prior
from csms.evaluate.acn import SITE_TZ, _wall, read_rows

HISTORY_DAYS = 28


def acn_history(path: str | Path, before: datetime, days: int = HISTORY_DAYS,
                site_tz: str = SITE_TZ) -> History:
    """Sessions arriving in the ``days`` local days before ``before`` (a local midnight), or
    fewer when the file starts later: a day before the file's first is unknown, not empty."""
    tz = ZoneInfo(site_tz)
    if before.tzinfo is None:
        before = before.replace(tzinfo=tz)
    rows = read_rows(path)
    first = min((_wall(r["arrival"], tz) for r in rows), default=before)
    since = max(before - timedelta(days=days),
                first.replace(hour=0, minute=0, second=0, microsecond=0))
    arrivals, departures, energy = [], [], []
    for row in rows:
        kwh = float(row["delivered_energy (kWh)"])
        arrival, departure = _wall(row["arrival"], tz), _wall(row["departure"], tz)
        if kwh <= 0 or departure <= arrival or not since <= arrival < before:
            continue
        arrivals.append(arrival)
        departures.append(departure)
        energy.append(kwh)
    return History.from_sessions(arrivals, departures, energy, since.date(),
                                 (before - timedelta(days=1)).date())


def acn_forecast(path: str | Path, before: datetime, days: int = HISTORY_DAYS,
                 kind: str = "workplace", site_tz: str = SITE_TZ) -> DemandForecast:
    """The forecast of a day from the site's history, with the ElaadNL ``kind`` as prior."""
    return fit_forecast(acn_history(path, before, days, site_tz), elaad_prior(kind))
