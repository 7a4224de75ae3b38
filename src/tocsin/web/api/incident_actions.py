"""Incident lifecycle over the API: acknowledge, resolve, reassign, snooze, note, set, merge.

Each route names the incident by number or id, calls one action in one transaction and
answers the incident as it now is; the engine is woken after the commit.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tocsin.incidents import actions
from tocsin.incidents.tables import Incident
from tocsin.kernel.errors import NotFound, ValidationFailed
from tocsin.web.api.incident_schemas import (
    IncidentOut,
    MergeBody,
    NoteBody,
    PriorityBody,
    ReassignBody,
    ResolveBody,
    SeverityBody,
    SnoozeBody,
    UrgencyBody,
)
from tocsin.web.api.incident_views import incident_out, incident_ref
from tocsin.web.api.incidents import Ref
from tocsin.web.deps import AppServices, CurrentPrincipal, Services

router = APIRouter(prefix="/incidents", tags=["incidents"])


def _run(
    services: Services, ref: str, change: Callable[[Session, Incident], Incident]
) -> IncidentOut:
    with services.db.transaction() as tx:
        incident = change(tx, incident_ref(tx, ref))
        tx.flush()
        out = incident_out(tx, incident, services.settings.base_url)
    services.wake()
    return out


@router.post(
    "/{ref}/acknowledge",
    summary="Acknowledge (only the assignee; with nobody assigned, you take it)",
)
def acknowledge(ref: Ref, principal: CurrentPrincipal, services: AppServices) -> IncidentOut:
    now = services.clock.now()
    return _run(
        services,
        ref,
        lambda tx, i: actions.acknowledge_incident(
            tx, incident_id=i.id, actor=principal.actor, now=now
        ),
    )


@router.post("/{ref}/resolve", summary="Resolve, with its alerts and merged incidents")
def resolve(
    ref: Ref,
    principal: CurrentPrincipal,
    services: AppServices,
    body: ResolveBody | None = None,
) -> IncidentOut:
    now = services.clock.now()
    note = "" if body is None else body.note
    return _run(
        services,
        ref,
        lambda tx, i: actions.resolve_incident(
            tx, incident_id=i.id, actor=principal.actor, now=now, note=note
        ),
    )


@router.post("/{ref}/reassign", summary="Give it to someone; it triggers again for them")
def reassign(
    ref: Ref, body: ReassignBody, principal: CurrentPrincipal, services: AppServices
) -> IncidentOut:
    now = services.clock.now()
    return _run(
        services,
        ref,
        lambda tx, i: actions.reassign_incident(
            tx,
            incident_id=i.id,
            assignee_id=body.assignee_id,
            actor=principal.actor,
            now=now,
            paging_config=services.paging,
        ),
    )


@router.post("/{ref}/snooze", summary="Quiet an acknowledged incident for some minutes")
def snooze(
    ref: Ref, body: SnoozeBody, principal: CurrentPrincipal, services: AppServices
) -> IncidentOut:
    now = services.clock.now()
    return _run(
        services,
        ref,
        lambda tx, i: actions.snooze_incident(
            tx, incident_id=i.id, minutes=body.minutes, actor=principal.actor, now=now
        ),
    )


@router.post("/{ref}/notes", summary="Add a note (anyone who can read it, in any state)")
def add_note(
    ref: Ref, body: NoteBody, principal: CurrentPrincipal, services: AppServices
) -> IncidentOut:
    now = services.clock.now()
    return _run(
        services,
        ref,
        lambda tx, i: actions.add_note(
            tx, incident_id=i.id, text=body.text, actor=principal.actor, now=now
        ),
    )


@router.post("/{ref}/severity", summary="Set or clear the severity (kept in its history)")
def set_severity(
    ref: Ref, body: SeverityBody, principal: CurrentPrincipal, services: AppServices
) -> IncidentOut:
    now = services.clock.now()
    return _run(
        services,
        ref,
        lambda tx, i: actions.set_severity(
            tx, incident_id=i.id, severity=body.severity, actor=principal.actor, now=now
        ),
    )


@router.post("/{ref}/urgency", summary="Set the urgency")
def set_urgency(
    ref: Ref, body: UrgencyBody, principal: CurrentPrincipal, services: AppServices
) -> IncidentOut:
    now = services.clock.now()
    return _run(
        services,
        ref,
        lambda tx, i: actions.set_urgency(
            tx, incident_id=i.id, urgency=body.urgency, actor=principal.actor, now=now
        ),
    )


@router.post("/{ref}/priority", summary="Set or clear the priority")
def set_priority(
    ref: Ref, body: PriorityBody, principal: CurrentPrincipal, services: AppServices
) -> IncidentOut:
    now = services.clock.now()
    return _run(
        services,
        ref,
        lambda tx, i: actions.set_priority(
            tx, incident_id=i.id, priority=body.priority, actor=principal.actor, now=now
        ),
    )


@router.post("/{ref}/merge", summary="Merge incidents under this one; they resolve with it")
def merge(
    ref: Ref, body: MergeBody, principal: CurrentPrincipal, services: AppServices
) -> IncidentOut:
    now = services.clock.now()

    def change(tx: Session, primary: Incident) -> Incident:
        child_ids = []
        for index, child in enumerate(body.child_ids):
            try:
                child_ids.append(incident_ref(tx, str(child)).id)
            except NotFound:
                raise ValidationFailed.one(f"child_ids[{index}]", f"No incident {child}.") from None
        return actions.merge_incidents(
            tx, primary_id=primary.id, child_ids=child_ids, actor=principal.actor, now=now
        )

    return _run(services, ref, change)
