"""Named graphs for paging scenarios: people with verified methods, a policy, a service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tocsin.bootstrap import Container
from tocsin.escalation import actions as escalation
from tocsin.incidents import intake
from tocsin.incidents.events import parse_alert_event
from tocsin.kernel.actor import Actor
from tocsin.people import actions as people
from tocsin.people import contacts
from tocsin.people.tables import User
from tocsin.services import actions as services
from tocsin.services import repo as services_repo

SYSTEM = Actor.system(via="cli")


@dataclass
class Paging:
    ada: User
    bob: User
    policy_id: uuid.UUID
    service_id: uuid.UUID
    routing_key: str


def person(
    container: Container,
    name: str,
    *,
    methods: tuple[tuple[str, str], ...] = (),
    role: str = "responder",
) -> User:
    """A person with the given (kind, address) methods, already verified."""
    now = container.clock.now()
    with container.db.transaction() as tx:
        user = people.create_user(
            tx,
            email=f"{name.lower()}@example.com",
            name=name,
            role=role,
            actor=SYSTEM,
            now=now,
        )
        for kind, address in methods:
            contacts.add_method(
                tx,
                user_id=user.id,
                kind=kind,
                address=address,
                label="",
                actor=SYSTEM,
                now=now,
                allow_private=True,
                verified=True,
            )
        tx.expunge(user)
        return user


def two_level_service(
    container: Container, *, repeat: int = 0, delay: int = 5, **service: Any
) -> Paging:
    """Ada (email + SMS) at level 1, Bob (email) at level 2, ``delay`` minutes each."""
    ada = person(container, "Ada", methods=(("email", "ada@example.com"), ("sms", "+14155550101")))
    bob = person(container, "Bob", methods=(("email", "bob@example.com"),))
    now = container.clock.now()
    with container.db.transaction() as tx:
        policy = escalation.create_policy(
            tx,
            name="Checkout on-call",
            levels=[
                {"delay_minutes": delay, "targets": [{"kind": "user", "id": str(ada.id)}]},
                {"delay_minutes": delay, "targets": [{"kind": "user", "id": str(bob.id)}]},
            ],
            repeat=repeat,
            actor=SYSTEM,
            now=now,
        )
        made = services.create_service(
            tx,
            name="Checkout",
            escalation_policy_id=policy.id,
            actor=SYSTEM,
            now=now,
            **service,
        )
        return Paging(ada, bob, policy.id, made.id, made.integrations[0].routing_key)


def send_trigger(container: Container, key: str, dedup_key: str = "disk", **payload: Any) -> None:
    """Accept one Events API v2 trigger the way the intake endpoint does."""
    body = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": payload.get("summary", "Disk 95% full on db-1"),
            "source": "db-1",
            "severity": payload.get("severity", "critical"),
        },
    }
    event = parse_alert_event(body, generated_key=dedup_key)
    with container.db.transaction() as tx:
        integration = services_repo.find_integration_by_routing_key(tx, key)
        assert integration is not None
        intake.accept_events(
            tx,
            items=[intake.Accepted(integration.service_id, integration.id, "events_v2", event)],
            now=container.clock.now(),
        )
