"""The audit log: who changed what, newest first (admins and managers)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from tocsin.db.audit import AuditEvent
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
    # Ids are UUIDv7, so id order is insertion order (and unique, unlike ``at``).
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    with services.db.read() as tx:
        events = tx.execute(stmt).scalars().all()
        page = [AuditEventOut.model_validate(e) for e in events[:limit]]
    more = len(events) > limit
    return AuditPage(data=page, next_cursor=pagination.encode(str(page[-1].id)) if more else None)
