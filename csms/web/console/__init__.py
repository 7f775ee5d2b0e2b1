"""The operator console: server-rendered pages (templates/) with live htmx fragments.

``install(app)`` adds the page routes, the static files (vendored htmx, CSS) and the cookie
middleware (CSRF nonce, language)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from csms.web.console import auth
from csms.web.console.render import LANG_COOKIE

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


# The console's pages load only their own files: no inline script or style, no eval (htmx is
# configured without eval, script tags and indicator styles in templates/base.html), no framing.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
                           "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def install(app: FastAPI) -> None:
    from csms.web.console import (
        routes_auth,
        routes_chargers,
        routes_energy,
        routes_overview,
        routes_security,
        routes_sessions,
        routes_settings,
        routes_smart,
        routes_vehicles,
    )

    for module in (routes_auth, routes_overview, routes_chargers, routes_sessions,
                   routes_energy, routes_smart, routes_settings, routes_security,
                   routes_vehicles):
        app.include_router(module.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(auth.LoginRequired)
    async def _login(request: Request, exc: auth.LoginRequired) -> Response:
        target = "/login?next=" + quote(request.url.path)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.middleware("http")
    async def _cookies(request: Request, call_next):
        response = await call_next(request)
        secure = request.url.scheme == "https"
        new_nonce = getattr(request.state, "new_nonce", None)
        if new_nonce and not request.cookies.get(auth.NONCE_COOKIE):
            response.set_cookie(auth.NONCE_COOKIE, new_nonce, httponly=True, samesite="lax",
                                secure=secure)
        lang = request.query_params.get("lang")
        if lang in ("en", "fr") and request.cookies.get(LANG_COOKIE) != lang:
            response.set_cookie(LANG_COOKIE, lang, samesite="lax", secure=secure,
                                max_age=365 * 86400)
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            if request.url.path != "/docs":  # Swagger UI's page boots with an inline script
                response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
