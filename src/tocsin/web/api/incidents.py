"""Incidents: list with filters, read one, trigger by hand, and read its timeline and context."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from tocsin.incidents import actions, repo, rules
from tocsin.incidents.repo import IncidentFilter
from tocsin.kernel.errors import ValidationFailed
from tocsin.people.rules import authorize
from tocsin.web.api import pagination
from tocsin.web.api.incident_schemas import (
    AlertPage,
    IncidentContext,
    IncidentCreate,
    IncidentOut,
    IncidentPage,
    SeverityChangeOut,
    TimelinePage,
    Urgency,
)
from tocsin.web.api.incident_views import (
    alert_out,
    change_out,
    incident_out,
    incident_ref,
    severity_change_out,
    timeline_event_out,
)
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/incidents", tags=["incidents"])

Ref = Annotated[str, Path(min_length=1, max_length=64, description="Number (1423 or #1423) or id.")]
StatusQuery = Annotated[
    list[Annotated[str, Query(max_length=100)]] | None,
    Query(
        max_length=10,
        description="triggered, acknowledged, resolved; repeat it or separate with commas.",
    ),
]


def _statuses(values: list[str] | None) -> tuple[str, ...]:
    wanted: list[str] = []
    for value in values or []:
        for part in value.split(","):
            status = part.strip()
            if not status:
                continue
            if status not in rules.STATUSES:
                raise ValidationFailed.one("status", "Use triggered, acknowledged or resolved.")
            wanted.append(status)
    return tuple(dict.fromkeys(wanted))


@router.get("", summary="Incidents, newest first, with filters and cursor pagination")
def list_incidents(
    principal: CurrentPrincipal,
    services: AppServices,
    status: StatusQuery = None,
    service_id: uuid.UUID | None = None,
    severity: Annotated[str | None, Query(max_length=10, description="SEV-2 or 2")] = None,
    urgency: Urgency | None = None,
    assignee_id: uuid.UUID | None = None,
    major: Annotated[bool, Query(description="Only SEV-2 and worse.")] = False,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> IncidentPage:
    authorize(principal.actor, "incidents.read")
    level = None if not severity else rules.check_severity(severity)
    chosen = IncidentFilter(
        statuses=_statuses(status),
        service_id=service_id,
        severity=level,
        urgency=urgency,
        assignee_id=assignee_id,
        major_only=major,
    )
    before = pagination.decode_id(cursor)
    base = services.settings.base_url
    with services.db.read() as tx:
        found = repo.list_incidents(tx, filter=chosen, limit=limit + 1, before=before)
        page = [incident_out(tx, i, base) for i in found[:limit]]
    more = len(found) > limit
    return IncidentPage(
        data=page, next_cursor=pagination.encode(str(page[-1].id)) if more else None
    )


@router.post("", status_code=201, summary="Trigger an incident by hand (anyone may)")
def trigger_incident(
    body: IncidentCreate, principal: CurrentPrincipal, services: AppServices
) -> IncidentOut:
    with services.db.transaction() as tx:
        incident = actions.trigger_incident(
            tx,
            title=body.title,
            service_id=body.service_id,
            description=body.description,
            urgency=body.urgency,
            severity=body.severity,
            assignee_id=body.assignee_id,
            actor=principal.actor,
            now=services.clock.now(),
        )
        tx.flush()
        out = incident_out(tx, incident, services.settings.base_url)
    services.wake()
    return out


@router.get("/{ref}", summary="One incident, by number or id")
def get_incident(ref: Ref, principal: CurrentPrincipal, services: AppServices) -> IncidentOut:
    authorize(principal.actor, "incidents.read")
    with services.db.read() as tx:
        return incident_out(tx, incident_ref(tx, ref), services.settings.base_url)


@router.get("/{ref}/timeline", summary="The timeline, oldest first, with cursor pagination")
def get_timeline(
    ref: Ref,
    principal: CurrentPrincipal,
    services: AppServices,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> TimelinePage:
    authorize(principal.actor, "incidents.read")
    after = pagination.decode_id(cursor)
    with services.db.read() as tx:
        incident = incident_ref(tx, ref)
        found = repo.timeline(tx, incident.id, limit=limit + 1, after=after)
        page = [timeline_event_out(e) for e in found[:limit]]
    more = len(found) > limit
    return TimelinePage(
        data=page, next_cursor=pagination.encode(str(page[-1].id)) if more else None
    )


@router.get("/{ref}/alerts", summary="The alerts that joined this incident, newest first")
def get_alerts(
    ref: Ref,
    principal: CurrentPrincipal,
    services: AppServices,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> AlertPage:
    authorize(principal.actor, "incidents.read")
    before = pagination.decode_id(cursor)
    with services.db.read() as tx:
        incident = incident_ref(tx, ref)
        found = repo.list_alerts(tx, limit=limit + 1, before=before, incident_id=incident.id)
        page = [alert_out(tx, a) for a in found[:limit]]
    more = len(found) > limit
    return AlertPage(data=page, next_cursor=pagination.encode(str(page[-1].id)) if more else None)


@router.get("/{ref}/severity-history", summary="Every severity change, oldest first")
def get_severity_history(
    ref: Ref, principal: CurrentPrincipal, services: AppServices
) -> list[SeverityChangeOut]:
    authorize(principal.actor, "incidents.read")
    with services.db.read() as tx:
        incident = incident_ref(tx, ref)
        return [severity_change_out(c) for c in repo.severity_history(tx, incident.id)]


@router.get(
    "/{ref}/context",
    summary="Suppressed events and changes on its service in the day before it opened",
)
def get_context(ref: Ref, principal: CurrentPrincipal, services: AppServices) -> IncidentContext:
    authorize(principal.actor, "incidents.read")
    with services.db.read() as tx:
        incident = incident_ref(tx, ref)
        if incident.service_id is None:
            return IncidentContext(suppressed_alerts=[], changes=[])
        suppressed, changes = repo.context_for(tx, incident.service_id, incident.created_at)
        return IncidentContext(
            suppressed_alerts=[alert_out(tx, a) for a in suppressed],
            changes=[change_out(c) for c in changes],
        )
