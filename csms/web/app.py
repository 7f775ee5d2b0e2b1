"""The FastAPI application: REST API under /api/v1 with OpenAPI docs at /docs, and the
operator console (csms/web/console) at /."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from csms.domain.durability import StoreUnavailable
from csms.proxy import ForwardedFor, TrustedProxies
from csms.web import (
    api_chargers,
    api_commands,
    api_id_tokens,
    api_security,
    api_sessions,
    api_sites,
    api_vehicles,
)
from csms.web.input_guard import InputGuard

DOCS_STATIC = Path(__file__).resolve().parent / "docs_static"


def create_app(services) -> FastAPI:
    # docs_url=None: FastAPI's default /docs page loads Swagger UI from a CDN; ours is vendored
    # so the docs work offline.
    app = FastAPI(title="CSMS", version="0.1.0", docs_url=None, redoc_url=None,
                  description="OCPP 1.6J / 2.0.1 charge-point management with smart charging")
    app.state.services = services
    app.mount("/docs-static", StaticFiles(directory=DOCS_STATIC), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="CSMS API",
                                   swagger_js_url="/docs-static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-static/swagger-ui.css",
                                   swagger_favicon_url="/docs-static/favicon-32x32.png")
    for module in (api_chargers, api_sessions, api_id_tokens, api_commands, api_sites,
                   api_security, api_vehicles):
        app.include_router(module.router)

    from csms.web import console  # the operator console (pages, static files)

    console.install(app)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(status_code=422, content={
            "detail": f"{where}: {first.get('msg', 'invalid request')}",
            "errors": [{"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")}
                       for e in errors]})

    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(OperationalError)
    async def _store_down(request: Request, exc: Exception) -> JSONResponse:
        # The store logs the outage once (csms/store/outage.py); each request gets a 503.
        return JSONResponse(status_code=503, headers={"Retry-After": "10"}, content={
            "detail": "the database is unavailable; retry later"})

    app.add_middleware(InputGuard)
    # Outermost: everything after it sees the client a trusted proxy forwarded for.
    app.add_middleware(ForwardedFor, proxies=TrustedProxies(services.settings.trusted_proxies))

    @app.get("/api/v1/health", tags=["health"])
    def health() -> JSONResponse:
        available = services.worker.outage.available
        return JSONResponse(status_code=200 if available else 503, content={
            "status": "ok" if available else "store_unavailable",
            "connected_chargers": len(services.gateway.links)})

    return app
