"""GET / : the overview. Its live block (counts, power, alerts) refreshes every 2 s; today's
energy, cost and savings (the site's KPIs, a day's meter data) in their own block every 30 s."""

from __future__ import annotations

from fastapi import APIRouter, Request

from csms import clock
from csms.web.console import overview
from csms.web.console.render import DB, CurrentUser, page

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
                kpis=kpis)
