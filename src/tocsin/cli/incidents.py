"""Incident commands: trigger, list, acknowledge and resolve (``tocsin ack 1423``)."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.orm import Session

from tocsin.cli.context import CLI_ACTOR, container, handled
from tocsin.cli.output import FORMAT_OPTION, Format, emit
from tocsin.incidents import actions, repo, rules
from tocsin.incidents.repo import IncidentFilter
from tocsin.incidents.tables import Incident
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import ValidationFailed
from tocsin.people import actions as people_actions
from tocsin.people import repo as people_repo
from tocsin.services import repo as service_repo

AS_OPTION = typer.Option(
    None,
    "--as",
    help="Act as this person (email), so only-the-assignee-acknowledges applies; "
    "without it you act as the operator at the server's shell.",
)


def _actor(tx: Session, email: str | None) -> Actor:
    if email is None:
        return CLI_ACTOR
    user = people_repo.find_user_by_email(tx, email)
    if user is None or not user.is_active:
        raise ValidationFailed.one("as", f"No active person with the email {email}.")
    return people_actions.actor_for(user, via="cli")


def _row(tx: Session, incident: Incident) -> dict[str, Any]:
    service = (
        None if incident.service_id is None else service_repo.find_service(tx, incident.service_id)
    )
    assignee = (
        None if incident.assignee_id is None else people_repo.find_user(tx, incident.assignee_id)
    )
    return {
        "id": str(incident.id),
        "number": incident.number,
        "title": incident.title,
        "status": incident.status,
        "urgency": incident.urgency,
        "priority": incident.priority,
        "severity": None if incident.severity is None else rules.severity_label(incident.severity),
        "major": rules.is_major(incident.severity),
        "service": None if service is None else service.name,
        "assignee": None if assignee is None else assignee.email,
        "alert_count": incident.alert_count,
        "created_at": incident.created_at.isoformat(),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "resolved_at": _iso(incident.resolved_at),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def trigger(
    ctx: typer.Context,
    service: str = typer.Option(..., "--service", help="Name of the service."),
    title: str = typer.Option(..., "--title", help="What is wrong, in a line."),
    description: str = typer.Option("", "--description", help="More detail."),
    severity: str | None = typer.Option(None, "--severity", help="SEV-1 to SEV-5."),
    urgency: str = typer.Option("high", "--urgency", help="high or low."),
    as_email: str | None = AS_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Open an incident by hand and print its number."""
    with handled(fmt), container(ctx) as c, c.db.transaction() as tx:
        found = service_repo.find_service_by_name(tx, service)
        if found is None:
            raise ValidationFailed.one("service", f"No service named {service}.")
        incident = actions.trigger_incident(
            tx,
            title=title,
            service_id=found.id,
            description=description,
            urgency=urgency,
            severity=severity,
            actor=_actor(tx, as_email),
            now=c.clock.now(),
        )
        tx.flush()
        row = _row(tx, incident)
    if fmt is Format.json:
        emit(row, fmt)
    else:
        typer.echo(str(row["number"]))


def list_incidents(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None, "--status", help="Comma list of triggered, acknowledged, resolved."
    ),
    service: str | None = typer.Option(None, "--service", help="Name of the service."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="At most this many."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """List incidents, newest first."""
    with handled(fmt), container(ctx) as c, c.db.read() as tx:
        statuses = tuple(s.strip() for s in (status or "").split(",") if s.strip())
        for value in statuses:
            if value not in rules.STATUSES:
                raise ValidationFailed.one("status", "Use triggered, acknowledged or resolved.")
        service_id = None
        if service is not None:
            found = service_repo.find_service_by_name(tx, service)
            if found is None:
                raise ValidationFailed.one("service", f"No service named {service}.")
            service_id = found.id
        chosen = IncidentFilter(statuses=statuses, service_id=service_id)
        rows = [_row(tx, i) for i in repo.list_incidents(tx, filter=chosen, limit=limit)]
    if fmt is Format.json:
        emit(rows, fmt)
        return
    emit(
        [{**r, "severity": r["severity"] or "", "service": r["service"] or ""} for r in rows],
        fmt,
        columns=["number", "status", "severity", "urgency", "service", "title"],
    )


def ack(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Incident number (1423 or #1423) or id."),
    as_email: str | None = AS_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Acknowledge an incident: paging stops."""
    with handled(fmt), container(ctx) as c, c.db.transaction() as tx:
        incident = repo.get_incident_ref(tx, number)
        actions.acknowledge_incident(
            tx, incident_id=incident.id, actor=_actor(tx, as_email), now=c.clock.now()
        )
        row = _row(tx, incident)
    _done(row, fmt, "acknowledged")


def resolve(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Incident number (1423 or #1423) or id."),
    as_email: str | None = AS_OPTION,
    note: str = typer.Option("", "--note", help="What fixed it."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Resolve an incident, with its alerts and merged incidents."""
    with handled(fmt), container(ctx) as c, c.db.transaction() as tx:
        incident = repo.get_incident_ref(tx, number)
        actions.resolve_incident(
            tx, incident_id=incident.id, actor=_actor(tx, as_email), now=c.clock.now(), note=note
        )
        row = _row(tx, incident)
    _done(row, fmt, "resolved")


def _done(row: dict[str, Any], fmt: Format, what: str) -> None:
    if fmt is Format.json:
        emit(row, fmt)
    else:
        typer.echo(f"#{row['number']} {what}: {row['title']}")
