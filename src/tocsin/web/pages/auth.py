"""Signing in and out: the login form (double-submit CSRF cookie) and the session cookie."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tocsin.kernel.errors import PermissionDenied, RateLimited, Unauthenticated
from tocsin.people import actions as people_actions
from tocsin.web import deps
from tocsin.web.deps import AppServices
from tocsin.web.pages.forms import CheckedForm, current_principal, text
from tocsin.web.pages.render import render

router = APIRouter()

LOGIN_CSRF_COOKIE = "tocsin_csrf"


def safe_next(target: str | None) -> str:
    """Follow ``next`` only to a local path: "/x" yes; "//host", "/\\host" or URLs never."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 32 for c in target):
        return "/"
    return target


def _login_page(
    request: Request,
    services: deps.Services,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        {"login_csrf": token, "next": next_path, "email": email, "error": error},
        status=status,
        headers=headers,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=services.settings.secure_cookies,
        path="/login",
    )
    return response


def _sign_in(
    services: deps.Services, email: str, password: str
) -> tuple[str, Unauthenticated | RateLimited | None]:
    """Check the password and open a session; returns the cookie value or the failure."""
    settings = services.settings
    now = services.clock.now()
    # A failure is recorded inside this transaction, so we catch the error here and
    # let the block commit; re-raising would roll the record back.
    with services.db.transaction() as tx:
        try:
            user = people_actions.authenticate(
                tx,
                email=email,
                password=password,
                now=now,
                max_failures=settings.login_max_failures,
                window=timedelta(minutes=settings.login_window_minutes),
            )
            raw, _session = people_actions.start_session(
                tx, user=user, now=now, lifetime=timedelta(hours=settings.session_hours)
            )
        except (Unauthenticated, RateLimited) as exc:
            return "", exc
    return raw, None


@router.get("/login")
def login_form(request: Request, services: AppServices, next: str = "/") -> Response:
    if current_principal(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, services, next_path=safe_next(next))


@router.post("/login")
async def login(request: Request, services: AppServices) -> Response:
    form = await request.form()
    next_path = safe_next(text(form, "next"))
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    submitted = text(form, deps.CSRF_FIELD)
    if not cookie or not hmac.compare_digest(cookie.encode(), submitted.encode()):
        raise PermissionDenied(
            "The sign-in form expired or did not come from Tocsin; reload the page and try again.",
            code="auth.csrf",
        )
    email = text(form, "email")
    password = text(form, "password")
    raw, failure = await run_in_threadpool(_sign_in, services, email, password)
    if isinstance(failure, RateLimited):
        return _login_page(
            request,
            services,
            next_path=next_path,
            email=email,
            error=failure.message,
            status=429,
            headers={"Retry-After": str(failure.retry_after)},
        )
    if failure is not None:
        return _login_page(
            request,
            services,
            next_path=next_path,
            email=email,
            error=people_actions.WRONG_LOGIN,
            status=401,
        )
    settings = services.settings
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        deps.SESSION_COOKIE,
        raw,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, services: AppServices, form: CheckedForm) -> Response:
    raw = request.cookies.get(deps.SESSION_COOKIE)
    if raw:
        with services.db.transaction() as tx:
            people_actions.end_session(tx, raw=raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        deps.SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
    )
    return response
