"""Teams: list, create, read, change (name, description, members) and delete."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from tocsin.people import actions, repo, rules
from tocsin.web.api import pagination
from tocsin.web.api.schemas import MemberIn, TeamCreate, TeamOut, TeamPage, TeamUpdate
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/teams", tags=["teams"])


def _memberships(members: list[MemberIn] | None) -> list[actions.Membership] | None:
    if members is None:
        return None
    return [actions.Membership(user_id=m.user_id, is_manager=m.is_manager) for m in members]


@router.get("", summary="List teams, ordered by name")
def list_teams(
    principal: CurrentPrincipal,
    services: AppServices,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> TeamPage:
    rules.authorize(principal.actor, "teams.read")
    after = pagination.decode(cursor)
    with services.db.read() as tx:
        teams = repo.list_teams(tx, after=after, limit=limit + 1)
        page = [TeamOut.model_validate(t) for t in teams[:limit]]
    more = len(teams) > limit
    return TeamPage(data=page, next_cursor=pagination.encode(page[-1].name) if more else None)


@router.post("", status_code=201, summary="Create a team (admins and managers)")
def create_team(body: TeamCreate, principal: CurrentPrincipal, services: AppServices) -> TeamOut:
    now = services.clock.now()
    with services.db.transaction() as tx:
        team = actions.create_team(
            tx, name=body.name, description=body.description, actor=principal.actor, now=now
        )
        if body.members is not None:
            team = actions.update_team(
                tx,
                team_id=team.id,
                members=_memberships(body.members),
                actor=principal.actor,
                now=now,
            )
        return TeamOut.model_validate(team)


@router.get("/{team_id}", summary="One team with its members")
def get_team(team_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices) -> TeamOut:
    rules.authorize(principal.actor, "teams.read")
    with services.db.read() as tx:
        return TeamOut.model_validate(repo.get_team(tx, team_id))


@router.patch("/{team_id}", summary="Rename a team, describe it, or replace its members")
def update_team(
    team_id: uuid.UUID, body: TeamUpdate, principal: CurrentPrincipal, services: AppServices
) -> TeamOut:
    with services.db.transaction() as tx:
        team = actions.update_team(
            tx,
            team_id=team_id,
            name=body.name,
            description=body.description,
            members=_memberships(body.members),
            actor=principal.actor,
            now=services.clock.now(),
        )
        return TeamOut.model_validate(team)


@router.delete("/{team_id}", status_code=204, summary="Delete a team")
def delete_team(team_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices) -> Response:
    with services.db.transaction() as tx:
        actions.delete_team(tx, team_id=team_id, actor=principal.actor, now=services.clock.now())
    return Response(status_code=204)
