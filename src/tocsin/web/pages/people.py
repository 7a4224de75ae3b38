"""People pages: the directory, a person's page, and the admin forms to add and edit people."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tocsin.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from tocsin.people import actions as people_actions
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.schedules import repo as schedules_repo
from tocsin.web.deps import AppServices, Principal
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

# A person's handoffs shown on their page: the last two weeks and what is planned.
HANDOFFS_BEHIND = timedelta(days=14)
HANDOFFS_AHEAD = timedelta(days=2)


def choices() -> dict[str, Any]:
    """What the person forms offer: roles with what they mean, and IANA zone names."""
    return {
        "roles": [(r, people_rules.ROLE_DESCRIPTIONS[r]) for r in people_rules.ROLES],
        "time_zones": sorted(people_rules.known_time_zones()),
    }


@router.get("/people")
def people_list(request: Request, viewer: Viewer, services: AppServices, q: str = "") -> Response:
    people_rules.authorize(viewer.actor, "people.read")
    query = q.strip()[:200]
    with services.db.read() as tx:
        people = people_repo.list_users(tx, query=query or None, limit=500)
        return render(
            request,
            "people_list.html",
            viewer,
            {"section": "people", "people": people, "q": query},
        )


def _new_form(
    request: Request,
    viewer: Principal,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "person_new.html",
        viewer,
        {
            "section": "people",
            "values": values,
            "errors": errors or {},
            "message": message,
            **choices(),
        },
        status=status,
    )


@router.get("/people/new")
def person_new_form(request: Request, viewer: Viewer) -> Response:
    people_rules.authorize(viewer.actor, "people.write")
    return _new_form(request, viewer, {"role": "responder", "time_zone": viewer.user.time_zone})


@router.post("/people/new")
def person_create(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    values = {k: text(form, k) for k in ("email", "name", "role", "time_zone")}
    password = text(form, "password")
    try:
        with services.db.transaction() as tx:
            user = people_actions.create_user(
                tx,
                email=values["email"],
                name=values["name"],
                role=values["role"],
                time_zone=values["time_zone"].strip() or "UTC",
                password=password or None,
                actor=viewer.actor,
                now=services.clock.now(),
            )
            user_id = user.id
    except (ValidationFailed, Conflict) as exc:
        return _new_form(request, viewer, values, field_messages(exc), exc.message, FORM_INVALID)
    return RedirectResponse(f"/people/{user_id}?notice=created", status_code=303)


@router.get("/people/{person_id}")
def person_detail(
    request: Request, viewer: Viewer, services: AppServices, person_id: str, notice: str = ""
) -> Response:
    people_rules.authorize(viewer.actor, "people.read")
    uid = parse_id(person_id, "user")
    now = services.clock.now()
    with services.db.read() as tx:
        person = people_repo.get_user(tx, uid)
        memberships = sorted(person.memberships, key=lambda m: m.team.name)
        handoffs = schedules_repo.list_handoffs_of(
            tx, uid, since=now - HANDOFFS_BEHIND, until=now + HANDOFFS_AHEAD
        )
        return render(
            request,
            "person_detail.html",
            viewer,
            {
                "section": "people",
                "person": person,
                "memberships": memberships,
                "role_description": people_rules.ROLE_DESCRIPTIONS.get(person.role, ""),
                "now": now,
                "handoffs": handoffs,
                "may_edit": people_rules.may_edit_profile(viewer.actor, person.id),
                "notice": {"created": "Person added.", "saved": "Changes saved."}.get(notice),
            },
        )


def _edit_form(
    request: Request,
    viewer: Principal,
    person_id: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "person_edit.html",
        viewer,
        {
            "section": "people",
            "person_id": person_id,
            "values": values,
            "errors": errors or {},
            "message": message,
            "is_admin": people_rules.allows(viewer.actor.role, "people.write"),
            **choices(),
        },
        status=status,
    )


@router.get("/people/{person_id}/edit")
def person_edit_form(
    request: Request, viewer: Viewer, services: AppServices, person_id: str
) -> Response:
    uid = parse_id(person_id, "user")
    if not people_rules.may_edit_profile(viewer.actor, uid):
        raise PermissionDenied("You may only edit your own profile.", code="auth.role")
    with services.db.read() as tx:
        person = people_repo.get_user(tx, uid)
        values = {
            "email": person.email,
            "name": person.name,
            "role": person.role,
            "time_zone": person.time_zone,
            "active": "1" if person.is_active else "",
        }
    return _edit_form(request, viewer, str(uid), values)


@router.post("/people/{person_id}/edit")
def person_update(
    request: Request, viewer: Viewer, services: AppServices, person_id: str, form: CheckedForm
) -> Response:
    uid = parse_id(person_id, "user")
    values = {k: text(form, k) for k in ("email", "name", "role", "time_zone", "active")}
    # Role and active state are only on the admin's form; absent fields stay unchanged.
    admin_fields = "role" in form
    try:
        with services.db.transaction() as tx:
            people_actions.update_user(
                tx,
                user_id=uid,
                actor=viewer.actor,
                now=services.clock.now(),
                name=values["name"],
                email=values["email"],
                time_zone=values["time_zone"].strip(),
                role=values["role"] if admin_fields else None,
                is_active=bool(values["active"]) if admin_fields else None,
            )
    except (ValidationFailed, Conflict) as exc:
        return _edit_form(
            request, viewer, str(uid), values, field_messages(exc), exc.message, FORM_INVALID
        )
    return RedirectResponse(f"/people/{uid}?notice=saved", status_code=303)
