"""Queries of escalation: ``get_*`` raises NotFound, ``find_*`` returns None, ``list_*`` lists."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.kernel.errors import NotFound
from tocsin.people.tables import Team, TeamMember, User
from tocsin.schedules import repo as schedules_repo
from tocsin.schedules.tables import ScheduleRow

from . import rules
from .tables import EscalationPolicy, EscalationState


def get_policy(tx: Session, policy_id: uuid.UUID) -> EscalationPolicy:
    policy = tx.get(EscalationPolicy, policy_id)
    if policy is None:
        raise NotFound("escalation_policy", policy_id)
    return policy


def find_policy_by_name(tx: Session, name: str) -> EscalationPolicy | None:
    return tx.execute(
        select(EscalationPolicy).where(EscalationPolicy.name == name)
    ).scalar_one_or_none()


def list_policies(tx: Session, *, team_id: uuid.UUID | None = None) -> Sequence[EscalationPolicy]:
    stmt = select(EscalationPolicy).order_by(EscalationPolicy.name)
    if team_id is not None:
        stmt = stmt.where(EscalationPolicy.team_id == team_id)
    return tx.execute(stmt).scalars().all()


def find_state(tx: Session, incident_id: uuid.UUID) -> EscalationState | None:
    return tx.execute(
        select(EscalationState).where(EscalationState.incident_id == incident_id)
    ).scalar_one_or_none()


def states_of(tx: Session, incident_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, EscalationState]:
    wanted = list(set(incident_ids))
    if not wanted:
        return {}
    rows = tx.execute(
        select(EscalationState).where(EscalationState.incident_id.in_(wanted))
    ).scalars()
    return {row.incident_id: row for row in rows}


def list_unreachable(tx: Session, *, limit: int = 50) -> Sequence[EscalationState]:
    return (
        tx.execute(
            select(EscalationState)
            .where(EscalationState.unreachable_at.is_not(None))
            .order_by(EscalationState.unreachable_at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


def count_overdue(tx: Session, *, before: datetime) -> int:
    return int(
        tx.execute(
            select(func.count()).where(
                EscalationState.status == "active", EscalationState.next_step_at < before
            )
        ).scalar_one()
    )


def oldest_due(tx: Session, *, now: datetime) -> datetime | None:
    return tx.execute(
        select(EscalationState.next_step_at)
        .where(EscalationState.status == "active", EscalationState.next_step_at <= now)
        .order_by(EscalationState.next_step_at)
        .limit(1)
    ).scalar_one_or_none()


def known_targets(tx: Session) -> dict[str, set[str]]:
    """Every id a policy may target, by kind (for validation)."""
    return {
        "user": {str(i) for i in tx.execute(select(User.id).where(User.is_active)).scalars()},
        "schedule": {str(i) for i in tx.execute(select(ScheduleRow.id)).scalars()},
        "team": {str(i) for i in tx.execute(select(Team.id)).scalars()},
    }


def target_names(tx: Session, targets: Iterable[rules.Target]) -> dict[rules.Target, str]:
    wanted = list(targets)
    out: dict[rules.Target, str] = {}
    ids = {k: {uuid.UUID(t.id) for t in wanted if t.kind == k} for k in rules.TARGET_KINDS}
    names: dict[str, dict[str, str]] = {
        "user": {
            str(u.id): u.name
            for u in tx.execute(select(User).where(User.id.in_(ids["user"]))).scalars()
        }
        if ids["user"]
        else {},
        "schedule": {
            str(s.id): s.name
            for s in tx.execute(
                select(ScheduleRow).where(ScheduleRow.id.in_(ids["schedule"]))
            ).scalars()
        }
        if ids["schedule"]
        else {},
        "team": {
            str(t.id): t.name
            for t in tx.execute(select(Team).where(Team.id.in_(ids["team"]))).scalars()
        }
        if ids["team"]
        else {},
    }
    for t in wanted:
        out[t] = names[t.kind].get(t.id, f"(deleted {t.kind})")
    return out


def resolve_level(
    tx: Session, level: rules.Level, *, at: datetime, rotation: int = 0
) -> list[rules.Recipient]:
    """Whom ``level`` pages at ``at``: schedules rendered now, teams' active members."""
    schedule_ids = [uuid.UUID(t.id) for t in level.targets if t.kind == "schedule"]
    team_ids = [uuid.UUID(t.id) for t in level.targets if t.kind == "team"]
    oncall: dict[str, list[tuple[str, bool]]] = {}
    if schedule_ids:
        rows = tx.execute(select(ScheduleRow).where(ScheduleRow.id.in_(schedule_ids))).scalars()
        for entry in schedules_repo.oncall_of(tx, list(rows), at=at):
            oncall[str(entry.schedule.id)] = [(o.user, o.shadow) for o in entry.now]
    members: dict[str, list[str]] = {}
    if team_ids:
        rows2 = tx.execute(
            select(TeamMember.team_id, TeamMember.user_id)
            .join(User, User.id == TeamMember.user_id)
            .where(TeamMember.team_id.in_(team_ids), User.is_active)
            .order_by(User.name)
        ).all()
        for team_id, user_id in rows2:
            members.setdefault(str(team_id), []).append(str(user_id))
    active = {
        str(u)
        for u in tx.execute(
            select(User.id).where(
                User.id.in_([uuid.UUID(t.id) for t in level.targets if t.kind == "user"]),
                User.is_active,
            )
        ).scalars()
    }
    direct = rules.Level(
        level.delay_minutes,
        tuple(t for t in level.targets if t.kind != "user" or t.id in active),
        level.round_robin,
    )
    return rules.recipients(direct, oncall=oncall, members=members, rotation=rotation)
