"""Team pages: the list, a team's members and managers, and the forms to add and edit teams."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tocsin.kernel.errors import Conflict, ValidationFailed
from tocsin.people import actions as people_actions
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.people.tables import Team, User
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import (
    FORM_INVALID,
    CheckedForm,
    Viewer,
    field_messages,
    parse_id,
    text,
    texts,
)
from tocsin.web.pages.render import render

router = APIRouter()

PEOPLE_LIMIT = 1000


def managers_of(team: Team) -> list[User]:
    return sorted((m.user for m in team.members if m.is_manager), key=lambda u: u.name)


@router.get("/teams")
def team_list(request: Request, viewer: Viewer, services: AppServices) -> Response:
    people_rules.authorize(viewer.actor, "teams.read")
    with services.db.read() as tx:
        teams = people_repo.list_teams(tx, limit=500)
        return render(
            request,
            "teams_list.html",
            viewer,
            {"section": "teams", "teams": teams, "managers_of": managers_of},
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
        "team_new.html",
        viewer,
        {"section": "teams", "values": values, "errors": errors or {}, "message": message},
        status=status,
    )


@router.get("/teams/new")
def team_new_form(request: Request, viewer: Viewer) -> Response:
    people_rules.authorize(viewer.actor, "teams.write")
    return _new_form(request, viewer, {})


@router.post("/teams/new")
def team_create(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    values = {k: text(form, k) for k in ("name", "description")}
    try:
        with services.db.transaction() as tx:
            team = people_actions.create_team(
                tx,
                name=values["name"],
                description=values["description"],
                actor=viewer.actor,
                now=services.clock.now(),
            )
            team_id = team.id
    except (ValidationFailed, Conflict) as exc:
        return _new_form(request, viewer, values, field_messages(exc), exc.message, FORM_INVALID)
    return RedirectResponse(f"/teams/{team_id}/edit?notice=created", status_code=303)


@router.get("/teams/{team_id}")
def team_detail(
    request: Request, viewer: Viewer, services: AppServices, team_id: str, notice: str = ""
) -> Response:
    people_rules.authorize(viewer.actor, "teams.read")
    tid = parse_id(team_id, "team")
    with services.db.read() as tx:
        team = people_repo.get_team(tx, tid)
        members = sorted(team.members, key=lambda m: (not m.is_manager, m.user.name))
        return render(
            request,
            "team_detail.html",
            viewer,
            {
                "section": "teams",
                "team": team,
                "members": members,
                "notice": {"saved": "Changes saved."}.get(notice),
                "now": services.clock.now(),
            },
        )


def _edit_form(
    request: Request,
    viewer: Principal,
    team_id: uuid.UUID,
    people: Sequence[User],
    values: dict[str, str],
    member_ids: set[str],
    manager_ids: set[str],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    return render(
        request,
        "team_edit.html",
        viewer,
        {
            "section": "teams",
            "team_id": team_id,
            "people": people,
            "values": values,
            "member_ids": member_ids,
            "manager_ids": manager_ids,
            "errors": errors or {},
            "message": message,
            "notice": notice,
        },
        status=status,
    )


@router.get("/teams/{team_id}/edit")
def team_edit_form(
    request: Request, viewer: Viewer, services: AppServices, team_id: str, notice: str = ""
) -> Response:
    people_rules.authorize(viewer.actor, "teams.write")
    tid = parse_id(team_id, "team")
    with services.db.read() as tx:
        team = people_repo.get_team(tx, tid)
        people = people_repo.list_users(tx, limit=PEOPLE_LIMIT)
        return _edit_form(
            request,
            viewer,
            tid,
            people,
            {"name": team.name, "description": team.description},
            {str(m.user_id) for m in team.members},
            {str(m.user_id) for m in team.members if m.is_manager},
            notice={"created": "Team created; now add its members."}.get(notice),
        )


@router.post("/teams/{team_id}/edit")
def team_update(
    request: Request, viewer: Viewer, services: AppServices, team_id: str, form: CheckedForm
) -> Response:
    tid = parse_id(team_id, "team")
    values = {k: text(form, k) for k in ("name", "description")}
    member_ids = texts(form, "member")
    manager_ids = set(texts(form, "manager"))
    # A manager ticked without "member" is still a member: managing implies belonging.
    ordered = list(dict.fromkeys([*member_ids, *sorted(manager_ids)]))
    try:
        members = [
            people_actions.Membership(user_id=parse_id(v, "user"), is_manager=v in manager_ids)
            for v in ordered
        ]
        with services.db.transaction() as tx:
            people_actions.update_team(
                tx,
                team_id=tid,
                actor=viewer.actor,
                now=services.clock.now(),
                name=values["name"],
                description=values["description"],
                members=members,
            )
    except (ValidationFailed, Conflict) as exc:
        with services.db.read() as tx:
            people = people_repo.list_users(tx, limit=PEOPLE_LIMIT)
            return _edit_form(
                request,
                viewer,
                tid,
                people,
                values,
                set(ordered),
                manager_ids,
                field_messages(exc),
                exc.message,
                FORM_INVALID,
            )
    return RedirectResponse(f"/teams/{tid}?notice=saved", status_code=303)


@router.post("/teams/{team_id}/delete")
def team_delete(
    request: Request, viewer: Viewer, services: AppServices, team_id: str, form: CheckedForm
) -> Response:
    tid = parse_id(team_id, "team")
    with services.db.transaction() as tx:
        people_actions.delete_team(tx, team_id=tid, actor=viewer.actor, now=services.clock.now())
    return RedirectResponse("/teams", status_code=303)
