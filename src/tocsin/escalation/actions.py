"""Escalation use cases: policies (create, update, delete) and each incident's escalation state.

Callers own the transaction. State changes made by the engine are compare-and-set on
``version`` (see ``claim_due``); changes made by people (acknowledge, escalate now)
bump ``version`` so an engine holding an older copy changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.db.session import rowcount
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import Conflict, ValidationFailed
from tocsin.people.rules import authorize
from tocsin.people.tables import Team

from . import repo, rules
from .tables import EscalationPolicy, EscalationState


def _check_name(name: str) -> str:
    value = name.strip()
    if not 1 <= len(value) <= 100:
        raise ValidationFailed.one("name", "A name of 1 to 100 characters is required.")
    return value


def _check_team(tx: Session, team_id: uuid.UUID | None) -> None:
    if team_id is not None and tx.get(Team, team_id) is None:
        raise ValidationFailed.one("team_id", "No team with this id.")


def create_policy(
    tx: Session,
    *,
    name: str,
    levels: object,
    actor: Actor,
    now: datetime,
    repeat: object = 0,
    description: str = "",
    team_id: uuid.UUID | None = None,
) -> EscalationPolicy:
    authorize(actor, "policies.write")
    clean = _check_name(name)
    parsed = rules.parse_levels(levels, known=repo.known_targets(tx))
    times = rules.check_repeat(repeat)
    _check_team(tx, team_id)
    if len(description) > 2000:
        raise ValidationFailed.one("description", "At most 2000 characters.")
    if repo.find_policy_by_name(tx, clean) is not None:
        raise Conflict("escalation_policy.name_taken", "A policy has this name.", "name")
    policy = EscalationPolicy(
        name=clean,
        description=description.strip(),
        team_id=team_id,
        repeat=times,
        levels=rules.Policy(parsed, times).to_json()["levels"],
        version=0,
        created_at=now,
        updated_at=now,
    )
    tx.add(policy)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="escalation_policy.created",
        subject_type="escalation_policy",
        subject_id=policy.id,
        at=now,
        data={"name": clean, "levels": len(parsed)},
    )
    return policy


def update_policy(
    tx: Session,
    *,
    policy_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    name: str | None = None,
    levels: object = None,
    repeat: object = None,
    description: str | None = None,
    team_id: uuid.UUID | None = None,
    clear_team: bool = False,
) -> EscalationPolicy:
    """Change a policy. Incidents already escalating keep the snapshot they started with."""
    authorize(actor, "policies.write")
    policy = repo.get_policy(tx, policy_id)
    if name is not None:
        clean = _check_name(name)
        other = repo.find_policy_by_name(tx, clean)
        if other is not None and other.id != policy.id:
            raise Conflict("escalation_policy.name_taken", "A policy has this name.", "name")
        policy.name = clean
    if levels is not None:
        parsed = rules.parse_levels(levels, known=repo.known_targets(tx))
        policy.levels = [rules.level_json(level) for level in parsed]
    if repeat is not None:
        policy.repeat = rules.check_repeat(repeat)
    if description is not None:
        if len(description) > 2000:
            raise ValidationFailed.one("description", "At most 2000 characters.")
        policy.description = description.strip()
    if clear_team:
        policy.team_id = None
    elif team_id is not None:
        _check_team(tx, team_id)
        policy.team_id = team_id
    policy.version += 1
    policy.updated_at = now
    audit.record(
        tx,
        actor=actor,
        kind="escalation_policy.updated",
        subject_type="escalation_policy",
        subject_id=policy.id,
        at=now,
        data={"version": policy.version},
    )
    return policy


def delete_policy(tx: Session, *, policy_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    """Delete a policy; services that used it page nobody until given another (say so first)."""
    authorize(actor, "policies.write")
    policy = repo.get_policy(tx, policy_id)
    audit.record(
        tx,
        actor=actor,
        kind="escalation_policy.deleted",
        subject_type="escalation_policy",
        subject_id=policy.id,
        at=now,
        data={"name": policy.name},
    )
    tx.delete(policy)


def policy_of(row: EscalationPolicy) -> rules.Policy:
    return rules.policy_from_json({"levels": row.levels, "repeat": row.repeat})


def start(
    tx: Session, *, incident_id: uuid.UUID, policy: EscalationPolicy | None, now: datetime
) -> EscalationState:
    """Begin escalating an incident by a snapshot of ``policy``; the first level is due now.

    Safe to call twice: an incident has one state; a second start leaves it alone.
    """
    existing = repo.find_state(tx, incident_id)
    if existing is not None:
        return existing
    snapshot = {"levels": [], "repeat": 0} if policy is None else policy_of(policy).to_json()
    state = EscalationState(
        incident_id=incident_id,
        policy_id=None if policy is None else policy.id,
        policy_name="" if policy is None else policy.name,
        snapshot={**snapshot, "policy_version": 0 if policy is None else policy.version},
        status="active" if policy is not None and snapshot["levels"] else "exhausted",
        level=0,
        loop=0,
        step=0,
        next_step_at=now if policy is not None and snapshot["levels"] else None,
        rotation={},
        paged_user_ids=[],
        unreachable=[],
        version=0,
        created_at=now,
        updated_at=now,
    )
    tx.add(state)
    return state


def _bump(state: EscalationState, now: datetime) -> None:
    state.version += 1
    state.updated_at = now


def stop(tx: Session, *, incident_id: uuid.UUID, now: datetime) -> EscalationState | None:
    """Acknowledged or resolved: no further level is paged (safe to call twice)."""
    state = repo.find_state(tx, incident_id)
    if state is None or state.status == "stopped":
        return state
    state.status = "stopped"
    state.next_step_at = None
    state.unreachable_at = None
    _bump(state, now)
    return state


def restart(tx: Session, *, incident_id: uuid.UUID, now: datetime) -> EscalationState | None:
    """Back to the first level, due now (an acknowledgement timed out, or it re-triggered)."""
    state = repo.find_state(tx, incident_id)
    if state is None or not state.snapshot.get("levels"):
        return state
    state.status = "active"
    state.level = 0
    state.loop = 0
    state.next_step_at = now
    _bump(state, now)
    return state


def escalate_now(
    tx: Session, *, incident_id: uuid.UUID, now: datetime, to_level: int | None = None
) -> EscalationState:
    """Page the next level (or level ``to_level``, counted from 1) at once."""
    state = repo.find_state(tx, incident_id)
    if state is None or not state.snapshot.get("levels"):
        raise ValidationFailed.one(
            "level", "This incident has no escalation policy: add responders instead."
        )
    policy = rules.policy_from_json(state.snapshot)
    if to_level is not None:
        if not 1 <= to_level <= len(policy.levels):
            raise ValidationFailed.one(
                "level", f"Choose a level from 1 to {len(policy.levels)} of this policy."
            )
        state.level = to_level - 1
    elif state.status != "active":
        # Stopped or exhausted: ``level`` is the one after the last paged; past the last
        # level it wraps to the first. (While active it is already the next to page.)
        state.level = state.level % len(policy.levels)
    state.status = "active"
    state.next_step_at = now
    _bump(state, now)
    return state


def claim_due(
    tx: Session, *, now: datetime, limit: int, skip_locked: bool = False
) -> list[EscalationState]:
    """Due states this transaction now owns (compare-and-set on ``version``), oldest first."""
    stmt = (
        select(EscalationState.id, EscalationState.version)
        .where(EscalationState.status == "active", EscalationState.next_step_at <= now)
        .order_by(EscalationState.next_step_at, EscalationState.id)
        .limit(limit)
    )
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    mine: list[uuid.UUID] = []
    for state_id, version in tx.execute(stmt).all():
        changed = rowcount(
            tx.execute(
                update(EscalationState)
                .where(EscalationState.id == state_id, EscalationState.version == version)
                .values(version=version + 1)
            )
        )
        if changed == 1:
            mine.append(state_id)
    if not mine:
        return []
    rows = tx.execute(select(EscalationState).where(EscalationState.id.in_(mine))).scalars().all()
    for row in rows:
        tx.refresh(row)
    return sorted(rows, key=lambda r: (r.next_step_at or now, r.id))


@dataclass(frozen=True)
class Step:
    """One level paged: who, at which level and pass, and when the next level is due."""

    number: int  # 1-based count of steps taken for this incident
    level: int  # 0-based index
    loop: int
    recipients: Sequence[rules.Recipient]
    next_step_at: datetime | None
    exhausted: bool
    delay_minutes: int


def take_step(tx: Session, state: EscalationState, *, now: datetime) -> Step:
    """Page the due level of a claimed state and schedule the next one (or exhaust)."""
    policy = rules.policy_from_json(state.snapshot)
    position = rules.Position(min(state.level, len(policy.levels) - 1), state.loop)
    level = policy.levels[position.level]
    rotation = int(state.rotation.get(str(position.level), 0))
    who = repo.resolve_level(tx, level, at=now, rotation=rotation)
    if level.round_robin:
        state.rotation = {**state.rotation, str(position.level): rotation + 1}
    state.step += 1
    paged = list(state.paged_user_ids)
    for r in who:
        if r.user_id not in paged:
            paged.append(r.user_id)
    state.paged_user_ids = paged
    following = rules.after(policy, position)
    if following is None:
        state.status = "exhausted"
        # The last level still gets its delay: the exhaustion is noted when it runs out.
        state.next_step_at = None
        state.level = position.level + 1
    else:
        state.level = following.level
        state.loop = following.loop
        state.next_step_at = rules.next_step_at(policy, position, now)
    state.updated_at = now
    return Step(
        number=state.step,
        level=position.level,
        loop=position.loop,
        recipients=who,
        next_step_at=state.next_step_at,
        exhausted=following is None,
        delay_minutes=level.delay_minutes,
    )


def mark_unreachable(
    state: EscalationState, *, now: datetime, people: Sequence[dict[str, Any]]
) -> None:
    """Nobody could be reached: the incident says so in red with numbers to call by hand."""
    state.unreachable_at = state.unreachable_at or now
    state.unreachable = list(people)
    _bump(state, now)


def clear_unreachable(state: EscalationState, *, now: datetime) -> None:
    if state.unreachable_at is not None:
        state.unreachable_at = None
        state.unreachable = []
        _bump(state, now)
