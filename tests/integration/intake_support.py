"""Helpers for intake tests: a service with its routing key, events, and engine cycles."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tocsin.bootstrap import Container
from tocsin.incidents.tables import Alert, Incident, IncidentEvent
from tocsin.kernel.actor import Actor
from tocsin.services import actions as service_actions

CLI = Actor.system(via="cli")


def make_service(container: Container, name: str = "Checkout", **settings: Any) -> tuple[Any, str]:
    """A service and the routing key of its Events API v2 integration."""
    with container.db.transaction() as tx:
        service = service_actions.create_service(
            tx, name=name, actor=CLI, now=container.clock.now(), **settings
        )
        return service, service.integrations[0].routing_key


def trigger(
    key: str, summary: str = "Disk 95% full on db-1 (/var)", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": summary, "source": "db-1", "severity": "critical"},
    }
    body.update(extra)
    return body


def post(client: TestClient, body: Any, path: str = "/v2/enqueue") -> Any:
    return client.post(path, json=body)


def process(container: Container) -> None:
    """Run the engine once (intake, timers, dispatch) the way a running engine would."""
    container.runner.run_cycle()


def alerts(container: Container) -> list[Alert]:
    with container.db.read() as tx:
        rows = list(tx.execute(select(Alert).order_by(Alert.created_at, Alert.id)).scalars())
        tx.expunge_all()
        return rows


def incidents(container: Container) -> list[Incident]:
    with container.db.read() as tx:
        rows = list(tx.execute(select(Incident).order_by(Incident.number)).scalars())
        tx.expunge_all()
        return rows


PAGING_KINDS = ("incident.unreachable", "incident.escalated", "notification.")


def timeline_kinds(container: Container, incident: Incident) -> list[str]:
    """The incident's timeline kinds, leaving out paging (tested in the paging tests)."""
    with container.db.read() as tx:
        return [
            kind
            for kind in tx.execute(
                select(IncidentEvent.kind)
                .where(IncidentEvent.incident_id == incident.id)
                .order_by(IncidentEvent.id)
            ).scalars()
            if not kind.startswith(PAGING_KINDS)
        ]
