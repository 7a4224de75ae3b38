"""Queries of the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from tocsin.kernel.actor import Actor
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


# Roles that read the whole outbound log; everyone else sees only messages sent to them.
SEES_ALL_MESSAGES: Final = frozenset({"admin", "manager"})


def may_see(actor: Actor, message: OutboundMessage) -> bool:
    """Whether ``actor`` may read ``message`` (the same rule as ``visible_to``)."""
    if actor.role in SEES_ALL_MESSAGES:
        return True
    return actor.user_id is not None and message.user_id == actor.user_id


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The SQL filter for the messages ``actor`` may read."""
    if actor.role in SEES_ALL_MESSAGES:
        return true()
    if actor.user_id is None:
        return false()
    return OutboundMessage.user_id == actor.user_id


def list_visible_messages(
    tx: Session,
    *,
    actor: Actor,
    limit: int = 50,
    before: uuid.UUID | None = None,
    status: str | None = None,
) -> Sequence[OutboundMessage]:
    """Newest first, only what ``actor`` may read; ``before`` as in ``list_messages``."""
    stmt = (
        select(OutboundMessage)
        .where(visible_to(actor))
        .order_by(OutboundMessage.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(OutboundMessage.id < before)
    if status:
        stmt = stmt.where(OutboundMessage.status == status)
    return tx.execute(stmt).scalars().all()


def get_visible_message(tx: Session, message_id: uuid.UUID, actor: Actor) -> OutboundMessage:
    """A message ``actor`` may read; one they may not is NotFound, so ids reveal nothing."""
    message = tx.get(OutboundMessage, message_id)
    if message is None or not may_see(actor, message):
        raise NotFound("message", message_id)
    return message


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
