"""Page rendering: Jinja2 templates with named blocks (jinja2-fragments), the page context and
the logged-in user dependency. An htmx request with ``?block=NAME`` gets only that block."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from jinja2_fragments.fastapi import Jinja2Blocks
from sqlmodel import Session

from csms import clock
from csms.domain.clock_offset import clock_alert
from csms.web.console import auth, i18n

# templates/ at the repository root (a source checkout); csms/templates if a packager moves
# them inside the package (pyproject's package-data already ships csms/templates/**).
_CANDIDATES = (Path(__file__).resolve().parents[2] / "templates",
               Path(__file__).resolve().parents[3] / "templates")
TEMPLATES_DIR = next((d for d in _CANDIDATES if (d / "base.html").is_file()), _CANDIDATES[1])
LOCAL_TZ = ZoneInfo("Africa/Casablanca")
templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
LANG_COOKIE = "csms_lang"


def _local(dt, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return dt.astimezone(LOCAL_TZ).strftime(fmt) if dt else "-"


def time_base() -> str:
    """The one time base of every page, stated in its footer: the site's zone and its UTC
    offset now (Morocco moves it for Ramadan)."""
    offset = clock.now().astimezone(LOCAL_TZ).strftime("%z")
    return f"{LOCAL_TZ.key} (UTC{offset[:3]}:{offset[3:]})"


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if round(value, digits) == 0:
        value = 0.0  # never "-0.00"
    return f"{value:,.{digits}f}".replace(",", "\u202f")


templates.env.filters["local"] = _local
templates.env.filters["num"] = _num
templates.env.globals["clock_alert"] = clock_alert


def db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.services.engine, expire_on_commit=False) as session:
        yield session


DB = Annotated[Session, Depends(db)]


def user_dep(request: Request, session: DB) -> auth.User:
    user = auth.current_user(request, session)
    if user is None:
        raise auth.LoginRequired()
    request.state.user = user
    return user


CurrentUser = Annotated[auth.User, Depends(user_dep)]


def lang_of(request: Request, user: auth.User | None) -> str:
    return i18n.pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                          user.lang if user else None)


def page(request: Request, name: str, user: auth.User | None, active: str = "",
         blocks: tuple[str, ...] = (), status_code: int = 200, **ctx):
    """Render a whole page, or only ``?block=NAME`` when NAME is one of the page's ``blocks``."""
    lang = lang_of(request, user)
    context = {
        "request": request, "user": user, "lang": lang, "active": active,
        "_": lambda key, *args: i18n.translate(lang, key, *args),
        "reason": lambda code: i18n.reason(lang, code),
        "csrf": auth.csrf_token(request), "now": clock.now(), "time_base": time_base(), **ctx,
    }
    block = request.query_params.get("block")
    if block and block in blocks:
        return templates.TemplateResponse(request, name, context, block_name=block,
                                          status_code=status_code)
    return templates.TemplateResponse(request, name, context, status_code=status_code)
