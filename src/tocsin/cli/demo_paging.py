"""Demo paging: verified email and (fictional) SMS for everyone, a policy per team, services linked.

Phone numbers are in the +1 555 555 01xx range reserved for fiction; SMS is "not
configured" in the demo, so the message log shows those pages as not sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.escalation import actions as escalation
from tocsin.escalation import repo as escalation_repo
from tocsin.kernel.actor import Actor
from tocsin.people import contacts
from tocsin.people import repo as people_repo
from tocsin.people.tables import Team, User
from tocsin.schedules import repo as schedule_repo
from tocsin.services import actions as service_actions
from tocsin.services import repo as service_repo

SYSTEM = Actor.system(name="Tocsin demo", via="cli")
LEVEL_MINUTES = 5


def demo_phone(index: int) -> str:
    """A fictional E.164 number: +1 555 555 0100 to 0199."""
    return f"+155555501{index % 100:02d}"


def _contacts(tx: Session, *, now: datetime) -> None:
    users = tx.execute(select(User).order_by(User.created_at, User.email)).scalars().all()
    for index, user in enumerate(users):
        if contacts.list_methods(tx, user.id):
            continue
        for kind, address, label in (
            ("email", user.email, "Work email"),
            ("sms", demo_phone(index), "Mobile (fictional)"),
        ):
            contacts.add_method(
                tx,
                user_id=user.id,
                kind=kind,
                address=address,
                label=label,
                actor=SYSTEM,
                now=now,
                verified=True,
            )


def _levels(tx: Session, team: Team) -> list[dict[str, Any]]:
    schedules = schedule_repo.list_schedules(tx, limit=1000, team_id=team.id)
    by_name = {s.name: s for s in schedules}
    primary = by_name.get(f"{team.name} primary") or (schedules[0] if schedules else None)
    backup = by_name.get(f"{team.name} backup")
    levels: list[dict[str, Any]] = []
    if primary is not None:
        levels.append({"kind": "schedule", "id": str(primary.id)})
    if backup is not None and backup is not primary:
        levels.append({"kind": "schedule", "id": str(backup.id)})
    else:
        manager = next((m for m in team.members if m.is_manager), None)
        if manager is not None:
            levels.append({"kind": "user", "id": str(manager.user_id)})
    levels.append({"kind": "team", "id": str(team.id)})
    return [{"delay_minutes": LEVEL_MINUTES, "targets": [t]} for t in levels]


def seed(tx: Session, *, now: datetime) -> bool:
    """Give people contact methods and each team a policy, unless policies exist; idempotent."""
    if escalation_repo.list_policies(tx):
        return False
    teams = people_repo.list_teams(tx, limit=1000)
    if not teams:
        return False
    _contacts(tx, now=now)
    policies = {}
    for team in teams:
        if not team.members:
            continue
        policy = escalation.create_policy(
            tx,
            name=f"{team.name} escalation",
            description=f"{team.name}: primary on-call, then backup, then the whole team.",
            levels=_levels(tx, team),
            repeat=1,
            team_id=team.id,
            actor=SYSTEM,
            now=now,
        )
        policies[team.id] = policy.id
    for service in service_repo.list_services(tx, limit=10_000):
        policy_id = policies.get(service.owner_team_id) if service.owner_team_id else None
        if policy_id is not None and service.escalation_policy_id is None:
            service_actions.update_service(
                tx, service_id=service.id, escalation_policy_id=policy_id, actor=SYSTEM, now=now
            )
    return True
