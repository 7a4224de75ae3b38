"""Use cases of the services slice. Actions never commit; the adapter owns the transaction."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.escalation.tables import EscalationPolicy
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import Conflict, NotFound, ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people.rules import authorize
from tocsin.services import repo, rules
from tocsin.services.tables import Integration, MaintenanceWindow, Service

DEFAULT_INTEGRATION = ("events_v2", "Events API v2")


def new_routing_key() -> str:
    """32 lowercase hex characters, the length of a PagerDuty integration key."""
    return secrets.token_hex(16)


def create_service(
    tx: Session,
    *,
    name: str,
    description: str = "",
    owner_team_id: uuid.UUID | None = None,
    urgency_rule: str = "high",
    support_hours: Mapping[str, Any] | None = None,
    outside_hours: str = "low",
    ack_timeout_minutes: int | None = None,
    auto_resolve_minutes: int | None = None,
    runbook_links: Sequence[Mapping[str, str]] = (),
    grouping: Mapping[str, Any] | None = None,
    storm_threshold: int | None = 20,
    event_rules: Sequence[Mapping[str, Any]] = (),
    escalation_policy_id: uuid.UUID | None = None,
    actor: Actor,
    now: datetime,
) -> Service:
    """Create a service with one Events API v2 integration (its routing key is new).

    Everything is validated before anything is written. Raises Conflict
    ``service.name_taken`` (field ``name``) for a duplicate name in any case, and
    ValidationFailed with field paths (``support_hours.windows[0].end``) otherwise.
    """
    authorize(actor, "services.write")
    name = rules.check_name(name)
    values = _checked(
        tx,
        description=description,
        owner_team_id=owner_team_id,
        urgency_rule=urgency_rule,
        support_hours=support_hours,
        outside_hours=outside_hours,
        ack_timeout_minutes=ack_timeout_minutes,
        auto_resolve_minutes=auto_resolve_minutes,
        runbook_links=list(runbook_links),
        grouping=grouping,
        storm_threshold=storm_threshold,
        event_rules=list(event_rules),
    )
    _check_policy(tx, escalation_policy_id)
    if repo.find_service_by_name(tx, name) is not None:
        raise Conflict("service.name_taken", f"A service named {name} already exists.", "name")
    service = Service(
        name=name,
        created_at=now,
        updated_at=now,
        escalation_policy_id=escalation_policy_id,
        **values,
    )
    kind, integration_name = DEFAULT_INTEGRATION
    service.integrations.append(
        Integration(kind=kind, name=integration_name, routing_key=new_routing_key(), created_at=now)
    )
    tx.add(service)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="service.created",
        subject_type="service",
        subject_id=service.id,
        at=now,
        data={"name": name, "urgency_rule": service.urgency_rule},
    )
    return service


_UNSET: Any = object()


def _check_policy(tx: Session, policy_id: uuid.UUID | None) -> None:
    if policy_id is not None and tx.get(EscalationPolicy, policy_id) is None:
        raise ValidationFailed.one("escalation_policy_id", "No escalation policy with this id.")


def update_service(
    tx: Session,
    *,
    service_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    name: str | None = None,
    description: str | None = None,
    owner_team_id: uuid.UUID | None = _UNSET,
    urgency_rule: str | None = None,
    support_hours: Mapping[str, Any] | None = _UNSET,
    outside_hours: str | None = None,
    ack_timeout_minutes: int | None = _UNSET,
    auto_resolve_minutes: int | None = _UNSET,
    runbook_links: Sequence[Mapping[str, str]] | None = None,
    grouping: Mapping[str, Any] | None = None,
    storm_threshold: int | None = _UNSET,
    event_rules: Sequence[Mapping[str, Any]] | None = None,
    escalation_policy_id: uuid.UUID | None = _UNSET,
) -> Service:
    """Change a service; arguments left out keep their value (None clears nullable ones).

    The result is validated as a whole (switching to ``support_hours`` needs hours)
    before anything changes. Safe to call twice: an unchanged value records nothing.
    """
    authorize(actor, "services.write")
    service = repo.get_service(tx, service_id)
    current = {
        "description": service.description,
        "owner_team_id": service.owner_team_id,
        "urgency_rule": service.urgency_rule,
        "support_hours": service.support_hours,
        "outside_hours": service.outside_hours,
        "ack_timeout_minutes": service.ack_timeout_minutes,
        "auto_resolve_minutes": service.auto_resolve_minutes,
        "runbook_links": service.runbook_links,
        "grouping": service.grouping,
        "storm_threshold": service.storm_threshold,
        "event_rules": service.event_rules,
    }
    asked: dict[str, Any] = {
        "description": description,
        "owner_team_id": owner_team_id,
        "urgency_rule": urgency_rule,
        "support_hours": support_hours,
        "outside_hours": outside_hours,
        "ack_timeout_minutes": ack_timeout_minutes,
        "auto_resolve_minutes": auto_resolve_minutes,
        "runbook_links": None if runbook_links is None else list(runbook_links),
        "grouping": grouping,
        "storm_threshold": storm_threshold,
        "event_rules": None if event_rules is None else list(event_rules),
    }
    nullable = {
        "owner_team_id",
        "support_hours",
        "ack_timeout_minutes",
        "auto_resolve_minutes",
        "storm_threshold",
    }
    merged: dict[str, Any] = {
        key: (current[key] if (value is _UNSET if key in nullable else value is None) else value)
        for key, value in asked.items()
    }
    values = _checked(tx, **merged)
    changed = [key for key, value in values.items() if value != current[key]]
    if escalation_policy_id is not _UNSET and escalation_policy_id != service.escalation_policy_id:
        _check_policy(tx, escalation_policy_id)
        service.escalation_policy_id = escalation_policy_id
        changed.append("escalation_policy_id")
    if name is not None and name.strip() != service.name:
        new_name = rules.check_name(name)
        other = repo.find_service_by_name(tx, new_name)
        if other is not None and other.id != service.id:
            raise Conflict(
                "service.name_taken", f"A service named {new_name} already exists.", "name"
            )
        service.name = new_name
        changed.insert(0, "name")
    for key in changed:
        if key not in ("name", "escalation_policy_id"):
            setattr(service, key, values[key])
    if changed:
        service.updated_at = now
        tx.flush()
        audit.record(
            tx,
            actor=actor,
            kind="service.updated",
            subject_type="service",
            subject_id=service.id,
            at=now,
            data={"changed": changed},
        )
    return service


def add_integration(
    tx: Session, *, service_id: uuid.UUID, kind: str, name: str, actor: Actor, now: datetime
) -> Integration:
    """Add an integration with a new routing key to a service."""
    authorize(actor, "services.write")
    service = repo.get_service(tx, service_id)
    rules.check_choice(kind, rules.INTEGRATION_KINDS, "kind")
    name = name.strip()
    if not name or len(name) > rules.NAME_MAX:
        raise ValidationFailed.one("name", f"Give a name of 1 to {rules.NAME_MAX} characters.")
    integration = Integration(
        service_id=service.id,
        kind=kind,
        name=name,
        routing_key=new_routing_key(),
        created_at=now,
    )
    tx.add(integration)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="integration.created",
        subject_type="service",
        subject_id=service.id,
        at=now,
        data={"integration_id": str(integration.id), "kind": kind},
    )
    return integration


def _checked(
    tx: Session,
    *,
    description: str,
    owner_team_id: uuid.UUID | None,
    urgency_rule: str,
    support_hours: Mapping[str, Any] | None,
    outside_hours: str,
    ack_timeout_minutes: int | None,
    auto_resolve_minutes: int | None,
    runbook_links: list[Mapping[str, str]] | list[dict[str, str]],
    grouping: Mapping[str, Any] | None,
    storm_threshold: int | None,
    event_rules: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Validate every setting of a service; support hours are required by their rule."""
    rules.check_choice(urgency_rule, rules.URGENCY_RULES, "urgency_rule")
    rules.check_choice(outside_hours, rules.OUTSIDE_HOURS, "outside_hours")
    hours = None if support_hours is None else rules.check_support_hours(support_hours)
    if urgency_rule == "support_hours" and hours is None:
        raise ValidationFailed.one(
            "support_hours", "The support_hours urgency rule needs support hours."
        )
    if owner_team_id is not None:
        try:
            people_repo.get_team(tx, owner_team_id)
        except NotFound:
            raise ValidationFailed.one("owner_team_id", f"No team {owner_team_id}.") from None
    return {
        "description": rules.check_description(description),
        "owner_team_id": owner_team_id,
        "urgency_rule": urgency_rule,
        "support_hours": hours,
        "outside_hours": outside_hours,
        "ack_timeout_minutes": rules.check_minutes(
            ack_timeout_minutes, rules.ACK_TIMEOUT_RANGE, "ack_timeout_minutes"
        ),
        "auto_resolve_minutes": rules.check_minutes(
            auto_resolve_minutes, rules.AUTO_RESOLVE_RANGE, "auto_resolve_minutes"
        ),
        "runbook_links": rules.check_runbook_links(runbook_links),
        "grouping": rules.check_grouping(None if grouping is None else dict(grouping)),
        "storm_threshold": rules.check_storm_threshold(storm_threshold),
        "event_rules": rules.check_event_rules(list(event_rules)),
    }


MAINTENANCE_MAX = timedelta(days=30)
REASON_MAX = 500


def add_maintenance_window(
    tx: Session,
    *,
    service_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    reason: str = "",
    actor: Actor,
    now: datetime,
) -> MaintenanceWindow:
    """During the window events are recorded (suppressed) and nobody is paged."""
    authorize(actor, "services.write")
    service = repo.get_service(tx, service_id)
    if start_at.tzinfo is None or end_at.tzinfo is None:
        raise ValidationFailed.one("start_at", "Give times with a zone (UTC offset).")
    if end_at <= start_at:
        raise ValidationFailed.one("end_at", "The window must end after it starts.")
    if end_at <= now:
        raise ValidationFailed.one("end_at", "The window must end in the future.")
    if end_at - start_at > MAINTENANCE_MAX:
        raise ValidationFailed.one("end_at", "A maintenance window lasts at most 30 days.")
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed.one("reason", f"At most {REASON_MAX} characters.")
    window = MaintenanceWindow(
        service_id=service.id,
        start_at=start_at,
        end_at=end_at,
        reason=reason,
        created_by_id=actor.user_id,
        created_at=now,
    )
    tx.add(window)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="maintenance.created",
        subject_type="service",
        subject_id=service.id,
        at=now,
        data={"start_at": start_at.isoformat(), "end_at": end_at.isoformat()},
    )
    return window


def end_maintenance_window(
    tx: Session, *, window_id: uuid.UUID, actor: Actor, now: datetime
) -> MaintenanceWindow:
    """End a window now (or cancel a future one). Safe to call twice."""
    authorize(actor, "services.write")
    window = tx.get(MaintenanceWindow, window_id)
    if window is None:
        raise NotFound("maintenance window", window_id)
    if window.end_at <= now:
        return window
    window.end_at = max(now, window.start_at)
    audit.record(
        tx,
        actor=actor,
        kind="maintenance.ended",
        subject_type="service",
        subject_id=window.service_id,
        at=now,
        data={"window_id": str(window.id)},
    )
    return window
