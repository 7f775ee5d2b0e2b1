"""ACN-Data session CSV (Caltech, CC BY 4.0) to a Scenario on a site of our choosing.

Columns used: ``arrival``, ``departure`` (local time with offset), ``delivered_energy (kWh)``
(the energy the car really took: the demand; ``requested_energy`` holds placeholders such as
150.0), ``session_id``. Lines starting with ``#`` are comments (citation headers).

The what-if keeps each session's local wall-clock time and moves it to the site's time zone
(default Africa/Casablanca), so the tariff bands apply to the same hours of the day. Sessions
are given to ``chargers`` charge points first come, first served; a car that finds every
charger busy is turned away (counted in ``extra["turned_away"]``).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from csms.evaluate.scenario import Scenario, Session

log = logging.getLogger(__name__)

SITE_TZ = "Africa/Casablanca"


def read_rows(path: str | Path) -> list[dict]:
    path = Path(path)
    raw = gzip.open(path, "rt") if path.suffix == ".gz" else open(path, newline="")  # noqa: SIM115
    with raw:
        lines = [line for line in raw if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("".join(lines))))


def _wall(text: str, tz: ZoneInfo) -> datetime:
    """Same local wall-clock time, re-anchored in the site's time zone."""
    local = datetime.fromisoformat(text)
    return local.replace(tzinfo=None).replace(tzinfo=tz)


def acn_scenario(path: str | Path, chargers: int = 50, capacity_kw: float = 150.0,
                 max_kw: float = 6.6, start: datetime | None = None, days: int | None = None,
                 tariff: str | dict = "onee-default", period_s: int = 900,
                 site_tz: str = SITE_TZ, name: str | None = None) -> Scenario:
    """Sessions of an ACN-Data CSV as a Scenario (horizon: ``start`` local midnight + ``days``)."""
    tz = ZoneInfo(site_tz)
    rows = read_rows(path)
    sessions = []
    for row in rows:
        energy = float(row["delivered_energy (kWh)"])
        arrival, departure = _wall(row["arrival"], tz), _wall(row["departure"], tz)
        if energy <= 0 or departure <= arrival:
            continue
        sessions.append((arrival, departure, energy, row.get("session_id", "")))
    sessions.sort()
    if not sessions:
        raise ValueError(f"{path}: no usable sessions")
    if start is None:
        first = sessions[0][0]
        start = first.replace(hour=0, minute=0, second=0, microsecond=0)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=tz)
    if days is None:
        last = max(s[1] for s in sessions)
        days = max(1, (last - start).days + 1)
    end = start + timedelta(days=days)
    free_at = [start] * chargers
    kept, turned_away = [], 0
    for arrival, departure, energy, sid in sessions:
        if arrival < start or arrival >= end:
            continue
        slot = min(range(chargers), key=lambda c: free_at[c])
        if free_at[slot] > arrival:
            turned_away += 1
            continue
        free_at[slot] = departure
        kept.append(Session(id=sid or f"acn{len(kept)}", arrival=arrival,
                            departure=min(departure, end), energy_kwh=energy, max_kw=max_kw,
                            min_kw=0.0, phases=1))
    log.info("%s: %d sessions kept, %d turned away (all %d chargers busy)", path, len(kept),
             turned_away, chargers)
    periods = int(round((end - start).total_seconds() / period_s))
    return Scenario(name=name or Path(path).name, start=start, period_s=period_s,
                    periods=periods, capacity_kw=capacity_kw, sessions=kept, tariff=tariff,
                    extra={"turned_away": turned_away, "chargers": chargers})
