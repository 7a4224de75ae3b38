"""The signed-in person's own page: name, time zone, password, API tokens, test email."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tocsin.kernel.errors import Conflict, RateLimited, TocsinError, ValidationFailed
from tocsin.notifications import actions as notifications_actions
from tocsin.people import actions as people_actions
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.web.deps import AppServices, Principal, Services
from tocsin.web.pages import contact_pages
from tocsin.web.pages.forms import (
    FORM_INVALID,
    CheckedForm,
    Viewer,
    field_messages,
    parse_id,
    text,
)
from tocsin.web.pages.render import render

router = APIRouter()

NOTICES = {
    "saved": "Profile saved.",
    "password": "Password changed.",
    "revoked": "Token revoked.",
    "test_email": "Test email queued; it should arrive within a minute (see Messages).",
}


def _profile(
    request: Request,
    viewer: Principal,
    services: Services,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    with services.db.read() as tx:
        me = people_repo.get_user(tx, viewer.user.id)
        context: dict[str, Any] = {
            "section": "profile",
            "me": me,
            "tokens": people_repo.list_tokens(tx, me.id),
            "values": {"name": me.name, "time_zone": me.time_zone},
            "time_zones": sorted(people_rules.known_time_zones()),
            "scopes": people_rules.SCOPES,
            "token_values": {"token_name": "", "scope": "read"},
            "errors": {},
            "forms": {},
            "new_token": None,
            "notice": None,
            "contact_errors": {},
            "contact_values": {},
            "vapid_public_key": services.vapid_public_key,
            **contact_pages.contact_context(tx, me),
        }
        context.update(extra)
        headers = {"Cache-Control": "no-store"}
        return render(request, "profile.html", viewer, context, status=status, headers=headers)


render_profile = _profile  # the contact sections (contact_pages) re-render with their errors


@router.get("/profile")
def profile(request: Request, viewer: Viewer, services: AppServices, notice: str = "") -> Response:
    words = NOTICES.get(notice) or contact_pages.NOTICES.get(notice)
    return _profile(request, viewer, services, notice=words)


@router.post("/profile")
def profile_update(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    values = {"name": text(form, "name"), "time_zone": text(form, "time_zone").strip()}
    try:
        with services.db.transaction() as tx:
            people_actions.update_user(
                tx,
                user_id=viewer.user.id,
                actor=viewer.actor,
                now=services.clock.now(),
                name=values["name"],
                time_zone=values["time_zone"],
            )
    except (ValidationFailed, Conflict) as exc:
        return _profile(
            request,
            viewer,
            services,
            status=FORM_INVALID,
            values=values,
            errors=field_messages(exc),
            forms={"profile": exc.message},
        )
    return RedirectResponse("/profile?notice=saved", status_code=303)


@router.post("/profile/password")
def password_change(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    password = text(form, "new_password")
    if password != text(form, "confirm_password"):
        message = "The two passwords differ; type the same password twice."
        return _profile(
            request,
            viewer,
            services,
            status=422,
            errors={"confirm_password": message},
            forms={"password": message},
        )
    settings = services.settings
    refused: TocsinError | None = None
    with services.db.transaction() as tx:
        try:
            people_actions.change_own_password(
                tx,
                actor=viewer.actor,
                current_password=text(form, "current_password"),
                new_password=password,
                now=services.clock.now(),
                max_failures=settings.login_max_failures,
                window=timedelta(minutes=settings.login_window_minutes),
            )
        except (ValidationFailed, RateLimited) as exc:
            # Commit anyway: a wrong current password counts towards the lock-out.
            refused = exc
    if refused is not None:
        field = refused.fields[0].field if refused.fields else "current_password"
        return _profile(
            request,
            viewer,
            services,
            status=429 if isinstance(refused, RateLimited) else FORM_INVALID,
            errors={field: refused.message},
            forms={"password": refused.message},
        )
    return RedirectResponse("/profile?notice=password", status_code=303)


@router.post("/profile/tokens")
def token_create(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    values = {"token_name": text(form, "token_name"), "scope": text(form, "scope")}
    try:
        with services.db.transaction() as tx:
            raw, token = people_actions.create_token(
                tx,
                user_id=viewer.user.id,
                name=values["token_name"],
                scope=values["scope"],
                actor=viewer.actor,
                now=services.clock.now(),
            )
            token_name = token.name
    except ValidationFailed as exc:
        errors = {("token_name" if k == "name" else k): m for k, m in field_messages(exc).items()}
        return _profile(
            request,
            viewer,
            services,
            status=FORM_INVALID,
            token_values=values,
            errors=errors,
            forms={"token": exc.message},
        )
    # Rendered directly (never redirected to) and not cached: the raw token exists
    # only in this one response.
    return _profile(request, viewer, services, new_token={"name": token_name, "raw": raw})


@router.post("/profile/tokens/{token_id}/revoke")
def token_revoke(
    request: Request, viewer: Viewer, services: AppServices, token_id: str, form: CheckedForm
) -> Response:
    tid = parse_id(token_id, "token")
    with services.db.transaction() as tx:
        people_actions.revoke_token(tx, token_id=tid, actor=viewer.actor, now=services.clock.now())
    return RedirectResponse("/profile?notice=revoked", status_code=303)


@router.post("/profile/test-email")
def test_email(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    with services.db.transaction() as tx:
        notifications_actions.send_test_email(
            tx,
            user_id=viewer.user.id,
            actor=viewer.actor,
            now=services.clock.now(),
            base_url=services.settings.base_url,
        )
    services.wake()
    return RedirectResponse("/profile?notice=test_email", status_code=303)
