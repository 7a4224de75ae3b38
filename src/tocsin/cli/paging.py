"""Paging commands: ``tocsin page``, ``tocsin policies`` and ``tocsin readiness``."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.orm import Session

from tocsin.cli.context import container, handled
from tocsin.cli.incidents import AS_OPTION, _actor
from tocsin.cli.output import FORMAT_OPTION, Format, emit
from tocsin.escalation import repo as escalation_repo
from tocsin.escalation import rules as escalation_rules
from tocsin.incidents import actions as incident_actions
from tocsin.insight import readiness
from tocsin.kernel.errors import ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.schedules import repo as schedules_repo

TARGET_HELP = (
    "A person's email, a schedule name or a team name (tried in that order), "
    "or say which with user:, schedule: or team:."
)


def resolve_target(tx: Session, raw: str) -> tuple[dict[str, str], str]:
    """``{"kind", "id"}`` for a target as typed, and how to name it back."""
    kind, sep, rest = raw.partition(":")
    wanted = (
        kind.strip().lower()
        if sep and kind.strip().lower() in ("user", "schedule", "team")
        else None
    )
    name = rest.strip() if wanted else raw.strip()
    if wanted in (None, "user"):
        user = people_repo.find_user_by_email(tx, name.lower()) or people_repo.find_user_by_email(
            tx, name
        )
        if user is not None and user.is_active:
            return {"kind": "user", "id": str(user.id)}, f"{user.name} <{user.email}>"
    if wanted in (None, "schedule"):
        schedule = schedules_repo.find_schedule_by_name(tx, name)
        if schedule is not None:
            return {"kind": "schedule", "id": str(schedule.id)}, f"schedule {schedule.name}"
    if wanted in (None, "team"):
        team = people_repo.find_team_by_name(tx, name)
        if team is not None:
            return {"kind": "team", "id": str(team.id)}, f"team {team.name}"
    what = wanted or "person, schedule or team"
    raise ValidationFailed.one("target", f"No {what} named {name!r}.")


def page(
    ctx: typer.Context,
    target: str = typer.Argument(..., help=TARGET_HELP),
    message: str = typer.Argument(..., help="What is wrong; it becomes the incident's title."),
    urgency: str = typer.Option("high", "--urgency", help="high or low."),
    as_email: str | None = AS_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Page a person, a schedule's on-call or a team now; prints the incident number."""
    with handled(fmt), container(ctx) as c:
        with c.db.transaction() as tx:
            resolved, label = resolve_target(tx, target)
            incident = incident_actions.page(
                tx,
                target=resolved,
                message=message,
                actor=_actor(tx, as_email),
                now=c.clock.now(),
                config=c.paging,
                urgency=urgency,
            )
            tx.flush()
            state = escalation_repo.find_state(tx, incident.id)
            body = {
                "id": str(incident.id),
                "number": incident.number,
                "title": incident.title,
                "urgency": incident.urgency,
                "target": {**resolved, "name": label},
                "paged_user_ids": [] if state is None else list(state.paged_user_ids),
            }
        c.wake()
    if fmt is Format.json:
        emit(body, fmt)
    else:
        typer.echo(str(body["number"]))


def policies(ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    """Escalation policies with their levels, delays and targets by name."""
    with handled(fmt), container(ctx) as c, c.db.read() as tx:
        rows: list[dict[str, Any]] = []
        teams = {t.id: t.name for t in people_repo.list_teams(tx, limit=100_000)}
        for policy in escalation_repo.list_policies(tx):
            parsed = escalation_rules.policy_from_json({"levels": policy.levels})
            names = escalation_repo.target_names(
                tx, [t for level in parsed.levels for t in level.targets]
            )
            rows.append(
                {
                    "id": str(policy.id),
                    "name": policy.name,
                    "team": teams.get(policy.team_id) if policy.team_id else None,
                    "repeat": policy.repeat,
                    "levels": [
                        {
                            "level": i + 1,
                            "delay_minutes": level.delay_minutes,
                            "round_robin": level.round_robin,
                            "targets": [
                                {"kind": t.kind, "id": t.id, "name": names[t]}
                                for t in level.targets
                            ],
                        }
                        for i, level in enumerate(parsed.levels)
                    ],
                }
            )
    if fmt is Format.json:
        emit(rows, fmt)
        return
    emit(
        [
            {
                "policy": r["name"],
                "team": r["team"] or "",
                "repeat": r["repeat"],
                "levels": " → ".join(
                    f"{lv['level']}: "
                    + ", ".join(f"{t['kind']} {t['name']}" for t in lv["targets"])
                    + f" ({lv['delay_minutes']} min)"
                    for lv in r["levels"]
                ),
            }
            for r in rows
        ],
        fmt,
        columns=["policy", "team", "repeat", "levels"],
    )


def readiness_report(ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    """Who in a rotation cannot be reached, which policies reach nobody, services without one."""
    with handled(fmt), container(ctx) as c, c.db.read() as tx:
        report = readiness.report(tx, now=c.clock.now())
    if fmt is Format.json:
        emit(report.to_json(), fmt)
        return
    emit(
        [{"what": f.kind, "problem": f.message} for f in report.findings],
        fmt,
        columns=["what", "problem"],
    )
    typer.echo(
        f"checked {report.people_checked} people, {report.policies_checked} policies, "
        f"{report.services_checked} services: "
        + ("ready" if report.ready else f"{len(report.findings)} problems")
    )
