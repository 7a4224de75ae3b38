"""``tocsin demo``: a realistic demo organisation on embedded SQLite, served at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from tocsin import bootstrap
from tocsin.cli import demo_alerts, demo_paging, demo_schedules
from tocsin.cli.context import CLI_ACTOR, globals_of, handled
from tocsin.cli.server import run_server
from tocsin.notifications import actions as outbox
from tocsin.people import actions, repo
from tocsin.people.actions import Membership
from tocsin.services import actions as service_actions
from tocsin.services import repo as service_repo

DEMO_PASSWORD = "tocsin-demo"  # noqa: S105 - printed on start; demo data only
ADMIN_EMAIL = "admin@example.com"


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str
    time_zone: str
    teams: tuple[str, ...]
    manages: tuple[str, ...] = ()


TEAMS = {
    "Platform": "Kubernetes clusters, networking, the API gateway and the databases.",
    "Payments": "Checkout, card processing and payouts.",
    "Storefront": "The public web shop and mobile apps.",
    "Data": "Warehouse, pipelines and the recommendations service.",
    "Security": "Security operations; always part of a security incident.",
    "Incident Commanders": "The IC rotation: primary, backup and shadows.",
    "Customer Support": "First line for customers; owns the status page wording.",
    "Marketing": "Campaigns, social media and the public blog.",
    "Legal": "Contracts, regulators and law enforcement requests.",
    "Finance": "Billing, revenue and payouts reconciliation.",
    "Executives": "Leadership; the SEV-1 stakeholders.",
}

PEOPLE = (
    Person(ADMIN_EMAIL, "Alex Admin", "admin", "Europe/London", ("Platform",)),
    Person(
        "priya.natarajan@example.com",
        "Priya Natarajan",
        "manager",
        "Europe/London",
        ("Platform", "Incident Commanders"),
        ("Platform",),
    ),
    Person("marcus.oduya@example.com", "Marcus Oduya", "responder", "Europe/London", ("Platform",)),
    Person("lena.fischer@example.com", "Lena Fischer", "responder", "Europe/Berlin", ("Platform",)),
    Person(
        "diego.ramirez@example.com",
        "Diego Ramírez",
        "responder",
        "America/New_York",
        ("Platform", "Incident Commanders"),
    ),
    Person(
        "aiko.tanaka@example.com", "Aiko Tanaka", "responder", "Australia/Sydney", ("Platform",)
    ),
    Person(
        "sam.okafor@example.com",
        "Sam Okafor",
        "manager",
        "America/New_York",
        ("Payments",),
        ("Payments",),
    ),
    Person(
        "hannah.berg@example.com",
        "Hannah Berg",
        "responder",
        "Europe/Berlin",
        ("Payments", "Incident Commanders"),
    ),
    Person("raj.mehta@example.com", "Raj Mehta", "responder", "Asia/Kolkata", ("Payments",)),
    Person("chloe.martin@example.com", "Chloé Martin", "responder", "Europe/Paris", ("Payments",)),
    Person(
        "tom.walsh@example.com",
        "Tom Walsh",
        "manager",
        "America/Los_Angeles",
        ("Storefront",),
        ("Storefront",),
    ),
    Person(
        "nora.lindqvist@example.com",
        "Nora Lindqvist",
        "responder",
        "Europe/Stockholm",
        ("Storefront",),
    ),
    Person(
        "kwame.asante@example.com", "Kwame Asante", "responder", "America/Chicago", ("Storefront",)
    ),
    Person("mei.chen@example.com", "Mei Chen", "responder", "Asia/Singapore", ("Data",)),
    Person(
        "oliver.grant@example.com",
        "Oliver Grant",
        "responder",
        "Europe/London",
        ("Data",),
        ("Data",),
    ),
    Person(
        "fatima.zahra@example.com",
        "Fatima Zahra",
        "responder",
        "Africa/Casablanca",
        ("Security", "Incident Commanders"),
        ("Security",),
    ),
    Person("ivan.petrov@example.com", "Ivan Petrov", "responder", "Europe/Sofia", ("Security",)),
    Person(
        "grace.kim@example.com",
        "Grace Kim",
        "responder",
        "America/Los_Angeles",
        ("Incident Commanders",),
        ("Incident Commanders",),
    ),
    Person(
        "ben.carter@example.com",
        "Ben Carter",
        "observer",
        "America/New_York",
        ("Customer Support",),
        ("Customer Support",),
    ),
    Person(
        "sofia.rossi@example.com", "Sofia Rossi", "observer", "Europe/Rome", ("Customer Support",)
    ),
    Person(
        "jade.nguyen@example.com",
        "Jade Nguyen",
        "stakeholder",
        "America/Los_Angeles",
        ("Marketing",),
        ("Marketing",),
    ),
    Person(
        "robert.hughes@example.com",
        "Robert Hughes",
        "stakeholder",
        "Europe/London",
        ("Legal",),
        ("Legal",),
    ),
    Person(
        "amara.eze@example.com",
        "Amara Eze",
        "stakeholder",
        "Europe/London",
        ("Finance",),
        ("Finance",),
    ),
    Person(
        "catherine.doyle@example.com",
        "Catherine Doyle",
        "stakeholder",
        "America/New_York",
        ("Executives",),
        ("Executives",),
    ),
    Person(
        "william.shah@example.com", "William Shah", "stakeholder", "Europe/London", ("Executives",)
    ),
)


SERVICES = (
    # (name, team, urgency rule, description, runbook)
    ("Checkout API", "Payments", "high", "Takes orders and card payments.", "checkout-api"),
    ("Payouts", "Payments", "support_hours", "Daily merchant payouts.", "payouts"),
    ("Storefront Web", "Storefront", "severity", "The public shop.", "storefront-web"),
    ("Kubernetes Platform", "Platform", "high", "Production clusters and ingress.", "k8s"),
    ("Primary Postgres", "Platform", "high", "The main database cluster.", "postgres"),
    ("Recommendations", "Data", "low", "Product suggestions; degrades gracefully.", "recs"),
    (
        "Nightly ETL",
        "Data",
        "support_hours",
        "Warehouse loads; fine to wait for the morning.",
        "etl",
    ),
)

BUSINESS_HOURS = {
    "time_zone": "Europe/London",
    "windows": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}],
}


def seed(tx: Session, *, now: datetime, base_url: str) -> bool:
    """Create the demo organisation unless people already exist; True if it seeded."""
    if repo.count_users(tx) > 0:
        return False
    users = {}
    for person in PEOPLE:
        users[person.email] = actions.create_user(
            tx,
            email=person.email,
            name=person.name,
            role=person.role,
            time_zone=person.time_zone,
            password=DEMO_PASSWORD,
            actor=CLI_ACTOR,
            now=now,
        )
    for team_name, description in TEAMS.items():
        team = actions.create_team(
            tx, name=team_name, description=description, actor=CLI_ACTOR, now=now
        )
        members = [
            Membership(users[p.email].id, is_manager=team_name in p.manages)
            for p in PEOPLE
            if team_name in p.teams
        ]
        actions.update_team(tx, team_id=team.id, members=members, actor=CLI_ACTOR, now=now)
    for name, owner, rule, description, runbook in SERVICES:
        service_actions.create_service(
            tx,
            name=name,
            description=description,
            owner_team_id=repo.get_team_by_name(tx, owner).id,
            urgency_rule=rule,
            support_hours=BUSINESS_HOURS if rule == "support_hours" else None,
            ack_timeout_minutes=30,
            auto_resolve_minutes=240 if rule != "high" else None,
            runbook_links=[{"title": "Runbook", "url": f"https://runbooks.example.com/{runbook}"}],
            # Info-level events are notifications: recorded and shown, never paged.
            event_rules=[{"field": "severity", "op": "equals", "value": "info", "suppress": True}],
            grouping=(
                {"mode": "fields", "window_minutes": 30, "fields": ["component"]}
                if owner == "Platform"
                else None
            ),
            actor=CLI_ACTOR,
            now=now,
        )
    # One real message, so the message log shows what delivery looks like (sent, or why not).
    admin = users[ADMIN_EMAIL]
    admin_actor = actions.actor_for(admin, via="cli")
    outbox.send_test_email(tx, user_id=admin.id, actor=admin_actor, now=now, base_url=base_url)
    return True


def demo(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8080, min=1, max=65535, help="TCP port."),
) -> None:
    """Start a populated demo instance on embedded SQLite and print where to sign in."""
    g = globals_of(ctx)
    data_dir = g.data_dir or Path.home() / ".local" / "share" / "tocsin-demo"
    base_url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"  # noqa: S104
    with handled():
        settings = g.settings(data_dir=data_dir, base_url=base_url)
        if settings.database_url:
            raise typer.BadParameter("the demo runs on embedded SQLite; unset TOCSIN_DATABASE_URL")
        c = bootstrap.build(settings, upgrade=True)
        with c.db.transaction() as tx:
            created = seed(tx, now=c.clock.now(), base_url=base_url)
            demo_schedules.seed(tx, now=c.clock.now())  # idempotent on its own
            demo_paging.seed(tx, now=c.clock.now())  # idempotent; needs the schedules
            demo_alerts.seed_history(tx, now=c.clock.now())  # idempotent on its own
            checkout = service_repo.find_service_by_name(tx, "Checkout API")
            key = checkout.integrations[0].routing_key if checkout else "ROUTING_KEY"
    state = "created" if created else "reused"
    banner = (
        f"Demo organisation {state} in {data_dir}\n"
        f"Open {base_url}/ and sign in as {ADMIN_EMAIL} / {DEMO_PASSWORD}\n"
        f"(every demo person has the same password; API docs at {base_url}/api/docs)\n"
        "A demo alert arrives every minute or two. Send your own (PagerDuty Events API v2):\n"
        f"  curl -X POST {base_url}/v2/enqueue -H 'Content-Type: application/json' -d "
        f'\'{{"routing_key": "{key}", "event_action": "trigger", "payload": '
        '{"summary": "Test alert from curl", "source": "laptop", "severity": "critical"}}\''
    )
    trickle = demo_alerts.Trickle(c)
    trickle.start()
    try:
        run_server(c, host=host, port=port, engine=True, banner=banner)
    finally:
        trickle.stop()
