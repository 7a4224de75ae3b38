"""The FastAPI application: API, health, pages, static files, error mapping, security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin import __version__
from tocsin.web import calendar_feeds, errors, health, links, metrics
from tocsin.web.api import router as api_router
from tocsin.web.compat import intake
from tocsin.web.compat import twilio as twilio_inbound
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


class SecurityHeaders:
    """Adds the security headers to every response (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Swagger UI loads its own inline script and assets: no CSP there.
        docs = scope["path"].startswith("/api/docs")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name, value)
                    for name, value in self.headers
                    if name not in present and not (docs and name == b"content-security-policy")
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_wrapper)


def create_app(services: Services) -> FastAPI:
    """Build the web app over ``services`` (a ``bootstrap.Container``)."""
    intake_state = intake.LazyIntake(services)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        intake_state.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Tocsin",
        version=__version__,
        summary="Self-hosted incident response",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.container = services
    app.state.intake = intake_state
    app.state.templates = Jinja2Templates(directory=PAGES / "templates")
    errors.install(app)

    # Innermost first: the intake fast path, then metrics, then headers around everything.
    app.add_middleware(intake.IntakeEndpoints, intake=intake_state)
    metrics.install(app, services)
    app.add_middleware(SecurityHeaders)

    app.include_router(health.router)
    app.include_router(api_router.router)
    app.include_router(calendar_feeds.router)
    app.include_router(links.router)
    app.include_router(twilio_inbound.router)
    app.include_router(pages_router.router)
    app.mount("/static", StaticFiles(directory=PAGES / "static"), name="static")
    return app
