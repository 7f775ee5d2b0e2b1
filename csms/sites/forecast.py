"""The cars a site should expect, from its own history (``csms.charging.forecast``).

Once per local day per site: the site's finished sessions of the last ``HISTORY_DAYS`` days
(arrival and departure in the site's local time, energy taken) are fitted against the ElaadNL
prior of the site's kind. The planner then leaves room for the cars still to come
(``csms.charging.controlled_power(..., future=...)``), so an online policy does not defer
energy into hours that the next arrivals will fill. A site without history expects nothing,
unless its operator says how many cars it expects a day (``policy_params``
``expected_arrivals_per_day``): then the prior's shape at that level from the first day, and
with history that level instead of the history's mean for the prior's share of the blend.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from csms.charging import DemandForecast, History, elaad_prior, fit_forecast
from csms.clock import SITE_TZ
from csms.store.tables import ChargerRow, SessionRow, SiteRow

HISTORY_DAYS = 28
# The ElaadNL class closest to a site's base-load profile.
ELAAD_KIND = {"office": "workplace", "residential": "private", "commercial": "public",
              "highway": "public"}


def site_forecast(session: Session, site_id: int, now: datetime) -> DemandForecast | None:
    """The site's demand forecast for the local day of ``now`` (None: no site or no history)."""
    site = session.get(SiteRow, site_id)
    if site is None:
        return None
    today = now.astimezone(SITE_TZ).date()
    first = today - timedelta(days=HISTORY_DAYS)
    since = datetime.combine(first, datetime.min.time(), SITE_TZ)
    until = datetime.combine(today, datetime.min.time(), SITE_TZ)
    expected = (site.policy_params or {}).get("expected_arrivals_per_day")
    rows = session.exec(select(SessionRow.started_received_at, SessionRow.stopped_received_at,
                               SessionRow.energy_wh).join(
        ChargerRow, ChargerRow.id == SessionRow.charger_id).where(
        ChargerRow.site_id == site_id, SessionRow.active == False,  # noqa: E712
        SessionRow.started_received_at >= since, SessionRow.started_received_at < until,
        SessionRow.stopped_received_at != None, SessionRow.energy_wh != None)).all()  # noqa: E711
    if not rows and expected is None:
        return None
    # Weekdays and weekends alike: a level too high for a quiet weekend only charges earlier.
    level = None if expected is None else (float(expected), float(expected))
    return fit_forecast(_history(rows, first, today - timedelta(days=1)) if rows else None,
                        elaad_prior(ELAAD_KIND.get(site.base_load_profile or "", "public")),
                        prior_arrivals_per_day=level)


def _history(rows, first: date, last: date) -> History:
    arrivals = [a.astimezone(SITE_TZ) for a, _, _ in rows]
    departures = [max(b, a).astimezone(SITE_TZ) for a, b, _ in rows]
    return History.from_sessions(arrivals, departures, [e / 1000.0 for _, _, e in rows],
                                 first, last)
