"""Incident state changes shared by the intake, the timers and people's actions.

Opening (with its number, first timeline event and timers), acknowledging from a
source, and closing (with open alerts and merged children). Callers own the
transaction; nothing here commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.db import counters
from tocsin.kernel.actor import Actor
from tocsin.kernel.ids import new_id
from tocsin.services.tables import Service

from . import paging, repo, rules
from .tables import Alert, Incident
from .timeline import append

COUNTER = "incident"


def alert_data(alert: Alert, reason: str) -> dict[str, Any]:
    return {
        "alert_id": str(alert.id),
        "summary": alert.summary,
        "source": alert.source,
        "severity": alert.severity,
        "dedup_key": alert.dedup_key,
        "reason": reason,
        "quality_flags": list(alert.quality_flags),
    }


def open_incident(
    tx: Session,
    *,
    service: Service | None,
    title: str,
    description: str,
    urgency: str,
    priority: str | None,
    actor: Actor,
    now: datetime,
    held_until: datetime | None = None,
    group_key: str | None = None,
    storm: bool = False,
    severity: int | None = None,
    first_alert: Alert | None = None,
    reason: str = "",
) -> Incident:
    """Create an incident in ``triggered`` with its first timeline event and timers."""
    incident = Incident(
        id=new_id(),
        number=counters.next_number(tx, COUNTER),
        title=title,
        description=description,
        service_id=None if service is None else service.id,
        status="triggered",
        urgency=urgency,
        priority=priority,
        severity=severity,
        created_by_id=actor.user_id,
        group_key=group_key,
        storm=storm,
        alert_count=1 if first_alert is not None else 0,
        created_at=now,
        updated_at=now,
        last_alert_at=now if first_alert is not None else None,
        held_until=held_until,
        auto_resolve_at=(
            rules.auto_resolve_at(now, service.auto_resolve_minutes)
            if service is not None and first_alert is not None
            else None
        ),
        version=0,
    )
    tx.add(incident)
    # Tables refer to each other by name only (no ORM relationships), so the unit of work
    # cannot order inserts: write the incident before anything that points at it.
    tx.flush()
    data: dict[str, Any] = {"title": title, "urgency": urgency, "priority": priority}
    if first_alert is not None:
        data.update(alert_data(first_alert, reason))
    if held_until is not None:
        data["held_until"] = held_until.isoformat()
    if severity is not None:
        data["severity"] = severity
    append(tx, incident, kind="incident.triggered", actor=actor, at=now, data=data)
    paging.begin(tx, incident, service, now=now)
    return incident


def acknowledge_from_source(
    tx: Session, incident_id: uuid.UUID, actor: Actor, now: datetime
) -> None:
    incident = repo.get_incident(tx, incident_id)
    if incident.status != "triggered":
        return
    incident.status = "acknowledged"
    incident.acknowledged_at = now
    incident.updated_at = now
    incident.version += 1
    append(
        tx,
        incident,
        kind="incident.acknowledged",
        actor=actor,
        at=now,
        data={"by": "source"},
    )
    paging.halt(tx, incident, now=now)


def close_incident(
    tx: Session, incident: Incident, *, actor: Actor, now: datetime, why: str
) -> None:
    """Resolve an incident, its open alerts and its merged children (safe to call twice)."""
    if incident.status == "resolved":
        return
    incident.status = "resolved"
    incident.resolved_at = now
    incident.updated_at = now
    incident.ack_deadline_at = None
    incident.auto_resolve_at = None
    incident.snoozed_until = None
    incident.held_until = None
    incident.version += 1
    # Alerts added in this transaction but not yet flushed are not in the query's answer.
    pending = [a for a in tx.new if isinstance(a, Alert) and a.incident_id == incident.id]
    for alert in [*repo.list_alerts(tx, limit=10_000, incident_id=incident.id), *pending]:
        if alert.open_key is not None:
            alert.status = "resolved"
            alert.open_key = None
            alert.resolved_at = now
    append(tx, incident, kind="incident.resolved", actor=actor, at=now, data={"why": why})
    paging.halt(tx, incident, now=now)
    for child in repo.children(tx, incident.id):
        close_incident(
            tx, child, actor=actor, now=now, why=f"Resolved with its primary #{incident.number}."
        )
