"""Liveness, readiness and Prometheus metrics: the only routes open without signing in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tocsin import __version__
from tocsin.web.deps import get_container
from tocsin.web.metrics import registry_for

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="Readiness: database reachable and an engine cycled recently")
def readyz(request: Request) -> JSONResponse:
    services = get_container(request)
    checks: dict[str, dict[str, object]] = {}
    try:
        services.db.ping()
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    if checks["database"]["ok"]:
        health = services.engine_health()
        checks["engine"] = {
            "ok": health.ok,
            "instances": health.instances,
            "lag_seconds": None if health.lag_seconds is None else round(health.lag_seconds, 1),
        }
    else:
        checks["engine"] = {"ok": False, "error": "database unreachable"}
    ready = all(bool(c["ok"]) for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
    )


@router.get("/metrics", summary="Prometheus metrics of this process and the outbox")
def metrics(request: Request) -> Response:
    return Response(generate_latest(registry_for(request.app)), media_type=CONTENT_TYPE_LATEST)
