"""Service commands: create a service (prints its routing key), list services."""

from __future__ import annotations

from typing import Any

import typer

from tocsin.cli.context import CLI_ACTOR, container, handled
from tocsin.cli.output import FORMAT_OPTION, Format, emit
from tocsin.escalation import repo as escalation_repo
from tocsin.kernel.errors import ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.services import actions, repo
from tocsin.services.endpoints import intake_url
from tocsin.services.rules import URGENCY_RULES
from tocsin.services.tables import Service

service_app = typer.Typer(help="Create and manage monitored services.", no_args_is_help=True)


@service_app.command("create")
def create_service(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Service name, unique regardless of case."),
    team: str | None = typer.Option(None, "--team", help="Name of the owner team."),
    urgency: str = typer.Option("high", "--urgency", help=f"One of: {', '.join(URGENCY_RULES)}."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Create a service and print its id and Events API v2 routing key."""
    with handled(fmt), container(ctx) as c, c.db.transaction() as tx:
        team_id = None
        if team is not None:
            owner = people_repo.find_team_by_name(tx, team)
            if owner is None:
                raise ValidationFailed.one("team", f"No team named {team}.")
            team_id = owner.id
        service = actions.create_service(
            tx,
            name=name,
            owner_team_id=team_id,
            urgency_rule=urgency,
            actor=CLI_ACTOR,
            now=c.clock.now(),
        )
        body = _row(service, team, c.settings.base_url)
        routing_key = service.integrations[0].routing_key
    if fmt is Format.json:
        emit({**body, "routing_key": routing_key}, fmt)
    else:
        typer.echo(f"id: {body['id']}")
        typer.echo(f"routing_key: {routing_key}")


def list_services(ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    with handled(fmt), container(ctx) as c, c.db.read() as tx:
        teams = {t.id: t.name for t in people_repo.list_teams(tx, limit=10_000)}
        policies = {p.id: p.name for p in escalation_repo.list_policies(tx)}
        rows = [
            {
                **_row(
                    s, teams.get(s.owner_team_id) if s.owner_team_id else None, c.settings.base_url
                ),
                "escalation_policy": policies.get(s.escalation_policy_id)
                if s.escalation_policy_id
                else None,
            }
            for s in repo.list_services(tx, limit=10_000)
        ]
    if fmt is Format.json:
        emit(rows, fmt)
        return
    text_rows = [
        {
            "name": r["name"],
            "team": r["team"] or "",
            "urgency": r["urgency_rule"],
            "policy": r["escalation_policy"] or "(none)",
            "integrations": ", ".join(
                f"{i['kind']}:{i['name']}:{i['routing_key']}" for i in r["integrations"]
            ),
        }
        for r in rows
    ]
    emit(text_rows, fmt, columns=["name", "team", "urgency", "policy", "integrations"])


def _row(service: Service, team: str | None, base_url: str) -> dict[str, Any]:
    return {
        "id": str(service.id),
        "name": service.name,
        "team": team,
        "urgency_rule": service.urgency_rule,
        "integrations": [
            {
                "id": str(i.id),
                "kind": i.kind,
                "name": i.name,
                "routing_key": i.routing_key,
                "url": intake_url(base_url, i.kind, i.routing_key),
            }
            for i in service.integrations
        ],
    }
