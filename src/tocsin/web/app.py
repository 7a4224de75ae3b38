"""The FastAPI application: API, health, pages, static files, error mapping, security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from tocsin import __version__
from tocsin.web import errors, health, metrics
from tocsin.web.api import router as api_router
from tocsin.web.deps import Services
from tocsin.web.pages import router as pages_router

PAGES = Path(__file__).resolve().parent / "pages"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


def create_app(services: Services) -> FastAPI:
    """Build the web app over ``services`` (a ``bootstrap.Container``)."""
    app = FastAPI(
        title="Tocsin",
        version=__version__,
        summary="Self-hosted incident response",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.container = services
    app.state.templates = Jinja2Templates(directory=PAGES / "templates")
    errors.install(app)
    metrics.install(app, services)

    @app.middleware("http")
    async def _security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/docs"):
            # Swagger UI loads its own inline script and assets.
            del response.headers["Content-Security-Policy"]
        return response

    app.include_router(health.router)
    app.include_router(api_router.router)
    app.include_router(pages_router.router)
    app.mount("/static", StaticFiles(directory=PAGES / "static"), name="static")
    return app
