"""Accepting events (durably, before the 202) and turning them into alerts and incidents.

``accept_events`` is all a request handler does: one multi-row INSERT, many
requests per commit. ``process_pending`` runs in the engine, in order of
arrival, and applies deduplication, maintenance, event rules, priority,
grouping and storm protection in the same transaction that marks each event
processed, so a crash at any point either redoes an event or has fully done it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from tocsin.kernel.actor import Actor
from tocsin.kernel.ids import new_id
from tocsin.services import rules as service_rules
from tocsin.services.tables import Integration, MaintenanceWindow, Service

from . import repo, rules
from .events import Event
from .tables import Alert, ChangeEvent, InboundEvent, Incident
from .timeline import append
from .transitions import acknowledge_from_source, alert_data, close_incident, open_incident

INBOUND = Table("inbound_events", InboundEvent.metadata, extend_existing=True)


@dataclass(frozen=True, slots=True)
class Accepted:
    """An event that passed validation, addressed to a service through an integration."""

    service_id: uuid.UUID
    integration_id: uuid.UUID | None
    kind: str
    event: Event


def accept_events(tx: Session, *, items: Sequence[Accepted], now: datetime) -> int:
    """Store accepted events for processing; the caller commits before answering 202.

    One INSERT statement for the whole batch (group commit). Never fails on content:
    everything was validated before; a failure here is the database's.
    """
    if not items:
        return 0
    # Core INSERT on the session's connection: the ORM's bulk path costs more per row.
    tx.connection().execute(
        insert(INBOUND),
        [
            {
                "id": new_id(),
                "service_id": item.service_id,
                "integration_id": item.integration_id,
                "kind": item.kind,
                "body": item.event.to_json(),
                "received_at": now,
                "processed_at": None,
                "outcome": None,
            }
            for item in items
        ],
    )
    return len(items)


def purge_processed(tx: Session, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` accepted events processed before ``before``; returns how many."""
    ids = (
        tx.execute(
            select(InboundEvent.id)
            .where(InboundEvent.processed_at.is_not(None), InboundEvent.processed_at < before)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    if ids:
        tx.execute(delete(InboundEvent).where(InboundEvent.id.in_(ids)))
    return len(ids)


def process_pending(tx: Session, *, now: datetime, limit: int = 200) -> int:
    """Process up to ``limit`` accepted events in arrival order; returns how many.

    The batch reads what it needs up front (the open alerts its dedup keys name, each
    service's open groupable incidents and recent incident count), keeps that state in
    memory while it goes, and writes everything in one flush at the end: a few
    statements per batch instead of ten per event.
    """
    rows = repo.pending_events(tx, limit)
    if not rows:
        return 0
    views: dict[uuid.UUID, _ServiceView] = {}
    with tx.no_autoflush:
        keys: dict[uuid.UUID, set[str]] = {}
        events: list[Event] = []
        for row in rows:
            event = Event.from_json(row.body)
            events.append(event)
            if event.dedup_key is not None:
                keys.setdefault(row.service_id, set()).add(event.dedup_key)
        for service_id in {row.service_id for row in rows}:
            views[service_id] = _ServiceView.load(tx, service_id, keys.get(service_id, set()), now)
        for row, event in zip(rows, events, strict=True):
            row.outcome = _process_one(tx, row, event, views[row.service_id], now)[:200]
            row.processed_at = now
    tx.flush()
    return len(rows)


PREFETCH_CHUNK = 500


@dataclass
class _ServiceView:
    """One service's state for a batch: read once, then kept current in memory."""

    service: Service
    maintenance: MaintenanceWindow | None
    integrations: dict[uuid.UUID, str]
    open_alerts: dict[str, Alert]
    groupable: list[Incident]
    recent_incidents: list[datetime]
    resolved_in_batch: set[uuid.UUID]

    @classmethod
    def load(
        cls, tx: Session, service_id: uuid.UUID, keys: set[str], now: datetime
    ) -> _ServiceView:
        service = tx.get(Service, service_id)
        assert service is not None  # inbound events cascade with their service
        maintenance = tx.execute(
            select(MaintenanceWindow)
            .where(
                MaintenanceWindow.service_id == service_id,
                MaintenanceWindow.start_at <= now,
                MaintenanceWindow.end_at > now,
            )
            .limit(1)
        ).scalar_one_or_none()
        names = {
            integration_id: name
            for integration_id, name in tx.execute(
                select(Integration.id, Integration.name).where(Integration.service_id == service_id)
            ).all()
        }
        ordered = sorted(keys)
        open_alerts: dict[str, Alert] = {}
        for start in range(0, len(ordered), PREFETCH_CHUNK):
            chunk = ordered[start : start + PREFETCH_CHUNK]
            for alert in tx.execute(
                select(Alert).where(Alert.service_id == service_id, Alert.open_key.in_(chunk))
            ).scalars():
                assert alert.open_key is not None
                open_alerts[alert.open_key] = alert
        grouping = service.grouping or {"mode": "none"}
        window = timedelta(minutes=int(grouping.get("window_minutes", 10)))
        groupable = list(repo.open_groupable(tx, service_id, now - window))
        recent = (
            list(repo.incident_times_since(tx, service_id, now - rules.STORM_WINDOW))
            if service.storm_threshold is not None
            else []
        )
        return cls(
            service=service,
            maintenance=maintenance,
            integrations=names,
            open_alerts=open_alerts,
            groupable=groupable,
            recent_incidents=recent,
            resolved_in_batch=set(),
        )

    def actor(self, integration_id: uuid.UUID | None) -> Actor:
        name = self.integrations.get(integration_id) if integration_id else None
        return Actor.system(name=f"{name or 'integration'} ({self.service.name})", via="engine")


def _process_one(
    tx: Session, row: InboundEvent, event: Event, view: _ServiceView, now: datetime
) -> str:
    if event.action == "change":
        tx.add(
            ChangeEvent(
                service_id=row.service_id,
                summary=event.summary,
                source=event.source,
                custom_details=event.custom_details,
                links=event.links,
                at=event.timestamp or row.received_at,
                received_at=row.received_at,
            )
        )
        return "change recorded"
    assert event.dedup_key is not None  # the parsers guarantee one for alert events
    alert = view.open_alerts.get(event.dedup_key)
    actor = view.actor(row.integration_id)
    if event.action == "trigger":
        if alert is not None:
            alert.event_count += 1
            alert.last_seen_at = row.received_at
            return f"deduplicated into alert {alert.id}"
        return _new_alert(tx, row, event, view, actor, now)
    if alert is None:
        return f"no open alert for dedup key; {event.action} ignored"
    if event.action == "acknowledge":
        if alert.status == "triggered":
            alert.status = "acknowledged"
            alert.acknowledged_at = now
            if alert.incident_id is not None:
                acknowledge_from_source(tx, alert.incident_id, actor, now)
        return f"alert {alert.id} acknowledged"
    alert.status = "resolved"
    alert.open_key = None
    alert.resolved_at = now
    del view.open_alerts[event.dedup_key]
    view.resolved_in_batch.add(alert.id)
    if alert.incident_id is not None:
        _maybe_resolve_from_source(tx, alert, view, actor, now)
    return f"alert {alert.id} resolved"


def _priority(view: _ServiceView, severity: str, now: datetime) -> tuple[str, datetime | None]:
    service = view.service
    in_hours = (
        service_rules.in_support_hours(service.support_hours, now)
        if service.support_hours
        else True
    )
    urgency = service_rules.urgency_for(
        service.urgency_rule, severity, in_hours, service.outside_hours
    )
    if urgency == "held":
        assert service.support_hours is not None
        return "medium", service_rules.next_support_start(service.support_hours, now)
    if service.urgency_rule == "support_hours":
        return ("medium" if urgency == "high" else "low"), None
    return urgency, None


def _new_alert(
    tx: Session, row: InboundEvent, event: Event, view: _ServiceView, actor: Actor, now: datetime
) -> str:
    service = view.service
    outcome = rules.apply_event_rules(service.event_rules or [], event)
    severity = outcome.severity or event.severity
    priority, held_until = _priority(view, severity, now)
    if outcome.priority is not None:
        priority = outcome.priority
        held_until = None
    suppressed_reason = None
    if view.maintenance is not None:
        reason = view.maintenance.reason or "no reason given"
        suppressed_reason = (
            f"Maintenance window until {view.maintenance.end_at:%Y-%m-%d %H:%M} UTC ({reason})"
        )
    elif outcome.suppress or priority == "notification":
        suppressed_reason = (
            f"Event rule {outcome.rule_index + 1} suppresses it"
            if outcome.rule_index is not None
            else "Priority notification: recorded, never pages"
        )
        priority = "notification"
    alert = Alert(
        id=new_id(),
        service_id=row.service_id,
        integration_id=row.integration_id,
        dedup_key=event.dedup_key,
        open_key=event.dedup_key,
        status="triggered",
        priority=priority,
        suppressed=suppressed_reason is not None,
        suppressed_reason=suppressed_reason,
        summary=event.summary,
        source=event.source,
        severity=severity,
        component=event.component,
        event_group=event.group,
        event_class=event.class_,
        custom_details=event.custom_details,
        links=event.links,
        images=event.images,
        client=event.client,
        client_url=event.client_url,
        quality_flags=list(
            rules.quality_flags(event, service_runbooks=bool(service.runbook_links))
        ),
        join_reason="",
        event_count=1,
        source_time_at=event.timestamp,
        created_at=row.received_at,
        last_seen_at=row.received_at,
    )
    tx.add(alert)
    assert event.dedup_key is not None
    view.open_alerts[event.dedup_key] = alert
    if suppressed_reason is not None:
        alert.join_reason = f"Suppressed: {suppressed_reason}."
        return f"suppressed alert {alert.id}"
    _place(tx, alert, event, view, actor, held_until, now)
    return f"alert {alert.id} on incident {alert.incident_id}"


def _place(
    tx: Session,
    alert: Alert,
    event: Event,
    view: _ServiceView,
    actor: Actor,
    held_until: datetime | None,
    now: datetime,
) -> None:
    service = view.service
    grouping = service.grouping or {"mode": "none"}
    key = rules.group_key(grouping, event)
    candidates = [
        rules.OpenGroup(
            incident_id=incident.id,
            number=incident.number,
            group_key=incident.group_key,
            created_at=incident.created_at,
            storm=incident.storm,
        )
        for incident in view.groupable
        if incident.status != "resolved"
    ]
    since = now - rules.STORM_WINDOW
    recent = sum(1 for at in view.recent_incidents if at >= since)
    placement = rules.place_alert(
        grouping=grouping,
        key=key,
        candidates=candidates,
        new_incidents_last_minute=recent,
        storm_threshold=service.storm_threshold,
        now=now,
    )
    alert.join_reason = placement.reason
    if placement.join is not None:
        incident = next(i for i in view.groupable if i.id == placement.join.incident_id)
        alert.incident_id = incident.id
        incident.alert_count += 1
        incident.last_alert_at = now
        incident.updated_at = now
        if incident.storm:
            incident.title = rules.storm_title(incident.title, incident.alert_count)
        if service.auto_resolve_minutes is not None:
            incident.auto_resolve_at = rules.auto_resolve_at(now, service.auto_resolve_minutes)
        if not incident.storm or rules.storm_join_is_noted(incident.alert_count):
            data = alert_data(alert, placement.reason)
            data["alert_count"] = incident.alert_count
            append(tx, incident, kind="alert.joined", actor=actor, at=now, data=data)
        return
    incident = open_incident(
        tx,
        service=service,
        title=rules.title_for(event.summary, 1, placement.storm),
        description=_description(event),
        urgency="high" if alert.priority in ("high", "medium") and held_until is None else "low",
        priority=alert.priority,
        held_until=held_until,
        group_key=None if placement.storm else key,
        storm=placement.storm,
        actor=actor,
        now=now,
        first_alert=alert,
        reason=placement.reason,
    )
    alert.incident_id = incident.id
    view.recent_incidents.append(now)
    if incident.storm or incident.group_key is not None:
        view.groupable.append(incident)


def _description(event: Event) -> str:
    details = event.custom_details
    if isinstance(details, dict) and isinstance(details.get("description"), str):
        return str(details["description"])[:10_000]
    return ""


def _maybe_resolve_from_source(
    tx: Session, alert: Alert, view: _ServiceView, actor: Actor, now: datetime
) -> None:
    """Auto-resolve when the source resolves: the incident resolves with its last open alert."""
    assert alert.incident_id is not None
    incident = repo.get_incident(tx, alert.incident_id)
    append(
        tx,
        incident,
        kind="alert.resolved",
        actor=actor,
        at=now,
        data={"alert_id": str(alert.id), "summary": alert.summary},
    )
    if incident.status == "resolved":
        return
    # The database does not see this batch's resolutions yet (one flush at the end).
    still_open = (set(repo.open_alert_ids(tx, incident.id)) - view.resolved_in_batch) | {
        a.id for a in view.open_alerts.values() if a.incident_id == incident.id
    }
    if still_open:
        return
    close_incident(tx, incident, actor=actor, now=now, why="The source resolved every alert.")
