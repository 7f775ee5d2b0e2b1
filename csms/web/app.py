"""The FastAPI application: REST API under /api/v1 with OpenAPI docs at /docs."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from csms.web import api_chargers, api_commands, api_id_tokens, api_sessions


def create_app(services) -> FastAPI:
    app = FastAPI(title="CSMS", version="0.1.0",
                  description="OCPP 1.6J / 2.0.1 charge-point management with smart charging")
    app.state.services = services
    for module in (api_chargers, api_sessions, api_id_tokens, api_commands):
        app.include_router(module.router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(status_code=422, content={
            "detail": f"{where}: {first.get('msg', 'invalid request')}",
            "errors": [{"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")}
                       for e in errors]})

    @app.get("/api/v1/health", tags=["health"])
    def health() -> dict:
        return {"status": "ok", "connected_chargers": len(services.gateway.links)}

    return app
