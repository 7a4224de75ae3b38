"""Queries of the incidents slice: ``get_*`` raise NotFound, ``find_*`` return None."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from tocsin.kernel.errors import NotFound

from .tables import Alert, ChangeEvent, InboundEvent, Incident, IncidentEvent, SeverityChange


def get_incident(tx: Session, incident_id: uuid.UUID) -> Incident:
    incident = tx.get(Incident, incident_id)
    if incident is None:
        raise NotFound("incident", incident_id)
    return incident


def find_incident_by_number(tx: Session, number: int) -> Incident | None:
    return tx.execute(select(Incident).where(Incident.number == number)).scalar_one_or_none()


def get_incident_by_number(tx: Session, number: int) -> Incident:
    incident = find_incident_by_number(tx, number)
    if incident is None:
        raise NotFound("incident", f"#{number}")
    return incident


def get_incident_ref(tx: Session, ref: str) -> Incident:
    """An incident by number (``1423`` or ``#1423``) or by id, as people and scripts name it."""
    text = ref.strip().lstrip("#")
    # ASCII digits only ("²".isdigit() is true), within the INTEGER column's range.
    if text.isascii() and text.isdigit():
        if len(text) > 9:
            raise NotFound("incident", ref)
        return get_incident_by_number(tx, int(text))
    try:
        return get_incident(tx, uuid.UUID(text))
    except ValueError:
        raise NotFound("incident", ref) from None


def get_alert(tx: Session, alert_id: uuid.UUID) -> Alert:
    alert = tx.get(Alert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    return alert


def find_open_alert(tx: Session, service_id: uuid.UUID, dedup_key: str) -> Alert | None:
    return tx.execute(
        select(Alert).where(Alert.service_id == service_id, Alert.open_key == dedup_key)
    ).scalar_one_or_none()


def open_alert_count(tx: Session, incident_id: uuid.UUID) -> int:
    return int(
        tx.execute(
            select(func.count())
            .select_from(Alert)
            .where(Alert.incident_id == incident_id, Alert.open_key.is_not(None))
        ).scalar_one()
    )


def open_alert_ids(tx: Session, incident_id: uuid.UUID) -> Sequence[uuid.UUID]:
    return (
        tx.execute(
            select(Alert.id).where(Alert.incident_id == incident_id, Alert.open_key.is_not(None))
        )
        .scalars()
        .all()
    )


def incident_times_since(tx: Session, service_id: uuid.UUID, since: datetime) -> Sequence[datetime]:
    """When the service's incidents of the last while opened (storm protection counts them)."""
    return (
        tx.execute(
            select(Incident.created_at).where(
                Incident.service_id == service_id, Incident.created_at >= since
            )
        )
        .scalars()
        .all()
    )


def open_groupable(tx: Session, service_id: uuid.UUID, since: datetime) -> Sequence[Incident]:
    """Open incidents of a service that alerts may still join (grouped or storm)."""
    return (
        tx.execute(
            select(Incident).where(
                Incident.service_id == service_id,
                Incident.status != "resolved",
                Incident.parent_id.is_(None),
                or_(Incident.storm.is_(True), Incident.group_key.is_not(None)),
                or_(Incident.storm.is_(True), Incident.created_at >= since),
            )
        )
        .scalars()
        .all()
    )


def incidents_opened_since(tx: Session, service_id: uuid.UUID, since: datetime) -> int:
    return int(
        tx.execute(
            select(func.count())
            .select_from(Incident)
            .where(Incident.service_id == service_id, Incident.created_at >= since)
        ).scalar_one()
    )


def pending_events(tx: Session, limit: int) -> Sequence[InboundEvent]:
    return (
        tx.execute(
            select(InboundEvent)
            .where(InboundEvent.processed_at.is_(None))
            .order_by(InboundEvent.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def pending_event_count(tx: Session) -> int:
    return int(
        tx.execute(
            select(func.count())
            .select_from(InboundEvent)
            .where(InboundEvent.processed_at.is_(None))
        ).scalar_one()
    )


@dataclass(frozen=True)
class IncidentFilter:
    statuses: tuple[str, ...] = ()
    service_id: uuid.UUID | None = None
    severity: int | None = None
    urgency: str | None = None
    assignee_id: uuid.UUID | None = None
    major_only: bool = False


def _conditions(f: IncidentFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.statuses:
        conditions.append(Incident.status.in_(f.statuses))
    if f.service_id is not None:
        conditions.append(Incident.service_id == f.service_id)
    if f.severity is not None:
        conditions.append(Incident.severity == f.severity)
    if f.urgency is not None:
        conditions.append(Incident.urgency == f.urgency)
    if f.assignee_id is not None:
        conditions.append(Incident.assignee_id == f.assignee_id)
    if f.major_only:
        conditions.append(and_(Incident.severity.is_not(None), Incident.severity <= 2))
    return conditions


def list_incidents(
    tx: Session, *, filter: IncidentFilter, limit: int, before: uuid.UUID | None = None
) -> Sequence[Incident]:
    """Newest first; ``before`` is the id of the last row of the previous page."""
    query = select(Incident).where(*_conditions(filter))
    if before is not None:
        query = query.where(Incident.id < before)
    return tx.execute(query.order_by(Incident.id.desc()).limit(limit)).scalars().all()


def count_incidents(tx: Session, *, filter: IncidentFilter) -> int:
    return int(
        tx.execute(
            select(func.count()).select_from(Incident).where(*_conditions(filter))
        ).scalar_one()
    )


def list_alerts(
    tx: Session,
    *,
    limit: int,
    before: uuid.UUID | None = None,
    service_id: uuid.UUID | None = None,
    incident_id: uuid.UUID | None = None,
    status: str | None = None,
    suppressed: bool | None = None,
) -> Sequence[Alert]:
    query = select(Alert)
    if service_id is not None:
        query = query.where(Alert.service_id == service_id)
    if incident_id is not None:
        query = query.where(Alert.incident_id == incident_id)
    if status is not None:
        query = query.where(Alert.status == status)
    if suppressed is not None:
        query = query.where(Alert.suppressed.is_(suppressed))
    if before is not None:
        query = query.where(Alert.id < before)
    return tx.execute(query.order_by(Alert.id.desc()).limit(limit)).scalars().all()


def timeline(
    tx: Session, incident_id: uuid.UUID, *, limit: int = 500, after: uuid.UUID | None = None
) -> Sequence[IncidentEvent]:
    """Oldest first (a timeline reads forward); ``after`` pages on."""
    query = select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
    if after is not None:
        query = query.where(IncidentEvent.id > after)
    return tx.execute(query.order_by(IncidentEvent.id).limit(limit)).scalars().all()


def change_marker(tx: Session) -> str:
    """Changes whenever any incident changes: every change appends a timeline event."""
    # ORDER BY ... LIMIT 1 rather than max(): PostgreSQL has no max(uuid); both read the index.
    newest = tx.execute(
        select(IncidentEvent.id).order_by(IncidentEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return "" if newest is None else str(newest)


def severity_history(tx: Session, incident_id: uuid.UUID) -> Sequence[SeverityChange]:
    return (
        tx.execute(
            select(SeverityChange)
            .where(SeverityChange.incident_id == incident_id)
            .order_by(SeverityChange.at, SeverityChange.id)
        )
        .scalars()
        .all()
    )


def children(tx: Session, incident_id: uuid.UUID) -> Sequence[Incident]:
    return (
        tx.execute(select(Incident).where(Incident.parent_id == incident_id).order_by(Incident.id))
        .scalars()
        .all()
    )


def context_for(
    tx: Session, service_id: uuid.UUID, around: datetime, *, hours: int = 24, limit: int = 20
) -> tuple[Sequence[Alert], Sequence[ChangeEvent]]:
    """Suppressed events and changes on a service in the hours before ``around``."""
    since = around - timedelta(hours=hours)
    suppressed = (
        tx.execute(
            select(Alert)
            .where(
                Alert.service_id == service_id,
                Alert.suppressed.is_(True),
                Alert.last_seen_at >= since,
                Alert.created_at <= around,
            )
            .order_by(Alert.last_seen_at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    changes = (
        tx.execute(
            select(ChangeEvent)
            .where(
                ChangeEvent.service_id == service_id,
                ChangeEvent.at >= since,
                ChangeEvent.at <= around,
            )
            .order_by(ChangeEvent.at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return suppressed, changes


def quality_counts(tx: Session, service_id: uuid.UUID, since: datetime) -> tuple[int, int]:
    """(alerts with at least one quality flag, all alerts) on a service since ``since``."""
    rows = tx.execute(
        select(Alert.quality_flags).where(Alert.service_id == service_id, Alert.created_at >= since)
    ).all()
    flagged = sum(1 for (flags,) in rows if flags)
    return flagged, len(rows)


def quality_breakdown(tx: Session, service_id: uuid.UUID, since: datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    for (flags,) in tx.execute(
        select(Alert.quality_flags).where(Alert.service_id == service_id, Alert.created_at >= since)
    ).all():
        for flag in flags or []:
            counts[flag] = counts.get(flag, 0) + 1
    return counts


def due_incidents(tx: Session, now: datetime, limit: int) -> Sequence[Incident]:
    """Open incidents with a timer that has passed (ack timeout, snooze, auto-resolve, hold)."""
    return (
        tx.execute(
            select(Incident)
            .where(
                Incident.status != "resolved",
                or_(
                    Incident.ack_deadline_at <= now,
                    Incident.snoozed_until <= now,
                    Incident.auto_resolve_at <= now,
                    Incident.held_until <= now,
                ),
            )
            .order_by(Incident.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
