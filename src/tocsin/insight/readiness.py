"""Readiness: who in a rotation cannot be reached, which policies reach nobody, which services
have no policy. Gathers facts from the database; ``readiness_rules`` decides."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.escalation import repo, rules
from tocsin.people import contacts
from tocsin.people.tables import TeamMember, TestPage, User
from tocsin.schedules import convert
from tocsin.schedules import repo as schedules_repo
from tocsin.schedules.tables import ScheduleRow
from tocsin.services.tables import Service

from . import readiness_rules as rr
from .readiness_rules import Finding, Report


def _rotations(tx: Session, *, now: datetime) -> dict[uuid.UUID, list[str]]:
    """Everyone in a rotation, with where: schedule layers, direct policy targets, teams
    targeted by policies."""
    where: dict[uuid.UUID, list[str]] = {}

    def note(user_id: uuid.UUID, place: str) -> None:
        places = where.setdefault(user_id, [])
        if place not in places:
            places.append(place)

    rows = list(tx.execute(select(ScheduleRow).order_by(ScheduleRow.name)).scalars())
    for row_id, schedule in schedules_repo.load_schedules(tx, rows, since=now).items():
        name = next(r.name for r in rows if r.id == row_id)
        for layer in schedule.layers:
            if layer.end is not None and layer.end <= now:
                continue
            for key in layer.participants:
                note(convert.user_id_of(key), f"schedule {name}")
    team_ids: dict[uuid.UUID, str] = {}
    for policy in repo.list_policies(tx):
        for level in rules.policy_from_json({"levels": policy.levels}).levels:
            for target in level.targets:
                if target.kind == "user":
                    note(uuid.UUID(target.id), f"policy {policy.name}")
                elif target.kind == "team":
                    team_ids[uuid.UUID(target.id)] = policy.name
    if team_ids:
        members = tx.execute(
            select(TeamMember.team_id, TeamMember.user_id).where(
                TeamMember.team_id.in_(list(team_ids))
            )
        ).all()
        for team_id, user_id in members:
            note(user_id, f"policy {team_ids[team_id]} (team)")
    return where


def _people(tx: Session, *, now: datetime) -> tuple[int, list[Finding]]:
    where = _rotations(tx, now=now)
    if not where:
        return 0, []
    users = list(
        tx.execute(
            select(User).where(User.id.in_(list(where)), User.is_active).order_by(User.name)
        ).scalars()
    )
    methods = contacts.methods_of(tx, [u.id for u in users])
    last_test = dict(
        tx.execute(
            select(TestPage.user_id, func.max(TestPage.acknowledged_at))
            .where(TestPage.user_id.in_([u.id for u in users]))
            .group_by(TestPage.user_id)
        ).all()
    )
    findings: list[Finding] = []
    for user in users:
        mine = methods.get(user.id, [])
        facts = rr.PersonFacts(
            user_id=str(user.id),
            name=user.name,
            email=user.email,
            rotations=tuple(where[user.id]),
            verified_methods=sum(1 for m in mine if m.verified_at is not None),
            high_urgency_steps=len(contacts.effective_plan(tx, user, "high", methods=mine)),
            last_acknowledged_test_at=last_test.get(user.id),
        )
        findings.extend(rr.person_findings(facts, now=now))
    return len(users), findings


def _policies(tx: Session, *, now: datetime) -> tuple[int, list[Finding]]:
    known = repo.known_targets(tx)
    policies = repo.list_policies(tx)
    findings: list[Finding] = []
    for policy in policies:
        levels = rules.policy_from_json({"levels": policy.levels}).levels
        facts = []
        for index, level in enumerate(levels):
            deleted = [t.kind for t in level.targets if t.id not in known.get(t.kind, set())]
            reachable = [r for r in repo.resolve_level(tx, level, at=now) if not r.shadow]
            facts.append(
                rr.LevelFacts(
                    policy=policy.name,
                    level=index + 1,
                    targets=len(level.targets),
                    deleted_targets=deleted,
                    reachable_now=len(reachable),
                )
            )
        findings.extend(rr.policy_findings(policy.name, facts))
    return len(policies), findings


def _services(tx: Session) -> tuple[int, list[Finding]]:
    rows = tx.execute(
        select(Service.name, Service.escalation_policy_id).order_by(Service.name)
    ).all()
    findings = [
        f for name, policy_id in rows for f in rr.service_findings(name, has_policy=bool(policy_id))
    ]
    return len(rows), findings


def report(tx: Session, *, now: datetime) -> Report:
    """Check everyone and everything that pages; read-only, safe to call any time."""
    people, person_findings = _people(tx, now=now)
    policies, policy_findings = _policies(tx, now=now)
    services, service_findings = _services(tx)
    return Report(
        checked_at=now,
        people_checked=people,
        policies_checked=policies,
        services_checked=services,
        findings=(*person_findings, *policy_findings, *service_findings),
    )
