"""Incident lifecycle actions people take (web, API, CLI, chat call these; none commit).

Every action authorises, validates, changes state and appends a timeline event in
the caller's transaction. Only the assignee acknowledges; anyone else adds a note
(or reassigns first) — SPEC §1 "Only the person paged acknowledges".
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people.rules import authorize
from tocsin.services import repo as service_repo

from . import paging, repo, rules
from .tables import Incident, SeverityChange
from .timeline import append
from .transitions import close_incident, open_incident

TITLE_MAX = 1024
NOTE_MAX = 10_000


def _touch(incident: Incident, now: datetime) -> None:
    incident.updated_at = now
    incident.version += 1


def trigger_incident(
    tx: Session,
    *,
    title: str,
    service_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    description: str = "",
    urgency: str = "high",
    severity: int | str | None = None,
    assignee_id: uuid.UUID | None = None,
    paging_config: paging.PagingConfig | None = None,
) -> Incident:
    """Open an incident by hand. Anyone may ("when unsure, trigger"), but not read-only."""
    authorize(actor, "incidents.trigger")
    if actor.scope != "write":
        raise PermissionDenied(
            "This API token is read-only; use a write-scoped token.", code="auth.scope"
        )
    title = title.strip()
    if not title or len(title) > TITLE_MAX:
        raise ValidationFailed.one("title", f"Say what is wrong in 1 to {TITLE_MAX} characters.")
    if len(description) > NOTE_MAX:
        raise ValidationFailed.one("description", f"At most {NOTE_MAX} characters.")
    if urgency not in rules.URGENCIES:
        raise ValidationFailed.one("urgency", "Use high or low.")
    level = None if severity in (None, "") else rules.check_severity(severity)
    try:
        service = service_repo.get_service(tx, service_id)
    except NotFound:
        raise ValidationFailed.one("service_id", f"No service {service_id}.") from None
    if assignee_id is not None:
        _check_user(tx, assignee_id, "assignee_id")
    incident = open_incident(
        tx,
        service=service,
        title=title,
        description=description,
        urgency=urgency,
        priority=None,
        severity=level,
        actor=actor,
        now=now,
        reason="Triggered by hand.",
    )
    if level is not None:
        tx.add(
            SeverityChange(
                incident_id=incident.id,
                severity=level,
                previous=None,
                at=now,
                actor_id=actor.user_id,
                actor_name=actor.name,
            )
        )
    if assignee_id is not None:
        incident.assignee_id = assignee_id
        append(
            tx,
            incident,
            kind="incident.reassigned",
            actor=actor,
            at=now,
            data={"to": str(assignee_id), "to_name": _name(tx, assignee_id)},
        )
        paging.page_assignee(tx, incident, actor=actor, now=now, config=paging_config)
    audit.record(
        tx,
        actor=actor,
        kind="incident.triggered",
        subject_type="incident",
        subject_id=incident.id,
        at=now,
        data={"number": incident.number},
    )
    return incident


def _check_user(tx: Session, user_id: uuid.UUID, field: str) -> None:
    try:
        user = people_repo.get_user(tx, user_id)
    except NotFound:
        raise ValidationFailed.one(field, f"No person {user_id}.") from None
    if not user.is_active:
        raise ValidationFailed.one(field, f"{user.name} is deactivated.")


def _name(tx: Session, user_id: uuid.UUID | None) -> str | None:
    if user_id is None:
        return None
    user = people_repo.find_user(tx, user_id)
    return None if user is None else user.name


def acknowledge_incident(
    tx: Session, *, incident_id: uuid.UUID, actor: Actor, now: datetime
) -> Incident:
    """Acknowledge: stops escalation; starts the ack timeout. Safe to call twice.

    With nobody assigned, the person acknowledging takes the incident. With someone
    else assigned, PermissionDenied ``incident.not_assignee``: add a note or reassign.
    """
    authorize(actor, "incidents.write")
    incident = repo.get_incident(tx, incident_id)
    rules.check_transition(incident.status, "acknowledge", incident.number)
    if incident.status == "acknowledged" and incident.assignee_id == actor.user_id:
        return incident
    if actor.user_id is not None and not paging.may_acknowledge(tx, incident, actor.user_id):
        raise PermissionDenied(
            f"Only {_name(tx, incident.assignee_id) or 'the assignee'} acknowledges "
            f"#{incident.number}; add a note, or reassign it to yourself first.",
            code="incident.not_assignee",
        )
    if actor.user_id is not None:
        incident.assignee_id = actor.user_id
    incident.status = "acknowledged"
    incident.acknowledged_at = now
    incident.snoozed_until = None
    timeout = _ack_timeout(tx, incident)
    incident.ack_deadline_at = rules.ack_deadline(now, timeout)
    _touch(incident, now)
    data: dict[str, object] = {}
    if incident.ack_deadline_at is not None:
        data["ack_timeout_at"] = incident.ack_deadline_at.isoformat()
    append(tx, incident, kind="incident.acknowledged", actor=actor, at=now, data=data)
    paging.halt(tx, incident, now=now)
    return incident


def _ack_timeout(tx: Session, incident: Incident) -> int | None:
    if incident.service_id is None:
        return None
    service = service_repo.find_service(tx, incident.service_id)
    return None if service is None else service.ack_timeout_minutes


def resolve_incident(
    tx: Session, *, incident_id: uuid.UUID, actor: Actor, now: datetime, note: str = ""
) -> Incident:
    """Resolve with its open alerts and merged children. Resolving twice is a Conflict."""
    authorize(actor, "incidents.write")
    incident = repo.get_incident(tx, incident_id)
    rules.check_transition(incident.status, "resolve", incident.number)
    if len(note) > NOTE_MAX:
        raise ValidationFailed.one("note", f"At most {NOTE_MAX} characters.")
    close_incident(tx, incident, actor=actor, now=now, why=note.strip() or "Resolved by hand.")
    return incident


def reassign_incident(
    tx: Session,
    *,
    incident_id: uuid.UUID,
    assignee_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    paging_config: paging.PagingConfig | None = None,
) -> Incident:
    """Give the incident to someone else; it goes back to triggered for them to acknowledge."""
    authorize(actor, "incidents.write")
    incident = repo.get_incident(tx, incident_id)
    rules.check_transition(incident.status, "reassign", incident.number)
    _check_user(tx, assignee_id, "assignee_id")
    if incident.assignee_id == assignee_id:
        return incident
    previous = incident.assignee_id
    incident.assignee_id = assignee_id
    incident.status = "triggered"
    incident.acknowledged_at = None
    incident.ack_deadline_at = None
    incident.snoozed_until = None
    _touch(incident, now)
    append(
        tx,
        incident,
        kind="incident.reassigned",
        actor=actor,
        at=now,
        data={
            "from": None if previous is None else str(previous),
            "from_name": _name(tx, previous),
            "to": str(assignee_id),
            "to_name": _name(tx, assignee_id),
        },
    )
    paging.page_assignee(tx, incident, actor=actor, now=now, config=paging_config)
    return incident


def snooze_incident(
    tx: Session, *, incident_id: uuid.UUID, minutes: int, actor: Actor, now: datetime
) -> Incident:
    """Quiet an acknowledged incident for ``minutes``; then it triggers again."""
    authorize(actor, "incidents.write")
    incident = repo.get_incident(tx, incident_id)
    rules.check_transition(incident.status, "snooze", incident.number)
    low, high = rules.SNOOZE_RANGE
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
        raise ValidationFailed.one("minutes", f"Snooze for {low} to {high} minutes.")
    incident.snoozed_until = now + timedelta(minutes=minutes)
    incident.ack_deadline_at = None
    _touch(incident, now)
    append(
        tx,
        incident,
        kind="incident.snoozed",
        actor=actor,
        at=now,
        data={"minutes": minutes, "until": incident.snoozed_until.isoformat()},
    )
    return incident


def add_note(
    tx: Session, *, incident_id: uuid.UUID, text: str, actor: Actor, now: datetime
) -> Incident:
    """Anyone who can read the incident may add a note, in any state."""
    authorize(actor, "incidents.read")
    if actor.scope != "write":
        raise PermissionDenied("A read-only token cannot add notes.", code="auth.read_only")
    incident = repo.get_incident(tx, incident_id)
    text = text.strip()
    if not text or len(text) > NOTE_MAX:
        raise ValidationFailed.one("text", f"Write a note of 1 to {NOTE_MAX} characters.")
    incident.updated_at = now
    append(tx, incident, kind="incident.note", actor=actor, at=now, data={"text": text})
    return incident


def set_severity(
    tx: Session,
    *,
    incident_id: uuid.UUID,
    severity: int | str | None,
    actor: Actor,
    now: datetime,
) -> Incident:
    """Set or clear the severity; every change is kept in the history (also after resolve)."""
    authorize(actor, "incidents.write")
    incident = repo.get_incident(tx, incident_id)
    level = None if severity in (None, "") else rules.check_severity(severity)
    if level == incident.severity:
        return incident
    previous = incident.severity
    incident.severity = level
    _touch(incident, now)
    tx.add(
        SeverityChange(
            incident_id=incident.id,
            severity=level,
            previous=previous,
            at=now,
            actor_id=actor.user_id,
            actor_name=actor.name,
        )
    )
    append(
        tx,
        incident,
        kind="incident.severity_changed",
        actor=actor,
        at=now,
        data={
            "from": rules.severity_label(previous),
            "to": rules.severity_label(level),
            "major": rules.is_major(level),
            "after_resolve": incident.status == "resolved",
        },
    )
    return incident


def set_urgency(
    tx: Session, *, incident_id: uuid.UUID, urgency: str, actor: Actor, now: datetime
) -> Incident:
    """High or low; setting it by hand ends a support-hours hold. Unchanged: records nothing."""
    authorize(actor, "incidents.write")
    if urgency not in rules.URGENCIES:
        raise ValidationFailed.one("urgency", "Use high or low.")
    return _set_choice(tx, incident_id, "urgency", urgency, actor=actor, now=now)


def set_priority(
    tx: Session, *, incident_id: uuid.UUID, priority: str | None, actor: Actor, now: datetime
) -> Incident:
    """High, medium, low, or None to clear. Unchanged: records nothing."""
    authorize(actor, "incidents.write")
    if priority is not None and priority not in rules.PRIORITIES[:3]:
        raise ValidationFailed.one("priority", "Use high, medium or low.")
    return _set_choice(tx, incident_id, "priority", priority, actor=actor, now=now)


def _set_choice(
    tx: Session,
    incident_id: uuid.UUID,
    name: str,
    value: str | None,
    *,
    actor: Actor,
    now: datetime,
) -> Incident:
    incident = repo.get_incident(tx, incident_id)
    previous = getattr(incident, name)
    if value == previous:
        return incident
    setattr(incident, name, value)
    if name == "urgency":
        incident.held_until = None
    _touch(incident, now)
    append(
        tx,
        incident,
        kind=f"incident.{name}_changed",
        actor=actor,
        at=now,
        data={"from": previous, "to": value},
    )
    return incident


def merge_incidents(
    tx: Session,
    *,
    primary_id: uuid.UUID,
    child_ids: Sequence[uuid.UUID],
    actor: Actor,
    now: datetime,
) -> Incident:
    """Group incidents under a primary: children point at it and resolve with it."""
    authorize(actor, "incidents.write")
    primary = repo.get_incident(tx, primary_id)
    if primary.parent_id is not None:
        raise Conflict(
            "incident.is_child",
            f"#{primary.number} is itself merged into another incident; merge into that one.",
            "primary_id",
        )
    if not child_ids:
        raise ValidationFailed.one("child_ids", "Choose at least one incident to merge.")
    for index, child_id in enumerate(dict.fromkeys(child_ids)):
        if child_id == primary.id:
            raise ValidationFailed.one(
                f"child_ids[{index}]", "An incident cannot be merged into itself."
            )
        try:
            child = repo.get_incident(tx, child_id)
        except NotFound:
            raise ValidationFailed.one(f"child_ids[{index}]", f"No incident {child_id}.") from None
        if child.parent_id == primary.id:
            continue
        for grandchild in repo.children(tx, child.id):
            grandchild.parent_id = primary.id
        child.parent_id = primary.id
        _touch(child, now)
        append(
            tx,
            child,
            kind="incident.merged",
            actor=actor,
            at=now,
            data={"primary": str(primary.id), "primary_number": primary.number},
        )
        append(
            tx,
            primary,
            kind="incident.child_merged",
            actor=actor,
            at=now,
            data={"child": str(child.id), "child_number": child.number, "title": child.title},
        )
        if primary.status == "resolved" and child.status != "resolved":
            close_incident(
                tx, child, actor=actor, now=now, why=f"Merged into resolved #{primary.number}."
            )
    _touch(primary, now)
    return primary


def page(
    tx: Session,
    *,
    target: dict[str, Any],
    message: str,
    actor: Actor,
    now: datetime,
    config: paging.PagingConfig | None = None,
    urgency: str = "high",
) -> Incident:
    """Page a person, a schedule's on-call or a team now, about ``message`` (``tocsin page``).

    Opens an incident with no service (so it escalates nowhere) titled by the message and
    adds ``target`` (``{"kind": "user"|"schedule"|"team", "id": ...}``) as responders, so
    whoever is paged can acknowledge it. Refused when the target resolves to nobody now.
    """
    authorize(actor, "incidents.trigger")
    if actor.scope != "write":
        raise PermissionDenied(
            "This API token is read-only; use a write-scoped token.", code="auth.scope"
        )
    title = " ".join(message.split())
    if not title or len(title) > 1024:
        raise ValidationFailed.one("message", "Say what is wrong in 1 to 1024 characters.")
    if urgency not in ("high", "low"):
        raise ValidationFailed.one("urgency", "Use high or low.")
    incident = open_incident(
        tx,
        service=None,
        title=title,
        description=message.strip(),
        urgency=urgency,
        priority=None,
        actor=actor,
        now=now,
    )
    paged = paging.add_responders(
        tx,
        incident_id=incident.id,
        targets=[target],
        actor=actor,
        now=now,
        message=message,
        config=config,
    )
    if not paged:
        raise ValidationFailed.one(
            "target", "Nobody is on call for this target right now: there is nobody to page."
        )
    acting = [p for p in paged if not p["shadow"]]
    if acting:
        incident.assignee_id = uuid.UUID(acting[0]["user_id"])
    return incident
