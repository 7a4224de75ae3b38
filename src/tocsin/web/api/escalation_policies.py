"""Escalation policies: list, create, read, change, delete, and preview who would be paged.

The request models only check shape; the escalation slice validates the levels (known
targets, delays, repeat) and names every problem by its field path (``levels[1].targets``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.escalation import actions, repo, rules
from tocsin.escalation.tables import EscalationPolicy
from tocsin.kernel.errors import ValidationFailed
from tocsin.people import contacts
from tocsin.people.rules import authorize
from tocsin.people.tables import User
from tocsin.web.api.schemas import Description, RequestBody, ResponseBody, TeamName
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/escalation-policies", tags=["escalation policies"])


class TargetIn(RequestBody):
    kind: str = Field(max_length=16, description="user, schedule or team")
    id: str = Field(max_length=64)


class LevelIn(RequestBody):
    delay_minutes: int = Field(
        default=rules.DEFAULT_DELAY_MINUTES, description="Minutes before the next level (1-1440)"
    )
    targets: list[TargetIn] = Field(max_length=100)
    round_robin: bool = False


class PolicyCreate(RequestBody):
    name: TeamName
    description: Description = ""
    team_id: uuid.UUID | None = None
    repeat: int = Field(default=0, description="Times the whole policy repeats (0-9)")
    levels: list[LevelIn] = Field(max_length=50)


class PolicyUpdate(RequestBody):
    name: TeamName | None = None
    description: Description | None = None
    team_id: uuid.UUID | None = None
    repeat: int | None = None
    levels: list[LevelIn] | None = Field(default=None, max_length=50)


class PolicyDraft(RequestBody):
    """An unsaved policy to preview (the name is optional: nothing is stored)."""

    name: TeamName | None = None
    description: Description | None = None
    team_id: uuid.UUID | None = None
    repeat: int = 0
    levels: list[LevelIn] = Field(max_length=50)


class TargetOut(BaseModel):
    kind: str
    id: str
    name: str


class LevelOut(BaseModel):
    delay_minutes: int
    round_robin: bool
    targets: list[TargetOut]


class PolicyOut(ResponseBody):
    id: uuid.UUID
    name: str
    description: str
    team_id: uuid.UUID | None
    repeat: int
    levels: list[LevelOut]
    version: int
    created_at: datetime
    updated_at: datetime


class PolicyList(BaseModel):
    data: list[PolicyOut]


class RecipientOut(BaseModel):
    user_id: str
    name: str
    via: str = Field(description="user, schedule or team")
    via_id: str
    via_name: str
    shadow: bool
    reachable: bool = Field(description="Has at least one verified contact method")
    methods: list[str] = Field(description="Kinds of the verified contact methods")


class LevelPreview(BaseModel):
    level: int
    delay_minutes: int
    round_robin: bool
    targets: list[TargetOut]
    recipients: list[RecipientOut]
    warning: str | None


class PreviewOut(BaseModel):
    at: datetime
    levels: list[LevelPreview]
    warnings: list[str]


def _levels_out(tx: Session, levels: Sequence[rules.Level]) -> list[LevelOut]:
    names = repo.target_names(tx, [t for level in levels for t in level.targets])
    return [
        LevelOut(
            delay_minutes=level.delay_minutes,
            round_robin=level.round_robin,
            targets=[TargetOut(kind=t.kind, id=t.id, name=names[t]) for t in level.targets],
        )
        for level in levels
    ]


def policy_out(tx: Session, policy: EscalationPolicy) -> PolicyOut:
    parsed = actions.policy_of(policy)
    return PolicyOut(
        id=policy.id,
        name=policy.name,
        description=policy.description,
        team_id=policy.team_id,
        repeat=policy.repeat,
        levels=_levels_out(tx, parsed.levels),
        version=policy.version,
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


def preview(tx: Session, levels: Sequence[rules.Level], *, at: datetime) -> PreviewOut:
    """Who each level would page at ``at``, and a warning for every level reaching nobody."""
    shown = _levels_out(tx, levels)
    resolved = [repo.resolve_level(tx, level, at=at) for level in levels]
    user_ids = {uuid.UUID(r.user_id) for who in resolved for r in who}
    users: dict[str, str] = {}
    if user_ids:
        rows = tx.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()
        users = {str(uid): name for uid, name in rows}
    methods = contacts.methods_of(tx, user_ids)
    via_names = repo.target_names(
        tx, {rules.Target(r.via, r.via_id) for who in resolved for r in who}
    )
    out: list[LevelPreview] = []
    warnings: list[str] = []
    for index, (level, who) in enumerate(zip(levels, resolved, strict=True)):
        recipients = []
        for r in who:
            kinds = sorted({m.kind for m in methods.get(uuid.UUID(r.user_id), []) if m.verified_at})
            recipients.append(
                RecipientOut(
                    user_id=r.user_id,
                    name=users.get(r.user_id, "(unknown)"),
                    via=r.via,
                    via_id=r.via_id,
                    via_name=via_names[rules.Target(r.via, r.via_id)],
                    shadow=r.shadow,
                    reachable=bool(kinds),
                    methods=kinds,
                )
            )
        warning = None
        if not recipients:
            warning = f"Level {index + 1} reaches nobody at this time."
        elif not any(r.reachable and not r.shadow for r in recipients):
            warning = f"Level {index + 1}: nobody it pages has a verified contact method."
        if warning:
            warnings.append(warning)
        out.append(
            LevelPreview(
                level=index + 1,
                delay_minutes=level.delay_minutes,
                round_robin=level.round_robin,
                targets=shown[index].targets,
                recipients=recipients,
                warning=warning,
            )
        )
    return PreviewOut(at=at, levels=out, warnings=warnings)


def _levels_json(levels: Sequence[LevelIn]) -> list[dict[str, Any]]:
    return [level.model_dump() for level in levels]


def _check_at(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if at.tzinfo is None:
        raise ValidationFailed.one("at", "Give a time with its offset, e.g. 2026-01-05T09:00Z.")
    return at


AtQuery = Annotated[datetime | None, Query(description="ISO 8601 instant; default now")]


@router.get("", summary="List escalation policies, by name")
def list_policies(principal: CurrentPrincipal, services: AppServices) -> PolicyList:
    authorize(principal.actor, "policies.read")
    with services.db.read() as tx:
        return PolicyList(data=[policy_out(tx, p) for p in repo.list_policies(tx)])


@router.post("", status_code=201, summary="Create an escalation policy")
def create_policy(
    body: PolicyCreate, principal: CurrentPrincipal, services: AppServices
) -> PolicyOut:
    with services.db.transaction() as tx:
        policy = actions.create_policy(
            tx,
            name=body.name,
            levels=_levels_json(body.levels),
            repeat=body.repeat,
            description=body.description,
            team_id=body.team_id,
            actor=principal.actor,
            now=services.clock.now(),
        )
        out = policy_out(tx, policy)
    services.wake()
    return out


@router.post(
    "/preview", summary="Dry run: who an unsaved policy would page now (or at ?at=), per level"
)
def preview_draft(
    body: PolicyDraft, principal: CurrentPrincipal, services: AppServices, at: AtQuery = None
) -> PreviewOut:
    authorize(principal.actor, "policies.read")
    when = _check_at(at, services.clock.now())
    with services.db.read() as tx:
        levels = rules.parse_levels(_levels_json(body.levels), known=repo.known_targets(tx))
        rules.check_repeat(body.repeat)
        return preview(tx, levels, at=when)


@router.get("/{policy_id}", summary="One escalation policy")
def get_policy(
    policy_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> PolicyOut:
    authorize(principal.actor, "policies.read")
    with services.db.read() as tx:
        return policy_out(tx, repo.get_policy(tx, policy_id))


@router.get("/{policy_id}/preview", summary="Who each level would page now (or at ?at=)")
def preview_policy(
    policy_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices, at: AtQuery = None
) -> PreviewOut:
    authorize(principal.actor, "policies.read")
    when = _check_at(at, services.clock.now())
    with services.db.read() as tx:
        policy = repo.get_policy(tx, policy_id)
        return preview(tx, actions.policy_of(policy).levels, at=when)


def _update(
    services: AppServices,
    principal: CurrentPrincipal,
    policy_id: uuid.UUID,
    changes: dict[str, Any],
) -> PolicyOut:
    clear_team = "team_id" in changes and changes["team_id"] is None
    if clear_team:
        del changes["team_id"]
    if "levels" in changes and changes["levels"] is None:
        raise ValidationFailed.one("levels", "A policy needs at least one level.")
    with services.db.transaction() as tx:
        policy = actions.update_policy(
            tx,
            policy_id=policy_id,
            actor=principal.actor,
            now=services.clock.now(),
            clear_team=clear_team,
            **changes,
        )
        tx.flush()
        out = policy_out(tx, policy)
    services.wake()
    return out


@router.patch("/{policy_id}", summary="Change a policy (fields left out keep their value)")
def patch_policy(
    policy_id: uuid.UUID, body: PolicyUpdate, principal: CurrentPrincipal, services: AppServices
) -> PolicyOut:
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "description", "repeat"):
        if key in changes and changes[key] is None:
            raise ValidationFailed.one(key, "This field cannot be null.")
    return _update(services, principal, policy_id, changes)


@router.put("/{policy_id}", summary="Replace a policy; incidents in flight keep their snapshot")
def put_policy(
    policy_id: uuid.UUID, body: PolicyCreate, principal: CurrentPrincipal, services: AppServices
) -> PolicyOut:
    return _update(services, principal, policy_id, body.model_dump())


@router.delete("/{policy_id}", status_code=204, summary="Delete a policy")
def delete_policy(policy_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices) -> None:
    with services.db.transaction() as tx:
        actions.delete_policy(
            tx, policy_id=policy_id, actor=principal.actor, now=services.clock.now()
        )
    services.wake()
