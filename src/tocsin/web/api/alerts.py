"""Alerts: what sources reported, deduplicated, with quality advice and join reasons."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter

from tocsin.incidents import repo
from tocsin.people.rules import authorize
from tocsin.web.api import pagination
from tocsin.web.api.incident_schemas import AlertOut, AlertPage
from tocsin.web.api.incident_views import alert_out
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", summary="Alerts, newest first, with filters and cursor pagination")
def list_alerts(
    principal: CurrentPrincipal,
    services: AppServices,
    service_id: uuid.UUID | None = None,
    status: Literal["triggered", "acknowledged", "resolved"] | None = None,
    suppressed: bool | None = None,
    incident_id: uuid.UUID | None = None,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> AlertPage:
    authorize(principal.actor, "incidents.read")
    before = pagination.decode_id(cursor)
    with services.db.read() as tx:
        found = repo.list_alerts(
            tx,
            limit=limit + 1,
            before=before,
            service_id=service_id,
            incident_id=incident_id,
            status=status,
            suppressed=suppressed,
        )
        page = [alert_out(tx, a) for a in found[:limit]]
    more = len(found) > limit
    return AlertPage(data=page, next_cursor=pagination.encode(str(page[-1].id)) if more else None)


@router.get("/{alert_id}", summary="One alert, with its quality flags and join reason")
def get_alert(alert_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices) -> AlertOut:
    authorize(principal.actor, "incidents.read")
    with services.db.read() as tx:
        return alert_out(tx, repo.get_alert(tx, alert_id))
