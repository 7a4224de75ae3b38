"""Queries of the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.kernel.errors import NotFound
from tocsin.notifications.tables import MessageAttempt, OutboundMessage


def get_message(tx: Session, message_id: uuid.UUID) -> OutboundMessage:
    message = tx.get(OutboundMessage, message_id)
    if message is None:
        raise NotFound("message", message_id)
    return message


def find_message_by_dedup_key(tx: Session, dedup_key: str) -> OutboundMessage | None:
    stmt = select(OutboundMessage).where(OutboundMessage.dedup_key == dedup_key)
    return tx.execute(stmt).scalar_one_or_none()


def list_messages(
    tx: Session,
    *,
    limit: int = 50,
    before: uuid.UUID | None = None,
    status: str | None = None,
    user_id: uuid.UUID | None = None,
) -> Sequence[OutboundMessage]:
    """Newest first; ``before`` is the last id of the previous page (ids are UUIDv7)."""
    stmt = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(OutboundMessage.id < before)
    if status:
        stmt = stmt.where(OutboundMessage.status == status)
    if user_id:
        stmt = stmt.where(OutboundMessage.user_id == user_id)
    return tx.execute(stmt).scalars().all()


def list_attempts(tx: Session, message_id: uuid.UUID) -> Sequence[MessageAttempt]:
    stmt = (
        select(MessageAttempt)
        .where(MessageAttempt.message_id == message_id)
        .order_by(MessageAttempt.number)
    )
    return tx.execute(stmt).scalars().all()


def count_by_status(tx: Session) -> dict[str, int]:
    stmt = select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
    return {status: int(n) for status, n in tx.execute(stmt).all()}
