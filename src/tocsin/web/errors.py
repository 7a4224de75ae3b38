"""One error format for every adapter response: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tocsin.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    RateLimited,
    TocsinError,
    Unauthenticated,
    ValidationFailed,
)
from tocsin.kernel.logging import get_logger

log = get_logger("tocsin.web")

STATUS: list[tuple[type[TocsinError], int]] = [
    (ValidationFailed, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (RateLimited, 429),
]


def status_of(exc: TocsinError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def error_body(code: str, message: str, fields: Any = ()) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "fields": [{"field": f.field, "message": f.message} for f in fields],
        }
    }


def field_errors(exc: RequestValidationError) -> list[FieldError]:
    """Pydantic's errors as field paths people can read (``members[0].user_id``)."""
    out: list[FieldError] = []
    for err in exc.errors():
        loc = [
            p for p in err.get("loc", ()) if p not in ("body", "query", "path", "header", "cookie")
        ]
        path = ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            message = "Unknown field."
        elif err.get("type") == "json_invalid":
            path = "body"  # pydantic puts the character offset in the location
            message = "The body is not valid JSON."
        out.append(FieldError(path or "body", message))
    return out


def wants_html(request: Request) -> bool:
    """Browsers navigating pages get HTML and redirects; API clients always get JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/v2/", "/pagerduty/", "/integrations/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """Map every error once; nothing escapes as a bare 500 page."""

    @app.exception_handler(TocsinError)
    async def _tocsin(request: Request, exc: TocsinError) -> Response:
        status = status_of(exc)
        if isinstance(exc, Unauthenticated) and wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if wants_html(request):
            templates = request.app.state.templates
            page: Response = templates.TemplateResponse(
                request, "error.html", {"status": status, "error": exc}, status_code=status
            )
            return page
        return JSONResponse(error_body(exc.code, exc.message, exc.fields), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        fields = field_errors(exc)
        return JSONResponse(
            error_body("invalid", "The request is not valid; see fields.", fields), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, f"http_{exc.status_code}"
        )
        message = str(exc.detail) if exc.detail else "Request failed."
        if wants_html(request):
            templates = request.app.state.templates
            err = TocsinError(code=code, message=message)
            page: Response = templates.TemplateResponse(
                request,
                "error.html",
                {"status": exc.status_code, "error": err},
                status_code=exc.status_code,
            )
            return page
        return JSONResponse(
            error_body(code, message), exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        # A race the action's own check could not see (two requests creating the same
        # thing at once); the unique index refused the second. Nothing was written.
        log.warning("request.conflict", path=request.url.path)
        message = "This conflicts with a change made at the same moment; reload and try again."
        return JSONResponse(error_body("conflict", message), status_code=409)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("request.failed", path=request.url.path)
        return JSONResponse(
            error_body("internal", "Something went wrong on our side; it was logged."), 500
        )
