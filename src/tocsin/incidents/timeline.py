"""The incident timeline: every state change appends one event in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.kernel.actor import Actor
from tocsin.kernel.ids import new_id

from .tables import Incident, IncidentEvent

# What each kind means, for people reading the timeline (UI and CLI share these words).
KINDS: dict[str, str] = {
    "incident.triggered": "Triggered",
    "incident.acknowledged": "Acknowledged",
    "incident.resolved": "Resolved",
    "incident.reassigned": "Reassigned",
    "incident.snoozed": "Snoozed",
    "incident.unsnoozed": "Snooze ended",
    "incident.ack_timeout": "Acknowledgement timed out: triggered again",
    "incident.held": "Held until support hours",
    "incident.released": "Support hours began",
    "incident.note": "Note",
    "incident.severity_changed": "Severity changed",
    "incident.urgency_changed": "Urgency changed",
    "incident.priority_changed": "Priority changed",
    "incident.merged": "Merged into a primary",
    "incident.child_merged": "Incident merged in",
    "alert.joined": "Alert joined",
    "alert.resolved": "Alert resolved by its source",
    "incident.escalated": "Paged",
    "incident.escalate_requested": "Escalated by hand",
    "incident.responders_added": "Responders added",
    "incident.unreachable": "Nobody could be reached",
    "notification.sent": "Notification sent",
    "notification.retrying": "Notification failed; retrying",
    "notification.failed": "Notification failed",
    "notification.fallback": "Falling back to another method",
    "notification.cancelled": "Pending notifications cancelled",
}


def append(
    tx: Session,
    incident: Incident,
    *,
    kind: str,
    actor: Actor,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> IncidentEvent:
    """Add one timeline event (``kind`` from ``KINDS``); the caller's transaction commits it."""
    event = IncidentEvent(
        id=new_id(),
        incident_id=incident.id,
        kind=kind,
        at=at,
        actor_id=actor.user_id,
        actor_name=actor.name,
        data=data or {},
    )
    tx.add(event)
    return event
