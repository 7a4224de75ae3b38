"""The audit log: who changed what, newest first (admins and managers)."""

from __future__ import annotations

from fastapi import APIRouter

from tocsin.db import audit
from tocsin.people import rules
from tocsin.web.api import pagination
from tocsin.web.api.schemas import AuditEventOut, AuditPage
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", summary="Audit events, newest first")
def list_audit_events(
    principal: CurrentPrincipal,
    services: AppServices,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> AuditPage:
    rules.authorize(principal.actor, "audit.read")
    before = pagination.decode_id(cursor)
    with services.db.read() as tx:
        events = audit.list_events(tx, limit=limit + 1, before=before)
        page = [AuditEventOut.model_validate(e) for e in events[:limit]]
    more = len(events) > limit
    return AuditPage(data=page, next_cursor=pagination.encode(str(page[-1].id)) if more else None)
