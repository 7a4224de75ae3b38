"""Rows of the incidents slice rendered as API bodies (names looked up, labels derived)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from tocsin.escalation import repo as escalation_repo
from tocsin.escalation.tables import EscalationState
from tocsin.incidents import repo, rules
from tocsin.incidents.tables import Alert, ChangeEvent, Incident, IncidentEvent, SeverityChange
from tocsin.incidents.timeline import KINDS
from tocsin.people import repo as people_repo
from tocsin.services import repo as service_repo
from tocsin.web.api.incident_schemas import (
    ActorOut,
    AlertOut,
    CallByHand,
    ChangeOut,
    EscalationOut,
    IncidentOut,
    Named,
    QualityFlag,
    Severity,
    SeverityChangeOut,
    TimelineEventOut,
)

INCIDENT_PAGE = "/incidents/{number}"


def severity(level: int | None) -> Severity | None:
    return None if level is None else Severity(level=level, label=rules.severity_label(level))


def quality(flags: list[str] | None) -> list[QualityFlag]:
    return [QualityFlag(flag=f, advice=rules.QUALITY_FLAGS.get(f, f)) for f in flags or []]


def html_url(base_url: str, number: int) -> str:
    return base_url.rstrip("/") + INCIDENT_PAGE.format(number=number)


def incident_out(tx: Session, incident: Incident, base_url: str) -> IncidentOut:
    """One incident; names come through the session's identity map (one query per id)."""
    service = None
    if incident.service_id is not None:
        found = service_repo.find_service(tx, incident.service_id)
        if found is not None:
            service = Named(id=found.id, name=found.name)
    assignee = None
    if incident.assignee_id is not None:
        user = people_repo.find_user(tx, incident.assignee_id)
        if user is not None:
            assignee = Named(id=user.id, name=user.name)
    parent_number = None
    if incident.parent_id is not None:
        parent = tx.get(Incident, incident.parent_id)
        parent_number = None if parent is None else parent.number
    return IncidentOut(
        id=incident.id,
        number=incident.number,
        title=incident.title,
        description=incident.description,
        status=incident.status,
        urgency=incident.urgency,
        priority=incident.priority,
        severity=severity(incident.severity),
        major=rules.is_major(incident.severity),
        service=service,
        assignee=assignee,
        alert_count=incident.alert_count,
        storm=incident.storm,
        parent_number=parent_number,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        snoozed_until=incident.snoozed_until,
        html_url=html_url(base_url, incident.number),
        escalation=escalation_out(tx, escalation_repo.find_state(tx, incident.id)),
    )


def escalation_out(tx: Session, state: EscalationState | None) -> EscalationOut | None:
    if state is None:
        return None
    levels = len(state.snapshot.get("levels", []))
    paged = []
    for raw in state.paged_user_ids:
        user = people_repo.find_user(tx, uuid.UUID(raw))
        if user is not None:
            paged.append(Named(id=user.id, name=user.name))
    return EscalationOut(
        policy_name=state.policy_name,
        status=state.status,
        level=min(state.level, max(levels - 1, 0)) + 1,
        levels=levels,
        loop=state.loop,
        next_step_at=state.next_step_at,
        paged=paged,
        unreachable_at=state.unreachable_at,
        unreachable=[
            CallByHand(name=str(p.get("name", "")), phones=[str(n) for n in p.get("phones", [])])
            for p in state.unreachable
        ],
    )


def alert_out(tx: Session, alert: Alert) -> AlertOut:
    number = None
    if alert.incident_id is not None:
        incident = tx.get(Incident, alert.incident_id)
        number = None if incident is None else incident.number
    return AlertOut(
        id=alert.id,
        service_id=alert.service_id,
        integration_id=alert.integration_id,
        incident_id=alert.incident_id,
        incident_number=number,
        dedup_key=alert.dedup_key,
        status=alert.status,
        priority=alert.priority,
        suppressed=alert.suppressed,
        suppressed_reason=alert.suppressed_reason,
        summary=alert.summary,
        source=alert.source,
        severity=alert.severity,
        component=alert.component,
        group=alert.event_group,
        class_=alert.event_class,
        custom_details=alert.custom_details,
        links=alert.links or [],
        images=alert.images or [],
        client=alert.client,
        client_url=alert.client_url,
        quality_flags=quality(alert.quality_flags),
        join_reason=alert.join_reason,
        event_count=alert.event_count,
        created_at=alert.created_at,
        last_seen_at=alert.last_seen_at,
        acknowledged_at=alert.acknowledged_at,
        resolved_at=alert.resolved_at,
    )


def timeline_event_out(event: IncidentEvent) -> TimelineEventOut:
    return TimelineEventOut(
        id=event.id,
        kind=event.kind,
        label=KINDS.get(event.kind, event.kind),
        at=event.at,
        actor=ActorOut(id=event.actor_id, name=event.actor_name),
        data=event.data or {},
    )


def severity_change_out(change: SeverityChange) -> SeverityChangeOut:
    return SeverityChangeOut(
        severity=severity(change.severity),
        previous=severity(change.previous),
        major=rules.is_major(change.severity),
        at=change.at,
        actor=ActorOut(id=change.actor_id, name=change.actor_name),
    )


def change_out(change: ChangeEvent) -> ChangeOut:
    return ChangeOut(
        id=change.id,
        summary=change.summary,
        source=change.source,
        custom_details=change.custom_details,
        links=change.links or [],
        at=change.at,
    )


def incident_ref(tx: Session, ref: str) -> Incident:
    """The incident a path names: ``1423``, ``#1423`` or its id (NotFound otherwise)."""
    return repo.get_incident_ref(tx, ref)
