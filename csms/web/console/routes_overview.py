"""GET / : the overview. Its live block (counts, power, alerts) refreshes every 2 s; today's
energy, cost and savings (the site's KPIs, a day's meter data) in their own block every 30 s."""

from __future__ import annotations

import math
from datetime import datetime

from fastapi import APIRouter, Request

from csms import clock
from csms.web.console import overview, svg
from csms.web.console.i18n import translate
from csms.web.console.render import DB, CurrentUser, lang_of, page
from csms.web.console.site import current_site, period_labels, tariff_of

router = APIRouter()


def silent_chargers(request: Request) -> list[tuple[str, float]]:
    """Connected chargers silent for three heartbeat intervals (of CSMS time, in wall s)."""
    services = request.app.state.services
    interval_s = clock.current().wall_seconds(3.0 * services.settings.heartbeat_interval_s)
    return services.gateway.silent(interval_s)


@router.get("/")
def overview_page(request: Request, session: DB, user: CurrentUser):
    now = clock.now()
    block = request.query_params.get("block")
    ov = overview.build(session, now, silent_chargers(request)) if block != "today" else None
    kpis = overview.today(session, now) if block != "live" else None
    return page(request, "overview.html", user, "overview", blocks=("live", "today"), ov=ov,
                kpis=kpis, soc_chart=_soc_chart(request, user, session, kpis),
                eff_chart=_efficiency_chart(request, user, kpis))


def _soc_chart(request: Request, user, session, kpis: dict | None):
    """The fleet's mean reported SoC per 15 min today, as the KPIs give it; None if no car
    reported one."""
    if not kpis or not any(v is not None for v in kpis["ev"]["soc_trend"]["mean_pct"]):
        return None
    lang = lang_of(request, user)
    site = current_site(session, kpis["site_id"])
    day_start = datetime.fromisoformat(kpis["day_start"])
    mean = [math.nan if v is None else v for v in kpis["ev"]["soc_trend"]["mean_pct"]]
    labels = period_labels(day_start, len(mean), tariff_of(site).tz)
    return svg.line_chart(translate(lang, "soc_trend"), labels,
                          [(translate(lang, "avg_soc"), mean)], unit="%", y_min=0.0)


def _efficiency_chart(request: Request, user, kpis: dict | None):
    """Each session's mean power against its estimated efficiency, as the KPIs give them."""
    if not kpis or not kpis["ev"]["efficiency"]["points"]:
        return None
    lang = lang_of(request, user)
    points = [(p["power_kw"], p["efficiency_pct"], f"#{p['session_id']}")
              for p in kpis["ev"]["efficiency"]["points"]]
    return svg.scatter_chart(translate(lang, "power_vs_efficiency"), points, "kW", "%",
                             (50.0, 100.0))
