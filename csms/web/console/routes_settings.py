"""/settings: sites (grid connection, tariff), chargers, id tokens, users, API tokens.

Everyone logged in can read; only admins change anything. Writes go through the store's
single writer (``services.worker``)."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Depends, Request
from sqlmodel import select

from csms import clock, security
from csms.charging import POLICIES
from csms.sites import service as site_service
from csms.sites.service import set_electrical
from csms.store.tables import ApiTokenRow, ChargerRow, IdTokenRow, SiteRow, UserRow
from csms.store.tokens import create_token
from csms.web.console import auth, site_forms
from csms.web.console.i18n import translate
from csms.web.console.render import DB, CurrentUser, lang_of, page

log = logging.getLogger(__name__)
router = APIRouter()
BASE_PROFILES = ("", "residential", "office", "commercial", "highway")


def _view(request, session, user, message=None, error=None, secret=None, form_error=None):
    """``form_error``: a refused per-site form (section, site id, message, the tariff draft),
    shown next to that form with what was typed; the stored values are unchanged."""
    sites = session.exec(select(SiteRow).order_by(SiteRow.id)).all()
    forms = {}
    for s in sites:
        mine = form_error if form_error and form_error["site_id"] == str(s.id) else None
        draft = mine["draft"] if mine and mine["section"] == "tariff" else None
        forms[s.id] = {"tariff": site_forms.tariff_view(s.tariff, draft),
                       "policy": site_forms.policy_view(s.policy_params),
                       "economics": site_forms.economics_view(s.economics),
                       "error": mine}
    return page(request, "settings.html", user, "settings",
                sites=sites, site_forms=forms, policies=POLICIES,
                chargers=session.exec(select(ChargerRow).order_by(ChargerRow.id).limit(200)).all(),
                id_tokens=session.exec(select(IdTokenRow).order_by(IdTokenRow.id_token)
                                       .limit(200)).all(),
                users=session.exec(select(UserRow).order_by(UserRow.username)).all(),
                api_tokens=session.exec(select(ApiTokenRow).order_by(ApiTokenRow.id)).all(),
                profiles=BASE_PROFILES, roles=auth.ROLES, message=message, error=error,
                secret=secret, json=json)


@router.get("/settings")
def settings_page(request: Request, session: DB, user: CurrentUser):
    return _view(request, session, user)


def _float(form, key, default=None):
    value = form.get(key, "")
    return float(value) if value not in ("", None) else default


def _site_fields(form) -> dict:
    """The site form as the fields sites.service.validate checks (the API's rule)."""
    fields = {"voltage_level": form.get("voltage_level"),
              "transformer_kva": _float(form, "transformer_kva"),
              "pv_kwp": _float(form, "pv_kwp", 0.0),
              "base_load_profile": form.get("base_load_profile") or None,
              "base_load_peak_kw": _float(form, "base_load_peak_kw", 0.0)}
    # The tariff has its own form (site_forms); a client that still posts it as JSON may.
    if form.get("tariff"):
        fields["tariff"] = json.loads(form["tariff"])
    if form.get("capacity_kw") not in ("", None):
        fields["capacity_kw"] = _float(form, "capacity_kw")
    return fields


def _site(db, form, now):
    site_id = form.get("site_id")
    row = db.get(SiteRow, int(site_id)) if site_id else None
    if row is None:
        row = SiteRow(name=form["name"].strip(), created_at=now)
        db.add(row)
    # The API's rule, not a second one (validated before the job runs, see ``validate``).
    for name, value in _site_fields(form).items():
        setattr(row, name, value)
    row.name = form["name"].strip() or row.name
    return None


def _charger(db, form, now):
    cid = form["charger_id"].strip()
    if not cid or len(cid) > 48 or ":" in cid:
        raise ValueError("a charger id has 1-48 characters and no ':'")
    row = db.get(ChargerRow, cid)
    secret = None
    if row is None:
        row = ChargerRow(id=cid, registered_at=now)
        secret = security.generate_charger_password()
        row.password_hash = security.hash_password(secret)
        db.add(row)
    row.site_id = int(form["site_id"]) if form.get("site_id") else None
    set_electrical(row, charger_type=form.get("charger_type") or None,
                   max_power_w=_float(form, "max_power_w"))
    row.description = form.get("description") or row.description
    return secret


def _charger_password(db, form, now):
    row = db.get(ChargerRow, form["charger_id"])
    if row is None:
        raise ValueError("unknown charger")
    secret = security.generate_charger_password()
    row.password_hash = security.hash_password(secret)
    return secret


def _id_token(db, form, now):
    token = form["id_token"].strip()
    if not token or len(token) > 36:
        raise ValueError("an id token has 1-36 characters")
    row = db.get(IdTokenRow, token) or IdTokenRow(id_token=token, created_at=now)
    row.status = form.get("status", "Accepted")
    row.description = form.get("description") or None
    db.add(row)


def _user(db, form, now):
    from csms.web.users_cli import upsert_user

    if form.get("role") not in auth.ROLES:
        raise ValueError("unknown role")
    upsert_user(db, form["username"].strip(), form["password"], form["role"],
                form.get("lang", "en"))


def _api_token(db, form, now):
    if form.get("revoke"):
        row = db.get(ApiTokenRow, int(form["revoke"]))
        if row is not None:
            row.revoked = True
        return None
    role = form.get("role", "viewer")
    if role not in auth.ROLES:
        raise ValueError("unknown role")
    return create_token(db, form.get("name") or "console", role)


def validate(section: str, form: dict, session) -> None:
    """Reject bad input before the writer thread sees it (a failing store job logs an error)."""
    if section == "site":
        site_service.validate(_site_fields(form))  # raises SiteError (a ValueError)
        name = (form.get("name") or "").strip()
        if not name:
            raise ValueError("a site needs a name")
        clash = session.exec(select(SiteRow).where(SiteRow.name == name)).first()
        if clash is not None and str(clash.id) != str(form.get("site_id") or ""):
            raise ValueError(f"a site named {name!r} exists")
    elif section == "charger":
        cid = (form.get("charger_id") or "").strip()
        if not cid or len(cid) > 48 or ":" in cid:
            raise ValueError("a charger id has 1-48 characters and no ':'")
        if _float(form, "max_power_w", 0.0) < 0:
            raise ValueError("max power must be >= 0")
    elif section == "charger_password":
        if session.get(ChargerRow, form.get("charger_id", "")) is None:
            raise ValueError("unknown charger")
    elif section == "id_token":
        if not 0 < len((form.get("id_token") or "").strip()) <= 36:
            raise ValueError("an id token has 1-36 characters")
    elif section == "user":
        if form.get("role") not in auth.ROLES:
            raise ValueError("unknown role")
        if not (form.get("username") or "").strip() or len(form.get("password") or "") < 8:
            raise ValueError("a user needs a name and a password of at least 8 characters")
    elif section == "api_token":
        if not form.get("revoke") and form.get("role", "viewer") not in auth.ROLES:
            raise ValueError("unknown role")


def _site_row(db, form) -> SiteRow:
    row = db.get(SiteRow, int(form.get("site_id") or 0))
    if row is None:
        raise ValueError("unknown site")
    return row


def _site_form_fields(section: str, form: dict, row: SiteRow) -> dict:
    """The per-site form as the fields of sites.service.update_site (the API's path)."""
    if section == "tariff":
        return {"tariff": site_forms.tariff_from_form(form, row.tariff)}
    if section == "policy":
        fields = {"policy_params": site_forms.policy_from_form(form)}
        if form.get("policy"):
            fields["policy"] = form["policy"]
        return fields
    return {"economics": site_forms.economics_from_form(form)}


def validate_site_form(section: str, form: dict, session) -> None:
    """Raise SiteFormError (message, tariff draft) unless the API's rule takes the form."""
    site_id = form.get("site_id") or ""
    if not site_id.isdigit() or session.get(SiteRow, int(site_id)) is None:
        raise SiteFormError(section, site_id, "unknown site")
    draft = None
    try:
        fields = _site_form_fields(section, form, session.get(SiteRow, int(site_id)))
        draft = fields.get("tariff")
        site_service.validate(fields)
    except ValueError as exc:  # SiteError and site_forms.FormError
        message = site_forms.explain(str(exc), draft) if draft else str(exc)
        raise SiteFormError(section, site_id, message, draft) from None


class SiteFormError(ValueError):
    def __init__(self, section: str, site_id: str, message: str, draft: dict | None = None):
        super().__init__(message)
        self.view = {"section": section, "site_id": site_id, "message": message,
                     "draft": draft if isinstance(draft, dict) and set(draft) != {"name"}
                     else None}


def _site_form(section):
    def action(db, form, now):
        row = _site_row(db, form)
        site_service.update_site(db, row.id, _site_form_fields(section, form, row))

    return action


SITE_FORMS = ("tariff", "policy", "economics")
ACTIONS = {**{section: _site_form(section) for section in SITE_FORMS}, "site": _site, "charger": _charger, "charger_password": _charger_password,
           "id_token": _id_token, "user": _user, "api_token": _api_token}


@router.post("/settings/{section}", dependencies=[Depends(auth.check_csrf)])
async def settings_post(request: Request, section: str, session: DB, user: CurrentUser):
    auth.require_role(user, "admin")
    lang = lang_of(request, user)
    action = ACTIONS.get(section)
    if action is None:
        return _view(request, session, user, error=f"unknown section {section!r}")
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if section in SITE_FORMS:
        try:
            validate_site_form(section, form, session)
        except SiteFormError as exc:
            return _view(request, session, user, form_error=exc.view)
    try:
        validate(section, form, session)
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        return _view(request, session, user, error=f"{section}: {exc}")
    secret = await request.app.state.services.worker.run(action, form, clock.now())
    log.info("console user %s changed settings: %s", user.username, section)
    session.expire_all()
    return _view(request, session, user, message=translate(lang, "saved"), secret=secret)
