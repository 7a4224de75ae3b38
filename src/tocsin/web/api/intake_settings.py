"""How events reach a service: webhook mappings, maintenance, heartbeats and alert quality."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter

from tocsin.incidents import heartbeats, integrations, repo, rules
from tocsin.people.rules import authorize
from tocsin.services import actions as service_actions
from tocsin.services import repo as service_repo
from tocsin.services.endpoints import heartbeat_url
from tocsin.services.tables import Heartbeat, MaintenanceWindow
from tocsin.web.api.incident_schemas import (
    HeartbeatCreate,
    HeartbeatOut,
    MaintenanceCreate,
    MaintenanceOut,
    MappingBody,
    MappingPreviewBody,
    MappingPreviewOut,
    PreviewAlert,
    QualityCount,
    QualityOut,
    QualityWindow,
)
from tocsin.web.api.incident_views import quality
from tocsin.web.api.schemas import IntegrationOut
from tocsin.web.api.services import integration_out
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(tags=["services"])


@router.put(
    "/integrations/{integration_id}/mapping", summary="Save a generic webhook's field mapping"
)
def set_mapping(
    integration_id: uuid.UUID, body: MappingBody, principal: CurrentPrincipal, services: AppServices
) -> IntegrationOut:
    with services.db.transaction() as tx:
        integration = integrations.set_webhook_mapping(
            tx,
            integration_id=integration_id,
            mapping=body.mapping,
            actor=principal.actor,
            now=services.clock.now(),
        )
        out = integration_out(integration, services.settings.base_url)
    services.wake()
    return out


@router.post(
    "/integrations/mapping-preview",
    summary="Try a field mapping on a sample payload (writes nothing)",
)
def preview_mapping(body: MappingPreviewBody, principal: CurrentPrincipal) -> MappingPreviewOut:
    authorize(principal.actor, "services.read")
    result = integrations.preview_mapping(body.mapping, body.sample)
    event = result.event
    alert = None
    if event is not None:
        alert = PreviewAlert(
            action=event.action,
            summary=event.summary,
            source=event.source,
            severity=event.severity,
            custom_details=event.custom_details,
            links=event.links,
        )
    return MappingPreviewOut(
        ok=event is not None,
        alert=alert,
        dedup_key=None if event is None else event.dedup_key,
        errors=list(result.errors),
        quality_flags=quality(list(result.quality_flags)),
    )


def _window_out(window: MaintenanceWindow, now: datetime) -> MaintenanceOut:
    return MaintenanceOut(
        id=window.id,
        service_id=window.service_id,
        start_at=window.start_at,
        end_at=window.end_at,
        reason=window.reason,
        active=window.start_at <= now < window.end_at,
        created_by_id=window.created_by_id,
        created_at=window.created_at,
    )


@router.get(
    "/services/{service_id}/maintenance-windows",
    summary="Maintenance windows, latest start first (past ones only with include_past)",
)
def list_maintenance(
    service_id: uuid.UUID,
    principal: CurrentPrincipal,
    services: AppServices,
    include_past: bool = False,
) -> list[MaintenanceOut]:
    authorize(principal.actor, "services.read")
    now = services.clock.now()
    with services.db.read() as tx:
        service_repo.get_service(tx, service_id)
        found = service_repo.list_maintenance_windows(
            tx, service_id, current_or_future_at=None if include_past else now
        )
        return [_window_out(w, now) for w in found]


@router.post(
    "/services/{service_id}/maintenance-windows",
    status_code=201,
    summary="Plan maintenance: events are recorded, nobody is paged",
)
def add_maintenance(
    service_id: uuid.UUID,
    body: MaintenanceCreate,
    principal: CurrentPrincipal,
    services: AppServices,
) -> MaintenanceOut:
    now = services.clock.now()
    with services.db.transaction() as tx:
        window = service_actions.add_maintenance_window(
            tx,
            service_id=service_id,
            start_at=body.start_at,
            end_at=body.end_at,
            reason=body.reason,
            actor=principal.actor,
            now=now,
        )
        out = _window_out(window, now)
    services.wake()
    return out


@router.post(
    "/maintenance-windows/{window_id}/end", summary="End a window now (safe to call twice)"
)
def end_maintenance(
    window_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> MaintenanceOut:
    now = services.clock.now()
    with services.db.transaction() as tx:
        window = service_actions.end_maintenance_window(
            tx, window_id=window_id, actor=principal.actor, now=now
        )
        out = _window_out(window, now)
    services.wake()
    return out


def _heartbeat_out(beat: Heartbeat, base_url: str) -> HeartbeatOut:
    return HeartbeatOut(
        id=beat.id,
        service_id=beat.service_id,
        name=beat.name,
        interval_minutes=beat.interval_minutes,
        status=beat.status,
        last_ping_at=beat.last_ping_at,
        next_due_at=beat.next_due_at,
        ping_url=heartbeat_url(base_url, beat.ping_key),
        created_at=beat.created_at,
    )


@router.get("/services/{service_id}/heartbeats", summary="Heartbeat monitors and their ping URLs")
def list_heartbeats(
    service_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> list[HeartbeatOut]:
    authorize(principal.actor, "services.read")
    with services.db.read() as tx:
        service_repo.get_service(tx, service_id)
        found = heartbeats.list_heartbeats(tx, service_id)
        return [_heartbeat_out(b, services.settings.base_url) for b in found]


@router.post(
    "/services/{service_id}/heartbeats",
    status_code=201,
    summary="Add a heartbeat monitor: a missed ping opens an alert, the next ping resolves it",
)
def add_heartbeat(
    service_id: uuid.UUID,
    body: HeartbeatCreate,
    principal: CurrentPrincipal,
    services: AppServices,
) -> HeartbeatOut:
    with services.db.transaction() as tx:
        beat = heartbeats.create_heartbeat(
            tx,
            service_id=service_id,
            name=body.name,
            interval_minutes=body.interval_minutes,
            actor=principal.actor,
            now=services.clock.now(),
        )
        out = _heartbeat_out(beat, services.settings.base_url)
    services.wake()
    return out


@router.get("/services/{service_id}/quality", summary="Alert quality: flagged alerts per window")
def get_quality(
    service_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> QualityOut:
    authorize(principal.actor, "services.read")
    now = services.clock.now()
    with services.db.read() as tx:
        service_repo.get_service(tx, service_id)
        week = repo.quality_counts(tx, service_id, now - timedelta(days=7))
        month = repo.quality_counts(tx, service_id, now - timedelta(days=30))
        breakdown = repo.quality_breakdown(tx, service_id, now - timedelta(days=30))
    return QualityOut(
        last_7_days=QualityWindow(flagged=week[0], total=week[1]),
        last_30_days=QualityWindow(flagged=month[0], total=month[1]),
        breakdown=[
            QualityCount(flag=flag, advice=advice, count=breakdown.get(flag, 0))
            for flag, advice in rules.QUALITY_FLAGS.items()
        ],
    )
