"""People: list, create, read and change users."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from tocsin.people import actions, repo, rules
from tocsin.web.api import pagination
from tocsin.web.api.me import me_id
from tocsin.web.api.schemas import Role, Search, UserCreate, UserOut, UserPage, UserUpdate
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/users", tags=["people"])


@router.get("", summary="List people, ordered by email")
def list_users(
    principal: CurrentPrincipal,
    services: AppServices,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
    role: Role | None = None,
    q: Search | None = Query(default=None, description="Part of a name or email."),
) -> UserPage:
    rules.authorize(principal.actor, "people.read")
    after = pagination.decode(cursor)
    with services.db.read() as tx:
        users = repo.list_users(tx, after=after, limit=limit + 1, role=role, query=q)
        page = [UserOut.model_validate(u) for u in users[:limit]]
    more = len(users) > limit
    return UserPage(data=page, next_cursor=pagination.encode(page[-1].email) if more else None)


@router.post("", status_code=201, summary="Create a person (admins)")
def create_user(body: UserCreate, principal: CurrentPrincipal, services: AppServices) -> UserOut:
    with services.db.transaction() as tx:
        user = actions.create_user(
            tx,
            email=body.email,
            name=body.name,
            role=body.role,
            time_zone=body.time_zone,
            password=body.password,
            actor=principal.actor,
            now=services.clock.now(),
        )
        return UserOut.model_validate(user)


@router.get("/{user_id}", summary="One person")
def get_user(user_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices) -> UserOut:
    if me_id(principal) != user_id:
        rules.authorize(principal.actor, "people.read")
    with services.db.read() as tx:
        return UserOut.model_validate(repo.get_user(tx, user_id))


@router.patch("/{user_id}", summary="Change a person (themselves, or anyone for admins)")
def update_user(
    user_id: uuid.UUID, body: UserUpdate, principal: CurrentPrincipal, services: AppServices
) -> UserOut:
    with services.db.transaction() as tx:
        user = actions.update_user(
            tx,
            user_id=user_id,
            actor=principal.actor,
            now=services.clock.now(),
            name=body.name,
            email=body.email,
            time_zone=body.time_zone,
            role=body.role,
            is_active=body.is_active,
        )
        return UserOut.model_validate(user)
