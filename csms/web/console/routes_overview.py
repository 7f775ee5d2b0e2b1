"""GET / : the overview, its live block refreshed by htmx every 2 s."""

from __future__ import annotations

from fastapi import APIRouter, Request

from csms import clock
from csms.web.console import energy, overview
from csms.web.console.render import DB, CurrentUser, page

router = APIRouter()


def today_load(request: Request) -> energy.TodayLoad:
    state = request.app.state
    if getattr(state, "console_load", None) is None:
        state.console_load = energy.TodayLoad()
    return state.console_load


def silent_chargers(request: Request) -> list[tuple[str, float]]:
    """Connected chargers silent for three heartbeat intervals (of CSMS time, in wall s)."""
    services = request.app.state.services
    interval_s = clock.current().wall_seconds(3.0 * services.settings.heartbeat_interval_s)
    return services.gateway.silent(interval_s)


@router.get("/")
def overview_page(request: Request, session: DB, user: CurrentUser):
    ov = overview.build(session, clock.now(), today_load(request), silent_chargers(request))
    return page(request, "overview.html", user, "overview", blocks=("live",), ov=ov)
