"""/smart-charging: the site policy and its parameters, a what-if run, per-charger limits."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time

from fastapi import APIRouter, Depends, Form, Request

from csms import clock
from csms.charging import POLICIES
from csms.sites import service as site_service
from csms.sites.limits_now import limits_now
from csms.store.tables import SiteRow
from csms.web.console import auth, svg, whatif
from csms.web.console.i18n import translate
from csms.web.console.render import DB, CurrentUser, lang_of, page
from csms.web.console.site import current_site, day_bounds, period_labels, tariff_of

log = logging.getLogger(__name__)
router = APIRouter()
MAX_LIMIT_ROWS = 200


def _ctx(session, message=None, error=None, **extra) -> dict:
    site = current_site(session)
    return {"site": site, "policies": POLICIES, "message": message, "error": error,
            "control": limits_now(session, site.id, MAX_LIMIT_ROWS),
            "params_json": json.dumps(site.policy_params or {}, indent=1), **extra}


@router.get("/smart-charging")
def smart_page(request: Request, session: DB, user: CurrentUser):
    return page(request, "smart.html", user, "smart_charging", blocks=("policy", "control"),
                day=clock.now().astimezone(tariff_of(current_site(session)).tz).date().isoformat(),
                **_ctx(session))


def _save_policy(db_session, site_id: int | None, policy: str, params: dict, now) -> int:
    row = db_session.get(SiteRow, site_id) if site_id is not None else None
    if row is None:
        row = SiteRow(name="default", created_at=now)
        db_session.add(row)
    row.policy, row.policy_params = policy, params
    db_session.flush()
    return row.id


@router.post("/smart-charging/policy", dependencies=[Depends(auth.check_csrf)])
async def set_policy(request: Request, session: DB, user: CurrentUser, policy: str = Form(...),
                     params: str = Form("{}")):
    auth.require_role(user, "operator")
    lang = lang_of(request, user)
    error = None
    try:
        parsed = json.loads(params or "{}")
        if not isinstance(parsed, dict):
            raise ValueError("parameters must be a JSON object")
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}")
        # The API's rule for the parameters too (known names, units' bounds).
        site_service.validate({"policy_params": parsed})
    except (ValueError, json.JSONDecodeError) as exc:
        error = str(exc)
    if error is None:
        site = current_site(session)
        await request.app.state.services.worker.run(_save_policy, site.id, policy, parsed,
                                                     clock.now())
        log.info("console user %s set the site policy to %s", user.username, policy)
        session.expire_all()
    return page(request, "smart.html", user, "smart_charging", blocks=("policy",),
                **_ctx(session, None if error else translate(lang, "saved"), error))


@router.post("/smart-charging/whatif", dependencies=[Depends(auth.check_csrf)])
def run_whatif(request: Request, session: DB, user: CurrentUser, day: str = Form("")):
    lang = lang_of(request, user)
    site = current_site(session)
    tz = tariff_of(site).tz
    now = clock.now()
    try:
        chosen = date.fromisoformat(day) if day else now.astimezone(tz).date()
    except ValueError:
        chosen = now.astimezone(tz).date()
    day_start, _, periods = day_bounds(site, datetime.combine(chosen, time(12), tz).astimezone(UTC))
    result = whatif.run(session, site, day_start, periods, now)
    chart = None
    if result:
        labels = period_labels(day_start, periods, tz)
        chart = svg.line_chart(translate(lang, "whatif"), labels,
                               [(name, kw) for name, kw in result.import_kw.items()],
                               limit=float(site.capacity_kw),
                               limit_label=translate(lang, "limit"))
    return page(request, "smart.html", user, "smart_charging", blocks=("whatif",),
                result=result, chart=chart, day=chosen.isoformat(), **_ctx(session))
