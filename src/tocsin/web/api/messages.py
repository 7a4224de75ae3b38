"""The outbound message log: everything for admins and managers, one's own for everyone else."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from tocsin.notifications import repo
from tocsin.notifications.tables import OutboundMessage
from tocsin.web.api import pagination
from tocsin.web.api.schemas import (
    AttemptOut,
    MessageDetail,
    MessageOut,
    MessagePage,
    MessageStatus,
)
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/messages", tags=["messages"])


def message_out(message: OutboundMessage) -> MessageOut:
    """A message with its kind, the incident it is about and how long it took to send."""
    out = MessageOut.model_validate(message)
    number = (message.context or {}).get("incident_number")
    out.incident_number = number if isinstance(number, int) else None
    if message.sent_at is not None:
        out.latency_seconds = (message.sent_at - message.created_at).total_seconds()
    return out


@router.get("", summary="Outbound messages, newest first")
def list_messages(
    principal: CurrentPrincipal,
    services: AppServices,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
    status: MessageStatus | None = None,
) -> MessagePage:
    before = pagination.decode_id(cursor)
    with services.db.read() as tx:
        messages = repo.list_visible_messages(
            tx, actor=principal.actor, limit=limit + 1, before=before, status=status
        )
        page = [message_out(m) for m in messages[:limit]]
    more = len(messages) > limit
    return MessagePage(data=page, next_cursor=pagination.encode(str(page[-1].id)) if more else None)


@router.get("/{message_id}", summary="One message with its delivery attempts")
def get_message(
    message_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> MessageDetail:
    with services.db.read() as tx:
        message = repo.get_visible_message(tx, message_id, principal.actor)
        attempts = [AttemptOut.model_validate(a) for a in repo.list_attempts(tx, message.id)]
        out = message_out(message)
        return MessageDetail(**out.model_dump(), body=message.body, attempt_log=attempts)
